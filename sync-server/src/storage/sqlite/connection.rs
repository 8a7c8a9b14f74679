//! How the SQLite backend opens a connection (its pragmas, each with its reason) and how SQLite's
//! errors become storage errors: every other file of the backend opens through here.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use crate::storage::StorageError;

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

/// Opens a connection to `path` with the pragmas every connection of the server uses.
pub(super) fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer. FULL: a commit is on disk before the reply says so.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Sorting a page happens in memory: a server's temp directory may be small or slow.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // One plan per statement whatever its parameters: without it SQLite compiles a cached
    // `col = ? ... ORDER BY` statement again on every run, a cost every sync paid.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// Opens `path` read-only, for a look at a data directory without creating or changing anything.
pub(super) fn connect_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}
