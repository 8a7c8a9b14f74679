//! How the SQLite backend opens a connection (its pragmas, each with its reason) and how SQLite's
//! errors become storage errors: every other file of the backend opens through here.

use std::path::Path;
use std::time::Duration;

use gridbook_core::at_rest::{self, StoreKey};
use rusqlite::{Connection, ErrorCode};

use crate::storage::{StorageError, StorageResult};

/// The database file inside a data directory.
pub(super) const FILE: &str = "server.sqlite3";

/// How long a connection waits for a lock before it gives up: long enough for the checkpointer or
/// an admin command to finish, short enough that a stuck request fails rather than hangs.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            // Never repaired or deleted here: the file may hold the only copy of a day's work.
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StorageError::Corrupt(Box::new(e)),
            _ => StorageError::Backend(Box::new(e)),
        }
    }
}

/// Opens a connection to `path`, under `key` if the database is encrypted, with the pragmas every
/// connection of the server uses.
pub(super) fn connect(path: &Path, key: Option<&StoreKey>) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    if let Some(key) = key {
        at_rest::apply_key(&conn, key)?;
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer. FULL: a commit is on disk before the reply says so.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Sorting a page happens in memory: a server's temp directory may be small or slow.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // A deleted row is overwritten with zeros, not only unlinked: an erased record's wrapped key
    // and a household's changes must not stay readable in free pages of the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    // One plan per statement whatever its parameters: without it SQLite compiles a cached
    // `col = ? ... ORDER BY` statement again on every run, a cost every sync paid.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// Opens `path` read-only, for a look at a data directory without creating or changing anything.
pub(super) fn connect_read_only(path: &Path, key: Option<&StoreKey>) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    if let Some(key) = key {
        at_rest::apply_key(&conn, key)?;
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Makes the database at `path` ready to open under `key`: a plaintext database given a key is
/// encrypted first, crash-safely (the old file stands until the new one is whole); an encrypted one
/// without a key, or with one that does not open it, is refused untouched.
pub(super) fn prepare(path: &Path, key: Option<&StoreKey>) -> StorageResult<()> {
    let core = |e: gridbook_core::Error| match e {
        gridbook_core::Error::Storage(e) => StorageError::from(e),
        other => StorageError::Backend(Box::new(other)),
    };
    at_rest::drop_unfinished_export(path).map_err(core)?;
    match (at_rest::file_state(path).map_err(core)?, key) {
        (at_rest::FileState::Encrypted, None) => Err(StorageError::Locked),
        (at_rest::FileState::Plain, Some(key)) => at_rest::reencrypt(path, None, Some(key)).map_err(core),
        (at_rest::FileState::Encrypted, Some(key)) => {
            let conn = connect_read_only(path, Some(key))?;
            match conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => Err(StorageError::Locked),
                other => other.map(drop).map_err(StorageError::from),
            }
        }
        _ => Ok(()),
    }
}
