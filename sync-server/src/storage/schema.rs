//! The one owner of the server's schema: creates it fresh or upgrades it a step at a time in one
//! transaction, and refuses a database written by a newer server.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{ApiError, ApiResult};

const VERSION: i64 = 2;

const V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    grids TEXT NOT NULL,
    village TEXT,
    department TEXT,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE actors (actor BLOB PRIMARY KEY, device TEXT NOT NULL REFERENCES devices(id)) WITHOUT ROWID;
-- AUTOINCREMENT: a sequence number is never reused, so a device's cursor never skips a change.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    grid TEXT NOT NULL,
    author TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX changes_by_grid ON changes (grid, seq);
CREATE INDEX changes_by_doc ON changes (doc, seq);
CREATE TABLE grid_villages (grid TEXT PRIMARY KEY, village TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX grid_villages_by_village ON grid_villages (village);
-- An event becomes visible to a department at granted_seq; the department then gets all of it.
CREATE TABLE grants (
    department TEXT NOT NULL,
    doc TEXT NOT NULL,
    granted_seq INTEGER NOT NULL,
    PRIMARY KEY (department, doc)
) WITHOUT ROWID;
CREATE INDEX grants_by_doc ON grants (doc);
CREATE TABLE photo_refs (sha TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (sha, doc)) WITHOUT ROWID;
";

/// v2: a department's page starts from the events granted to it since its cursor.
const V2: &str = "
CREATE INDEX grants_by_department ON grants (department, granted_seq);
";

/// Brings the database to the current schema.
pub fn migrate(conn: &mut Connection) -> ApiResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(ApiError::Internal(format!(
            "the data directory was written by a newer server (schema {found}; this build knows {VERSION})"
        )));
    }
    // One step at a time, so a database of any older version takes the same path as a fresh one.
    for version in found + 1..=VERSION {
        match version {
            1 => tx.execute_batch(V1)?,
            2 => tx.execute_batch(V2)?,
            _ => return Err(ApiError::Internal(format!("no migration to schema {version}"))),
        }
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}
