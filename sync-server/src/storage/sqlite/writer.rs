//! The SQLite backend's one writer (SQLite has one writer anyway) and its group commit: whoever
//! holds the writer commits every request queued meanwhile in one transaction and one fsync, each
//! request's commit still all or nothing on its own.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gridbook_core::at_rest::StoreKey;
use rusqlite::{Connection, TransactionBehavior};

use super::{connection, log};
use crate::storage::{Commit, StorageError, StorageResult};

/// The writer's page cache, in KiB. Every stored change goes into several indexes in no useful
/// order (its hash, its grid, its document), so each insert lands on a page of its own; with
/// SQLite's default cache those pages were read again from the OS and dirty ones spilled
/// mid-transaction. This holds the pages a day's inserts touch, and no more: SQLite walks the
/// cache's whole hash table at the end of every write transaction once a page split has moved a
/// page through the lock page's number (`balance_nonroot` swaps page numbers through it, and the
/// cache then counts a page past the file's end), so a larger cache costs every commit.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// The writer's own automatic checkpoint, in pages: only a backstop for a checkpoint thread that
/// falls behind (see `checkpointer`), far above SQLite's default so that it seldom fires.
const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// The writer connection, and the commits waiting for it.
#[derive(Debug)]
pub(super) struct Writer {
    conn: Mutex<Connection>,
    queue: Mutex<CommitQueue>,
    /// Transactions committed, so the checkpoint thread knows when there is work.
    commits: Arc<AtomicU64>,
}

/// Commits waiting for the writer, and results waiting for the requests that queued them.
#[derive(Debug, Default)]
struct CommitQueue {
    next: u64,
    pending: Vec<(u64, Commit)>,
    done: HashMap<u64, StorageResult<usize>>,
}

impl Writer {
    /// Opens the writer connection on `path`; `commits` counts its transactions.
    pub(super) fn open(path: &Path, key: Option<&StoreKey>, commits: Arc<AtomicU64>) -> StorageResult<Self> {
        let conn = connection::connect(path, key)?;
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        Ok(Self { conn: Mutex::new(conn), queue: Mutex::new(CommitQueue::default()), commits })
    }

    /// Runs `f` on the writer connection outside any transaction (schema migration, first setup).
    pub(super) fn with_connection<R>(&self, f: impl FnOnce(&mut Connection) -> StorageResult<R>) -> StorageResult<R> {
        // A poisoned lock means a panic mid-transaction, which rolled back: the connection is fine.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    /// Runs `f` in one immediate transaction, committed if `f` succeeds.
    pub(super) fn write<R>(&self, f: impl FnOnce(&Connection) -> StorageResult<R>) -> StorageResult<R> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Stores one request's commit, all or nothing, with whatever else is queued; returns how many
    /// of its changes were new.
    pub(super) fn commit(&self, commit: Commit) -> StorageResult<usize> {
        let ticket = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.next += 1;
            let ticket = queue.next;
            queue.pending.push((ticket, commit));
            ticket
        };
        // The others find their result waiting when they get the lock.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let batch = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(result) = queue.done.remove(&ticket) {
                return result;
            }
            std::mem::take(&mut queue.pending)
        };
        let results = commit_batch(&mut conn, batch);
        self.commits.fetch_add(1, Ordering::Relaxed);
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        // Only a panic of the writer that held the batch leaves a ticket without a result.
        let mut mine = Err(StorageError::Backend("the commit was lost; sync again".into()));
        for (t, result) in results {
            if t == ticket {
                mine = result;
            } else {
                queue.done.insert(t, result);
            }
        }
        mine
    }
}

/// Applies a batch of commits in one transaction; one fsync acknowledges them all. A commit is
/// refused only in a race (two devices presenting one actor at once) or when storage fails, so the
/// batch is first applied whole; only if a commit fails is it rolled back and applied again with
/// each commit in a savepoint of its own, so that the refused one does not take the others with it.
/// A savepoint on every commit would copy each page it touches into a sub-journal, on every request.
fn commit_batch(conn: &mut Connection, batch: Vec<(u64, Commit)>) -> Vec<(u64, StorageResult<usize>)> {
    // The transaction of every commit failed; SQLite's error cannot be cloned, so each gets its text.
    let failed = |batch: &[(u64, Commit)], e: rusqlite::Error| -> Vec<(u64, StorageResult<usize>)> {
        let message = e.to_string();
        batch.iter().map(|(t, _)| (*t, Err(StorageError::Backend(message.clone().into())))).collect()
    };
    let whole = (|| -> StorageResult<Vec<(u64, StorageResult<usize>)>> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(batch.len());
        for (ticket, commit) in &batch {
            results.push((*ticket, Ok(log::apply_commit(&tx, commit)?)));
        }
        tx.commit()?;
        Ok(results)
    })();
    if let Ok(results) = whole {
        return results;
    }
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return failed(&batch, e),
    };
    let mut results = Vec::with_capacity(batch.len());
    for (ticket, commit) in &batch {
        let result = tx.savepoint().map_err(StorageError::from).and_then(|sp| {
            let stored = log::apply_commit(&sp, commit)?;
            sp.commit()?;
            Ok(stored)
        });
        results.push((*ticket, result));
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => failed(&batch, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{Device, NewChange, Role, Storage};

    fn storage_with_devices(dir: &Path) -> SqliteStorage {
        let storage = SqliteStorage::open(dir, "d1", None).expect("open");
        for n in 0..3u8 {
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
        storage
    }

    #[test]
    fn the_writer_caches_its_indexes_and_leaves_checkpoints_to_the_checkpointer() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = storage_with_devices(dir.path());
        storage
            .writer
            .with_connection(|c| {
                let threshold: i64 = c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
                assert_eq!(threshold, WRITER_CHECKPOINT_PAGES);
                let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
                assert_eq!(cache, -WRITER_CACHE_KIB);
                Ok(())
            })
            .expect("pragmas");
    }

    /// The batch itself, which concurrent requests only reach by chance: the contract suite checks
    /// the same through the trait, under load.
    #[test]
    fn a_refused_commit_takes_no_other_of_its_batch_with_it() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = storage_with_devices(dir.path());
        let change = |n: u8| NewChange {
            hash: [n; 32],
            doc: format!("j/grid/2026-12-0{n}"),
            grid: "grid".into(),
            author: "device-0".into(),
            actor: vec![n],
            seq: 1,
            bytes: vec![n],
        };
        let commit = |device: usize, actor: u8, changes| Commit {
            device: format!("device-{device}"),
            bind_actor: Some(vec![actor]),
            changes,
            facts: Vec::new(),
            grids: Vec::new(),
            proofs: Vec::new(),
            keys: Vec::new(),
        };
        let mut conn = storage.writer.conn.lock().expect("writer");
        let first = commit_batch(&mut conn, vec![(1, commit(0, 7, vec![change(1)]))]);
        assert!(matches!(first[..], [(1, Ok(1))]), "{first:?}");
        // Device 2 presents device 0's actor: refused, while the commits around it are stored, and
        // a change the log already holds is not counted again.
        let batch = vec![
            (2, commit(1, 8, vec![change(2)])),
            (3, commit(2, 7, vec![change(3)])),
            (4, commit(0, 7, vec![change(1), change(4)])),
        ];
        let results = commit_batch(&mut conn, batch);
        assert!(matches!(results[..], [(2, Ok(1)), (3, Err(StorageError::ActorTaken)), (4, Ok(1))]), "{results:?}");
        drop(conn);
        assert_eq!(storage.change_count().expect("count"), 3);
        assert_eq!(storage.doc_changes("j/grid/2026-12-03").expect("changes"), Vec::<Vec<u8>>::new());
        assert_eq!(storage.actor_owner(&[7]).expect("owner"), Some(("device-0".to_string(), false)));
        assert_eq!(storage.actor_owner(&[8]).expect("owner"), Some(("device-1".to_string(), false)));
    }
}
