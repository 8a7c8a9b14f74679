//! Peer exchange from the app: two phones with no signal sync over a pipe the app opened between
//! them (a Bluetooth socket, Wi-Fi Direct, a cable). The app's streams block, so the pipe is two
//! blocking calls that run on threads of the library's own, pumping bytes to and from the core's
//! exchange.

use std::sync::Arc;

use gridbook_core::GridId;
use gridbook_core::sync::PeerReport as CorePeerReport;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::runtime::Handle;

use crate::error::GridbookError;
use crate::gridbook::Gridbook;

/// A byte pipe to another phone, implemented by the app over whatever connects the two. Both
/// methods may block; they are never called on the app's main thread.
#[uniffi::export(with_foreign)]
pub trait PeerPipe: Send + Sync {
    /// Up to `max` bytes from the peer, waiting for at least one; empty when the pipe is closed or
    /// failed.
    fn read(&self, max: u32) -> Vec<u8>;
    /// Sends all of `bytes`; `false` if the pipe is closed or failed.
    fn write(&self, bytes: Vec<u8>) -> bool;
}

/// What a peer exchange did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerReport {
    /// Changes this phone sent to the peer.
    pub changes_sent: u64,
    /// Changes of the peer applied here.
    pub changes_received: u64,
    /// Documents that changed here.
    pub docs_changed: u64,
    /// Bytes written to the pipe.
    pub bytes_out: u64,
    /// Bytes read from the pipe.
    pub bytes_in: u64,
    /// Documents not sent because they hold a change this phone cannot prove the author of (kept
    /// from before proofs existed): the peer gets them from the server.
    pub docs_withheld: u64,
}

impl From<CorePeerReport> for PeerReport {
    fn from(r: CorePeerReport) -> Self {
        Self {
            changes_sent: r.changes_sent as u64,
            changes_received: r.received.changes_applied as u64,
            docs_changed: r.received.docs_changed as u64,
            bytes_out: r.bytes_out,
            bytes_in: r.bytes_in,
            docs_withheld: r.docs_withheld as u64,
        }
    }
}

/// Bytes the pumps move at a time: one read of a phone's socket buffer.
const CHUNK: usize = 16 << 10;

#[uniffi::export]
impl Gridbook {
    /// Syncs with another phone over `pipe`, sharing only documents of `grids` that both phones'
    /// certificates cover (both must be enrolled). Each shows the certificate the district's server
    /// signed and proves it holds its key; every change crosses with a proof of its author. Both
    /// phones call this at the same time.
    /// Changes received reach the server with this device's next sync. Close the pipe once this
    /// returns: a read still waiting on it then ends.
    ///
    /// # Errors
    /// `Network` if the pipe closes or fails mid-way (nothing of a message cut short is applied);
    /// `Protocol` for a message that does not decode; `NotAllowed` if this store is not enrolled, if
    /// the peer's certificate is not the district server's, has expired or is shown without its key,
    /// or if the peer sends a document outside the shared grids or a change without a valid proof of
    /// its author (nothing of the exchange is applied); `Storage` if the store fails.
    pub async fn exchange_with_peer(
        &self,
        pipe: Arc<dyn PeerPipe>,
        grids: Vec<GridId>,
    ) -> Result<PeerReport, GridbookError> {
        let store = self.store.clone();
        self.on_runtime(async move {
            let (core_side, pumped) = tokio::io::duplex(CHUNK * 4);
            pump(pipe, pumped);
            store.exchange_with_peer(core_side, &grids).await.map(PeerReport::from)
        })
        .await
    }
}

/// Moves bytes between the app's pipe and `pumped` on two blocking threads. Each ends when its
/// source closes or its destination fails; a pipe that fails mid-way shows in the exchange as a
/// message cut short (a network error), and nothing of it is applied.
fn pump(pipe: Arc<dyn PeerPipe>, pumped: DuplexStream) {
    let (mut from_core, mut to_core) = tokio::io::split(pumped);
    let handle = Handle::current();
    let inbound = pipe.clone();
    let inbound_handle = handle.clone();
    tokio::task::spawn_blocking(move || {
        loop {
            let bytes = inbound.read(CHUNK as u32);
            if bytes.is_empty() || inbound_handle.block_on(to_core.write_all(&bytes)).is_err() {
                break;
            }
        }
        let _ = inbound_handle.block_on(to_core.shutdown());
    });
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0; CHUNK];
        while let Ok(n) = handle.block_on(from_core.read(&mut buf)) {
            if n == 0 || !pipe.write(buf[..n].to_vec()) {
                break;
            }
        }
    });
}
