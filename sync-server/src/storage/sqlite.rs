//! The embedded default: one SQLite file in WAL mode with `synchronous=FULL`, so a reply is sent only
//! after what it acknowledges is on disk. One writer connection behind a lock (SQLite has one writer
//! anyway), a small pool of readers, which in WAL mode never wait for the writer, and a thread that
//! copies the WAL back into the database, so that no request waits for that.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Commit, Device, LogPage, LogQuery, Role, Storage, log, schema};
use crate::error::{ApiError, ApiResult};

#[derive(Debug)]
pub struct SqliteStorage {
    path: std::path::PathBuf,
    district: String,
    instance: [u8; 8],
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    queue: Mutex<CommitQueue>,
    /// Transactions committed by the writer, so the checkpoint thread knows when there is work.
    commits: Arc<AtomicU64>,
    /// Dropped with the storage, which stops the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
}

/// Commits waiting for the writer, and results waiting for the requests that queued them.
#[derive(Debug, Default)]
struct CommitQueue {
    next: u64,
    pending: Vec<(u64, Commit)>,
    done: HashMap<u64, ApiResult<usize>>,
}

/// Applies a batch of commits in one transaction; one fsync acknowledges them all. A commit is
/// refused only in a race (two devices presenting one actor at once) or when storage fails, so the
/// batch is first applied whole; only if a commit fails is it rolled back and applied again with
/// each commit in a savepoint of its own, so that the refused one does not take the others with it.
/// A savepoint on every commit would copy each page it touches into a sub-journal, on every request.
fn commit_batch(conn: &mut Connection, batch: Vec<(u64, Commit)>) -> Vec<(u64, ApiResult<usize>)> {
    let failed = |batch: &[(u64, Commit)], e: &rusqlite::Error| {
        batch.iter().map(|(t, _)| (*t, Err(ApiError::Internal(format!("storage: {e}"))))).collect()
    };
    let whole = (|| -> ApiResult<Vec<(u64, ApiResult<usize>)>> {
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
        Err(e) => return failed(&batch, &e),
    };
    let mut results = Vec::with_capacity(batch.len());
    for (ticket, commit) in &batch {
        let result = tx.savepoint().map_err(ApiError::from).and_then(|sp| {
            let stored = log::apply_commit(&sp, commit)?;
            sp.commit()?;
            Ok(stored)
        });
        results.push((*ticket, result));
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => failed(&batch, &e),
    }
}

/// Readers kept open between requests; more are opened under load and closed after.
const IDLE_READERS: usize = 32;

/// The writer's page cache, in KiB. Every stored change goes into three indexes in no useful order
/// (its hash, its grid, its document), so each insert lands on a page of its own; with SQLite's
/// default 2 MB those pages were read again from the OS (9% of a district's day-end, by `perf`)
/// and dirty ones spilled mid-transaction (5%). 64 MB holds those indexes for a district's year.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// How often the checkpoint thread looks for new commits to copy into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// The writer's own automatic checkpoint, in pages: only a backstop for a checkpoint thread that
/// falls behind (64 MB of WAL at 4 KB pages), where SQLite's default is 4 MB.
const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// Runs WAL checkpoints on a connection of its own. With SQLite's default, the commit that takes
/// the WAL past 1,000 pages copies them into the database and fsyncs it while holding the writer,
/// and every request queued behind it waits (11% of a district's day-end, by `perf`). A passive
/// checkpoint here never blocks the writer or a reader; it stops when `stop`'s sender is dropped.
fn spawn_checkpointer(path: &Path, commits: Arc<AtomicU64>) -> ApiResult<mpsc::Sender<()>> {
    let conn = connect(path)?;
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
        .map_err(|e| ApiError::Internal(format!("starting the checkpoint thread: {e}")))?;
    Ok(stop)
}

fn connect(path: &Path) -> ApiResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL: readers never block the writer. FULL: a commit is on disk before the reply says so.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Sorting a page happens in memory: a server's temp directory may be small or slow.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // One plan per statement whatever its parameters: without it SQLite 3.54 compiles a cached
    // `col = ? ... ORDER BY` statement again on every run (9% of a district's day-end, by `perf`).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

impl SqliteStorage {
    /// The district a data directory was made for, if it was.
    pub fn stored_district(dir: &Path) -> ApiResult<Option<String>> {
        let path = dir.join("server.sqlite3");
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let sql = "SELECT value FROM meta WHERE key = 'district'";
        // A directory whose database has no schema yet has no district either.
        Ok(conn.query_row(sql, [], |r| r.get(0)).optional().unwrap_or(None))
    }

    /// Opens (or creates) `server.sqlite3` in `dir` for `district`. A database made for another
    /// district is refused.
    pub fn open(dir: &Path, district: &str) -> ApiResult<Self> {
        let path = dir.join("server.sqlite3");
        let mut writer = connect(&path)?;
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        schema::migrate(&mut writer)?;
        let get = |key: &str| -> ApiResult<Option<String>> {
            Ok(writer.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        };
        let (stored_district, stored_instance) = (get("district")?, get("instance")?);
        let district = match stored_district {
            Some(d) if d != district => {
                return Err(ApiError::Internal(format!("this data directory serves district {d:?}, not {district:?}")));
            }
            Some(d) => d,
            None => {
                writer.execute("INSERT INTO meta (key, value) VALUES ('district', ?1)", [district])?;
                district.to_string()
            }
        };
        let instance = match stored_instance.and_then(|h| hex::decode(h).ok()).and_then(|b| b.try_into().ok()) {
            Some(i) => i,
            None => {
                let i: [u8; 8] = rand::random();
                writer.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('instance', ?1)", [hex::encode(i)])?;
                i
            }
        };
        let commits = Arc::new(AtomicU64::new(0));
        let stop_checkpoints = spawn_checkpointer(&path, commits.clone())?;
        Ok(Self {
            path,
            district,
            instance,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            queue: Mutex::new(CommitQueue::default()),
            commits,
            _stop_checkpoints: stop_checkpoints,
        })
    }

    fn read<R>(&self, f: impl FnOnce(&Connection) -> ApiResult<R>) -> ApiResult<R> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        // One transaction: the page of the log and the cursor after it come from one snapshot.
        let tx = conn.transaction()?;
        let out = f(&tx);
        drop(tx);
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        out
    }

    fn write<R>(&self, f: impl FnOnce(&Connection) -> ApiResult<R>) -> ApiResult<R> {
        // A poisoned lock means a panic mid-transaction, which rolled back: the connection is fine.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let role: String = r.get(2)?;
    let grids: String = r.get(3)?;
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::GridMember),
        grids: serde_json::from_str(&grids).unwrap_or_default(),
        village: r.get(4)?,
        department: r.get(5)?,
        created_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

const DEVICE_COLUMNS: &str = "id, name, role, grids, village, department, created_at, revoked_at";

impl Storage for SqliteStorage {
    fn district(&self) -> &str {
        &self.district
    }

    fn instance(&self) -> [u8; 8] {
        self.instance
    }

    fn add_device(&self, d: &Device, token_hash: &[u8; 32]) -> ApiResult<()> {
        self.write(|c| {
            let taken: bool =
                c.query_row("SELECT EXISTS (SELECT 1 FROM devices WHERE name = ?1)", [&d.name], |r| r.get(0))?;
            if taken {
                return Err(ApiError::Malformed(format!("a device named {:?} is already registered", d.name)));
            }
            c.execute(
                "INSERT INTO devices (id, name, role, grids, village, department, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    d.id,
                    d.name,
                    d.role.as_str(),
                    serde_json::to_string(&d.grids).unwrap_or_else(|_| "[]".into()),
                    d.village,
                    d.department,
                    &token_hash[..],
                    d.created_at
                ],
            )?;
            Ok(())
        })
    }

    fn devices(&self) -> ApiResult<Vec<Device>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at, name"))?;
            Ok(stmt.query_map([], device_row)?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn device_by_token(&self, token_hash: &[u8; 32]) -> ApiResult<Option<Device>> {
        self.read(|c| {
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1");
            Ok(c.prepare_cached(&sql)?.query_row([&token_hash[..]], device_row).optional()?)
        })
    }

    fn revoke_device(&self, name_or_id: &str, at: i64) -> ApiResult<bool> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE name = ?1 OR id = ?1",
                params![name_or_id, at],
            )?;
            Ok(n > 0)
        })
    }

    fn actor_owner(&self, actor: &[u8]) -> ApiResult<Option<(String, bool)>> {
        self.read(|c| {
            let sql = "SELECT d.id, d.revoked_at IS NOT NULL FROM actors a JOIN devices d ON d.id = a.device
                       WHERE a.actor = ?1";
            Ok(c.prepare_cached(sql)?.query_row([actor], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
        })
    }

    fn doc_changes(&self, doc: &str) -> ApiResult<Vec<Vec<u8>>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT bytes FROM changes WHERE doc = ?1 ORDER BY seq")?;
            Ok(stmt.query_map([doc], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn grids_in_village(&self, village: &str) -> ApiResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT grid FROM grid_villages WHERE village = ?1")?;
            Ok(stmt.query_map([village], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn grid_village(&self, grid: &str) -> ApiResult<Option<String>> {
        self.read(|c| {
            let sql = "SELECT village FROM grid_villages WHERE grid = ?1";
            Ok(c.prepare_cached(sql)?.query_row([grid], |r| r.get(0)).optional()?)
        })
    }

    fn departments_of(&self, doc: &str) -> ApiResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT department FROM grants WHERE doc = ?1")?;
            Ok(stmt.query_map([doc], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn docs_with_photo(&self, sha: &str) -> ApiResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT doc FROM photo_refs WHERE sha = ?1")?;
            Ok(stmt.query_map([sha], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn commit(&self, commit: Commit) -> ApiResult<usize> {
        let ticket = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.next += 1;
            let ticket = queue.next;
            queue.pending.push((ticket, commit));
            ticket
        };
        // Group commit: whoever holds the writer commits every request queued meanwhile in one
        // transaction and one fsync; the others find their result waiting when they get the lock.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
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
        let mut mine = Err(ApiError::Internal("the commit was lost; sync again".into()));
        for (t, result) in results {
            if t == ticket {
                mine = result;
            } else {
                queue.done.insert(t, result);
            }
        }
        mine
    }

    fn read_log(&self, q: &LogQuery) -> ApiResult<LogPage> {
        self.read(|c| log::read_log(c, q))
    }

    fn change_count(&self) -> ApiResult<u64> {
        self.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get::<_, i64>(0))? as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: usize) -> Device {
        Device {
            id: format!("device-{n}"),
            name: format!("phone {n}"),
            role: Role::GridMember,
            grids: Vec::new(),
            village: None,
            department: None,
            created_at: 0,
            revoked_at: None,
        }
    }

    #[test]
    fn commits_reach_the_file_without_the_writer_checkpointing_and_the_writer_caches_its_indexes() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path(), "d1").expect("open");
        for n in 0..50 {
            storage.add_device(&device(n), &[n as u8; 32]).expect("device");
        }
        // Far below the writer's own threshold, so only the checkpoint thread can have copied the
        // WAL into the file: the file then holds every page of the database.
        let pages = |sql: &str| storage.read(|c| Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))?)).expect("pragma");
        let size = (pages("PRAGMA page_count") * pages("PRAGMA page_size")) as u64;
        let file = dir.path().join("server.sqlite3");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&file).expect("file").len() < size {
            assert!(std::time::Instant::now() < deadline, "the WAL was never checkpointed");
            std::thread::sleep(Duration::from_millis(50));
        }
        let writer = storage.writer.lock().expect("writer");
        let threshold: i64 = writer.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).expect("pragma");
        assert_eq!(threshold, WRITER_CHECKPOINT_PAGES);
        let cache: i64 = writer.query_row("PRAGMA cache_size", [], |r| r.get(0)).expect("pragma");
        assert_eq!(cache, -WRITER_CACHE_KIB);
    }

    #[test]
    fn a_refused_commit_takes_no_other_of_its_batch_with_it_and_a_repeat_stores_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path(), "d1").expect("open");
        for n in 0..3 {
            storage.add_device(&device(n), &[n as u8; 32]).expect("device");
        }
        let change = |n: u8| super::super::NewChange {
            hash: [n; 32],
            doc: format!("j/grid/2026-12-0{n}"),
            grid: "grid".into(),
            author: "device-0".into(),
            bytes: vec![n],
        };
        let commit = |device: usize, actor: u8, changes| Commit {
            device: format!("device-{device}"),
            bind_actor: Some(vec![actor]),
            changes,
            facts: Vec::new(),
        };
        let mut writer = storage.writer.lock().expect("writer");
        let first = commit_batch(&mut writer, vec![(1, commit(0, 7, vec![change(1)]))]);
        assert!(matches!(first[..], [(1, Ok(1))]), "{first:?}");
        // Device 2 presents device 0's actor: refused, while the commits around it are stored, and
        // a change the log already holds is not counted again.
        let batch = vec![
            (2, commit(1, 8, vec![change(2)])),
            (3, commit(2, 7, vec![change(3)])),
            (4, commit(0, 7, vec![change(1), change(4)])),
        ];
        let results = commit_batch(&mut writer, batch);
        assert!(matches!(results[..], [(2, Ok(1)), (3, Err(ApiError::Forbidden(_))), (4, Ok(1))]), "{results:?}");
        drop(writer);
        assert_eq!(storage.change_count().expect("count"), 3);
        assert_eq!(storage.actor_owner(&[7]).expect("owner").map(|(d, _)| d).as_deref(), Some("device-0"));
    }
}
