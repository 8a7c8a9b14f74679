//! The server's settings and limits. Every input has a bound: a district engineer can raise one
//! knowingly, but nothing is unbounded by default.

use std::time::Duration;

use gridbook_core::sync::wire::{Limits, Version};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The district this server serves; tokens carry it. Lowercase letters, digits and `-`.
    pub district: String,
    /// Largest sync request body, compressed.
    pub max_body_bytes: usize,
    /// Bounds on a decoded sync message (inflated size, documents, changes, change size).
    pub wire: Limits,
    /// Largest number of operations in one change.
    pub max_ops_per_change: usize,
    /// A reply carries at most this many changes …
    pub reply_max_changes: usize,
    /// … and about this many bytes before compression; the device asks again for the rest.
    pub reply_max_bytes: usize,
    /// Largest photo accepted.
    pub max_photo_bytes: u64,
    /// Largest photo chunk accepted in one request.
    pub max_chunk_bytes: usize,
    /// Request bodies held at once, as declared before they are read; past it, `503`.
    pub request_budget_bytes: usize,
    /// Memory for requests being worked on at once (a body inflated and decoded, a reply built, a
    /// photo read); past it, requests wait their turn.
    pub work_budget_bytes: usize,
    /// Requests of one device at once; more is `429`.
    pub device_concurrency: usize,
    /// Time for a client to send a request's header once it connected (or finished the last one).
    pub header_read_timeout: Duration,
    /// Time for a request's body to arrive, once its header has: as long as a device's own client
    /// waits for a whole request, so that a slow link that would finish is never cut off.
    pub body_read_timeout: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// The oldest sync version served; an app speaking an older one is told to update (`426`). The
    /// district raises it once its apps in the field have been updated.
    pub oldest_wire: Version,
    /// The key the database is encrypted with (SQLCipher, raw key); none keeps it in plaintext.
    /// A plaintext database opened with a key is encrypted first.
    pub key: Option<gridbook_core::StoreKey>,
    /// The file of the master key that records' data keys are wrapped under (see `MasterKey`);
    /// none: `master.key` in the data directory, made on first start.
    pub master_key_file: Option<std::path::PathBuf>,
    /// Days an erasure's notice is kept for the stores to carry out; a store that has not synced
    /// for longer is told to start over from the server's copy. Notices older are dropped at start,
    /// daily and with each erasure.
    pub erasure_notice_days: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            district: "default".into(),
            max_body_bytes: 8 << 20,
            wire: Limits::default(),
            max_ops_per_change: 100_000,
            reply_max_changes: 20_000,
            reply_max_bytes: 4 << 20,
            max_photo_bytes: 10 << 20,
            max_chunk_bytes: 256 << 10,
            request_budget_bytes: 256 << 20,
            work_budget_bytes: 256 << 20,
            device_concurrency: 4,
            header_read_timeout: Duration::from_secs(20),
            body_read_timeout: Duration::from_secs(120),
            max_connections: 4096,
            oldest_wire: Version::V3,
            key: None,
            master_key_file: None,
            erasure_notice_days: 180,
        }
    }
}
