//! WAL checkpoints on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that takes the WAL past its threshold: that
//! one write copies the WAL's pages into the database and syncs the file, milliseconds on a phone's
//! flash, once every few hundred writes — which makes it the slowest percent of a grid member's
//! taps. Here a second connection checkpoints on its own thread instead, nudged every [`EVERY`]
//! commits. A passive checkpoint never blocks the writer, and it does not change what a commit
//! promises: a commit is durable when it is in the WAL. The writer's own automatic checkpoint stays,
//! at [`BACKSTOP_PAGES`], for when this thread cannot keep up: a long burst of writes (a merge, a
//! demo build) never leaves the WAL fully copied, so the WAL cannot restart from its beginning until
//! the writer checkpoints itself.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// Commits between two nudges: a few hundred WAL pages, so each checkpoint is short.
const EVERY: u32 = 64;
/// The writer's own automatic checkpoint, in WAL pages: 4 MB at 4 KB pages, the size the WAL is kept
/// at (`journal_size_limit`), so a burst of writes reuses the file instead of growing it — growth
/// makes every `synchronous=FULL` commit sync the file's size too.
pub(crate) const BACKSTOP_PAGES: u32 = 1000;

#[derive(Debug)]
pub(crate) struct Checkpointer {
    commits: AtomicU32,
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens the checkpointing connection on the database at `path` (already opened and checked by
    /// the writer) and starts its thread.
    pub fn start(path: &Path) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        // The writer's commits hold the WAL write lock only for a moment; a checkpoint waits for one.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // A nudge while a checkpoint runs is kept (one slot): the WAL it stands for still gets copied.
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new().name("gridbook-checkpoint".into()).spawn(move || {
            while nudged.recv().is_ok() {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    // The writer's backstop checkpoint still bounds the WAL.
                    tracing::warn!(error = %e, "background checkpoint failed");
                }
            }
        })?;
        Ok(Self { commits: AtomicU32::new(0), nudge: Some(nudge), thread: Some(thread) })
    }

    /// Counts one committed write transaction; every [`EVERY`] commits, wakes the thread.
    pub fn committed(&self) {
        if self.commits.fetch_add(1, Ordering::Relaxed) % EVERY == EVERY - 1
            && let Some(nudge) = &self.nudge
        {
            // Full means a checkpoint is already due: nothing is lost by not queueing another.
            let _ = nudge.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop once its checkpoint in progress is done.
        self.nudge.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{self, Durability};

    #[test]
    fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().expect("dir");
        let conn = db::open(dir.path(), Durability::Normal).expect("db");
        let file = dir.path().join(db::FILE_NAME);
        let before = std::fs::metadata(&file).expect("file").len();
        let checkpointer = Checkpointer::start(&file).expect("start");
        // Far below the writer's own threshold: only the thread can copy these pages over.
        for i in 0..EVERY * 2 {
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", (format!("k{i}"), "x".repeat(3000)))
                .expect("insert");
            checkpointer.committed();
        }
        let copied = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            std::fs::metadata(&file).expect("file").len() > before + 100_000
        });
        assert!(copied, "the WAL was not checkpointed in the background");
        drop(checkpointer);
        let rows: i64 = conn.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, i64::from(EVERY * 2));
    }
}
