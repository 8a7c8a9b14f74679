//! The server's settings and limits. Every input has a bound: a district engineer can raise one
//! knowingly, but nothing is unbounded by default.

use gridbook_core::sync::wire::Limits;

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
        }
    }
}
