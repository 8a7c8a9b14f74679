//! Upkeep that must not run inside a tap, on a thread of its own with a second connection: WAL
//! checkpoints, and folding documents' changes into new snapshots while the store is idle.
//!
//! **Checkpoints.** SQLite's automatic checkpoint runs inside the commit that takes the WAL past its
//! threshold: that one write syncs the WAL, copies its pages into the database and syncs that, long
//! enough on a phone's flash to be felt. Here the thread checkpoints instead, once the store falls
//! idle ([`IDLE`]), between a person's taps. It waits for the quiet on purpose: a checkpoint syncs
//! the WAL, and a write that appends to the WAL while it is being synced waits for the disk (its
//! first frame shares a page with the last one being written back). Checkpointing at a fixed number
//! of commits during a burst made enough writes slow to set the 99th percentile (`write_loop` bench,
//! docs/BENCHMARKS.md). A passive checkpoint never blocks the writer, and it does not change what a
//! commit promises: a commit is durable when it is in the WAL. The writer's own automatic checkpoint
//! stays, at [`db::BACKSTOP_PAGES`], for a store that is never idle (a merge, an import, a demo
//! build): now and then one write of such a burst pays for syncing the WAL.
//!
//! **Folding.** A document is a snapshot plus the changes since (`docstore.rs`). Folding saves the
//! whole document, which for a month's journal costs several times a tap's budget, so no tap does
//! it: a write that leaves a document with [`docstore::FOLD_AT_IDLE`] changes or more names it here,
//! and once no commit has come for [`IDLE`] the thread folds it from its own connection
//! ([`docstore::fold`]), giving up as soon as the store is busy again.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::db::cipher::StoreKey;
use crate::db::{self, Durability};
use crate::docstore::{self, Fold};
use crate::error::Result;
use crate::ids::DocId;

/// Quiet after the last commit before the store counts as idle. A person's taps are a second or
/// well apart (open the form, choose, confirm), so this much quiet nearly always falls between two
/// actions; a merge or an import commits back to back, so a fold never starts in the middle of one. And it is short enough that a fold finishes
/// long before the OS suspends an app the user has just sent to the background.
const IDLE: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub(crate) struct Maintenance {
    shared: Arc<Shared>,
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    started: Instant,
    /// When the last commit was counted, in microseconds after `started`.
    last_commit: AtomicU64,
    /// Commits came since the thread's last idle pass. Only the first one of them wakes the thread,
    /// so a burst of writes costs it nothing.
    busy: AtomicBool,
    /// Documents with enough changes to fold, by name.
    to_fold: Mutex<BTreeSet<String>>,
    closing: AtomicBool,
}

impl Shared {
    fn quiet(&self) -> Duration {
        let now = self.started.elapsed().as_micros() as u64;
        Duration::from_micros(now.saturating_sub(self.last_commit.load(Ordering::Acquire)))
    }

    fn idle(&self) -> bool {
        !self.closing.load(Ordering::Acquire) && self.quiet() >= IDLE
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A set of names is consistent whatever panicked while holding it.
        self.to_fold.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Maintenance {
    /// Opens the maintenance connection on the database at `path` (already opened and checked by
    /// the writer) and starts its thread.
    pub fn start(path: &Path, key: Option<&StoreKey>) -> Result<Self> {
        let mut conn = db::connect(path, key)?;
        // This connection's commits only replace snapshots with equal ones: a power cut that takes
        // one loses nothing (the changes it folded are deleted in the same commit). NORMAL keeps
        // such a commit from holding the write lock through an fsync a tap would wait for.
        db::set_pragmas(&conn, Durability::Normal)?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            last_commit: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            to_fold: Mutex::new(BTreeSet::new()),
            closing: AtomicBool::new(false),
        });
        // One slot: a wake-up while the thread works is kept, and more would say nothing new.
        let (wake, woken) = sync_channel::<()>(1);
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("gridbook-maintenance".into())
                .spawn(move || run(&mut conn, &shared, &woken))?
        };
        Ok(Self { shared, wake: Some(wake), thread: Some(thread) })
    }

    /// Counts one committed write transaction.
    pub fn committed(&self) {
        let s = &self.shared;
        s.last_commit.store(s.started.elapsed().as_micros() as u64, Ordering::Release);
        let first_since_idle = !s.busy.swap(true, Ordering::AcqRel);
        if first_since_idle && let Some(wake) = &self.wake {
            // Full means the thread is already due to wake: nothing is lost by not queueing another.
            let _ = wake.try_send(());
        }
    }

    /// Notes that a committed write left document `id` with `pending` changes beside its snapshot.
    pub fn written(&self, id: &DocId, pending: i64) {
        if pending >= docstore::FOLD_AT_IDLE {
            self.shared.waiting().insert(id.to_string());
        }
    }
}

impl Drop for Maintenance {
    fn drop(&mut self) {
        // A fold in progress stops before its write; closing the channel ends the thread's loop.
        self.shared.closing.store(true, Ordering::Release);
        self.wake.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &mut Connection, shared: &Shared, woken: &Receiver<()>) {
    loop {
        let woke = if shared.busy.load(Ordering::Acquire) {
            match IDLE.checked_sub(shared.quiet()) {
                Some(left) if !left.is_zero() => woken.recv_timeout(left),
                _ => {
                    idle(conn, shared);
                    continue;
                }
            }
        } else {
            woken.recv().map_err(|_| RecvTimeoutError::Disconnected)
        };
        if let Err(RecvTimeoutError::Disconnected) = woke {
            return;
        }
    }
}

/// The store has been quiet for [`IDLE`]: folds the documents waiting for it while it stays quiet,
/// then copies the WAL over, so the next write starts it afresh.
fn idle(conn: &mut Connection, shared: &Shared) {
    // Cleared first: a commit from here on sets it again, and the next quiet spell gets a pass.
    shared.busy.store(false, Ordering::Release);
    while shared.idle() {
        let Some(name) = shared.waiting().pop_first() else { break };
        match docstore::fold(conn, &name, || shared.idle()) {
            Ok(Fold::Deferred) => {
                shared.waiting().insert(name);
                break;
            }
            Ok(Fold::Folded(_) | Fold::Superseded | Fold::Nothing) => {}
            // The document stays as it was; its next write names it again.
            Err(e) => tracing::warn!(error = %e, "folding a document at idle failed"),
        }
    }
    checkpoint(conn);
}

fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        // The writer's backstop checkpoint still bounds the WAL.
        tracing::warn!(error = %e, "background checkpoint failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docstore::tests::{content, rows, setup, visit};
    use crate::{Store, db};

    const COMMITS: u32 = 128;

    #[test]
    fn commits_reach_the_database_file_once_the_store_is_idle_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().expect("dir");
        let conn = db::open(dir.path(), Durability::Normal, None).expect("db");
        let file = dir.path().join(db::FILE_NAME);
        let before = std::fs::metadata(&file).expect("file").len();
        let maintenance = Maintenance::start(&file, None).expect("start");
        // Far below the writer's own threshold: only the thread can copy these pages over.
        for i in 0..COMMITS {
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", (format!("k{i}"), "x".repeat(3000)))
                .expect("insert");
            maintenance.committed();
        }
        let copied = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::fs::metadata(&file).expect("file").len() > before + 100_000
        });
        assert!(copied, "the WAL was not checkpointed in the background");
        drop(maintenance);
        let rows: i64 = conn.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0)).expect("count");
        assert_eq!(rows, i64::from(COMMITS));
    }

    #[test]
    fn a_document_with_many_changes_is_folded_once_the_store_is_idle() {
        let visits = docstore::FOLD_AT_IDLE as usize + 20;
        let s = setup(visits);
        let before = content(&s.side, &s.journal);
        let dump = s.store.dump_query_tables().expect("dump");
        // Generous: the thread starts once the writes have been quiet for IDLE.
        let folded = (0..600).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            rows(&s.side, &s.journal).1 < docstore::FOLD_AT_IDLE
        });
        assert!(folded, "the journal was not folded at idle: {:?}", rows(&s.side, &s.journal));
        let (count, pending) = rows(&s.side, &s.journal);
        assert_eq!(count, pending, "every change row is counted, and only those");
        assert_eq!(content(&s.side, &s.journal), before);
        assert_eq!(s.store.dump_query_tables().expect("dump"), dump);

        visit(&s.store, s.home, visits);
        let config = s.store.config().clone();
        drop(s.store);
        let store = Store::open(s.dir.path(), config).expect("reopen");
        assert_eq!(store.visits_of(s.home).expect("visits").len(), visits + 1);
        let reopened = store.dump_query_tables().expect("dump");
        store.rebuild_query_tables().expect("rebuild");
        assert_eq!(store.dump_query_tables().expect("dump"), reopened);
    }
}
