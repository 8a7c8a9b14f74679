//! The SQLite connection: pragmas, opening (and moving a corrupt file aside), the schema, and the
//! shapes of read the query tables are read with.

pub(crate) mod cipher;
pub(crate) mod query;
pub(crate) mod schema;

use std::path::{Path, PathBuf};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use self::cipher::{FileState, StoreKey};
use crate::error::{Error, Result};

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Durability {
    /// Survives the app being killed and a power cut (SQLite's `synchronous=FULL`); the default.
    #[default]
    Full,
    /// Survives the app being killed; a power cut may lose the last commits (SQLite's
    /// `synchronous=NORMAL`). Faster.
    Normal,
}

pub(crate) const FILE_NAME: &str = "gridbook.db";

/// The writer's own automatic checkpoint, in WAL pages. In a back-to-back burst the WAL grows to
/// this size before the writer checkpoints it, inside one write that syncs the WAL and the database.
/// Set low, such stalls come often enough to set a burst's 99th percentile; the figures that chose
/// it are in the `write_loop` bench (docs/BENCHMARKS.md). Taps a second apart never get here: the
/// maintenance thread's checkpoints keep the WAL short (`maintenance.rs`). It is also the size the
/// WAL file is kept at (`journal_size_limit`), so a burst reuses the file instead of growing it —
/// growth makes every `synchronous=FULL` commit sync its size too.
pub(crate) const BACKSTOP_PAGES: u32 = 4000;

/// Opens (creating if need be) the store's database in `dir`, under `key` if one is given. A
/// plaintext store opened with a key is encrypted first. A file that is not a database is moved
/// aside with its WAL and reported: it may hold the only copy of a day's work, so it is never
/// deleted. An encrypted file is never moved aside: without its key nothing can tell it from damage.
pub(crate) fn open(dir: &Path, durability: Durability, key: Option<&StoreKey>) -> Result<Connection> {
    let path = dir.join(FILE_NAME);
    cipher::drop_unfinished_export(&path)?;
    let opened = match (cipher::file_state(&path)?, key) {
        (FileState::Encrypted, None) => return Err(Error::KeyNeeded),
        (FileState::Plain, Some(key)) => {
            cipher::reencrypt(&path, None, Some(key)).and_then(|()| open_checked(&path, durability, Some(key)))
        }
        _ => open_checked(&path, durability, key),
    };
    match opened {
        Ok(conn) => Ok(conn),
        Err(Error::Storage(e)) if key.is_some() && is_not_a_database(&e) => Err(Error::WrongKey),
        Err(Error::Storage(e)) if is_corruption(&e) => Err(move_aside(&path)?),
        Err(e) => Err(e),
    }
}

/// Opens one more connection on a database [`open`] has already opened and checked.
pub(crate) fn connect(path: &Path, key: Option<&StoreKey>) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    if let Some(key) = key {
        cipher::apply_key(&conn, key)?;
    }
    Ok(conn)
}

fn open_checked(path: &Path, durability: Durability, key: Option<&StoreKey>) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    if let Some(key) = key {
        cipher::apply_key(&conn, key)?;
    }
    // A tap's write runs several statements and the screens between two taps more again: with
    // rusqlite's default capacity the screens would push the write's statements out, to be compiled
    // again.
    conn.set_prepared_statement_cache_capacity(64);
    // Reading the schema refuses a file that is not a database (or a wrong key) at once, before a
    // pragma could write to it. A full check reads every page — too slow on a year's store for the
    // open path — so it is left to `Store::verify` at idle time; damage found later surfaces as a
    // storage error on the page that holds it.
    conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    set_pragmas(&conn, durability)?;
    schema::init(&mut conn)?;
    Ok(conn)
}

pub(crate) fn set_pragmas(conn: &Connection, durability: Durability) -> Result<()> {
    // Another process (the CLI beside a test, say) may hold the write lock for a moment.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL: readers never block the writer, and a commit is one sequential append.
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    // Android has no writable temp directory for SQLite's temp files.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Keep the WAL from growing without bound on a phone's small flash: it is cut back to the size
    // a burst reaches before the writer's own checkpoint ([`BACKSTOP_PAGES`]).
    conn.pragma_update(None, "journal_size_limit", i64::from(BACKSTOP_PAGES) * 4096)?;
    // Checkpoints run on their own thread (`maintenance.rs`); the writer's is the backstop.
    conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // One plan per statement whatever its parameters. Without it, SQLite 3.54 marks a statement
    // with `col = ?` and an ORDER BY as depending on its bound values, and compiles it again on
    // every run: the statement cache then saves nothing, on every list an app shows.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed only if `f` succeeds. `BEGIN` and
/// `COMMIT` stay prepared: compiling them again for every tap showed in a profile of its write.
pub(crate) fn write_tx<R>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let open = OpenTransaction(conn);
    let out = f(open.0)?;
    open.0.prepare_cached("COMMIT")?.execute([])?;
    Ok(out)
}

/// Rolls back a transaction that `write_tx` leaves without committing: `f` failed or panicked, or
/// the commit itself failed (a full disk).
struct OpenTransaction<'a>(&'a Connection);

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            // A rollback that fails leaves the transaction open, and the next write's BEGIN says so.
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

/// SQLite's own check of every page and index, for idle time.
pub(crate) fn verify(conn: &Connection) -> Result<()> {
    let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if check == "ok" {
        return Ok(());
    }
    Err(Error::Storage(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
        Some(check),
    )))
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(ErrorCode::NotADatabase)
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
}

fn move_aside(path: &Path) -> Result<Error> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let moved_to = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    std::fs::rename(path, &moved_to)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            std::fs::rename(&side, format!("{}{suffix}", moved_to.display()))?;
        }
    }
    tracing::warn!(moved_to = %moved_to.display(), "corrupt store moved aside");
    Ok(Error::CorruptStore { path: path.to_path_buf(), moved_to })
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0)).expect("count")
    }

    #[test]
    fn a_failed_or_panicking_write_leaves_nothing_and_the_next_one_commits() {
        let dir = tempfile::tempdir().expect("dir");
        let conn = open(dir.path(), Durability::Normal, None).expect("db");
        let insert = |c: &Connection, key: &str| -> Result<()> {
            c.execute("INSERT INTO meta (key, value) VALUES (?1, 'v')", [key])?;
            Ok(())
        };
        let failed = write_tx(&conn, |c| {
            insert(c, "a")?;
            Err::<(), _>(Error::invalid("test", "refused"))
        });
        assert!(failed.is_err());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_tx(&conn, |c| -> Result<()> {
                insert(c, "b")?;
                panic!("a bug in a write")
            })
        }));
        assert!(panicked.is_err());
        assert!(conn.is_autocommit(), "no transaction is left open");
        assert_eq!(count(&conn), 0);
        write_tx(&conn, |c| insert(c, "c")).expect("the next write");
        assert_eq!(count(&conn), 1);
    }

    #[test]
    fn a_cached_list_query_is_compiled_once() {
        let dir = tempfile::tempdir().expect("dir");
        let conn = open(dir.path(), Durability::Normal, None).expect("db");
        let sql = "SELECT id FROM households WHERE grid_id = ?1 AND active ORDER BY address_key, id";
        for grid in [[1u8; 16], [2; 16], [1; 16]] {
            let mut stmt = conn.prepare_cached(sql).expect("prepare");
            let rows: Vec<Vec<u8>> = stmt
                .query_map([&grid[..]], |r| r.get(0))
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            assert!(rows.is_empty());
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0);
        }
    }
}
