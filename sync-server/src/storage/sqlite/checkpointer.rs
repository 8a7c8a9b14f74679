//! The SQLite backend's WAL checkpoints, on a thread and a connection of their own. With SQLite's
//! default, the commit that takes the WAL past its threshold copies it into the database and fsyncs
//! it while holding the writer, and every request queued behind it waits. A passive checkpoint here
//! never blocks the writer or a reader.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use gridbook_core::at_rest::StoreKey;

use super::connection;
use crate::storage::{StorageError, StorageResult};

/// How often the checkpoint thread looks for new commits to copy into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Starts the checkpoint thread on `path`; it checkpoints whenever `commits` has grown, and stops
/// when the returned sender is dropped.
pub(super) fn spawn(path: &Path, key: Option<&StoreKey>, commits: Arc<AtomicU64>) -> StorageResult<mpsc::Sender<()>> {
    let conn = connection::connect(path, key)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let mut seen = commits.load(Ordering::Relaxed);
    std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                let now = commits.load(Ordering::Relaxed);
                if now == seen {
                    continue;
                }
                seen = now;
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                }
            }
        })
        .map_err(|e| StorageError::Backend(Box::new(e)))?;
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{Device, Role, Storage};

    #[test]
    fn commits_reach_the_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path(), "d1", None).expect("open");
        for n in 0..50u8 {
            let device = Device {
                id: format!("device-{n}"),
                name: format!("phone {n}"),
                role: Role::GridMember,
                grids: Vec::new(),
                village: None,
                department: None,
                holder: String::new(),
                created_at: 0,
                revoked_at: None,
                revoked_as: None,
            };
            storage.add_device(&device, Some(&[n; 32])).expect("device");
        }
        // Far below the writer's own threshold, so only the checkpoint thread can have copied the
        // WAL into the file: the file then holds every page of the database.
        let pages = |sql: &str| storage.read(|c| Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))?)).expect("pragma");
        let size = (pages("PRAGMA page_count") * pages("PRAGMA page_size")) as u64;
        let file = dir.path().join(super::connection::FILE);
        let deadline = Instant::now() + std::time::Duration::from_secs(20);
        while std::fs::metadata(&file).expect("file").len() < size {
            assert!(Instant::now() < deadline, "the WAL was never checkpointed");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
