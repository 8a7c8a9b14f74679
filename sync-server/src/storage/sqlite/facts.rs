//! The SQLite backend's facts that authorise documents: the grid registry, the departments an event
//! was dispatched to, the photos an event references, and the events a photo was uploaded for
//! (its bindings). Written with the commit (or the upload) that carries them, read on every request
//! to decide its scope.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{DocFacts, GridEntry, StorageResult, StoredKey};

const GRID_COLUMNS: &str = "id, name, village, township, registered_by, registered_at";

fn grid_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GridEntry> {
    Ok(GridEntry {
        id: r.get(0)?,
        name: r.get(1)?,
        village: r.get(2)?,
        township: r.get(3)?,
        registered_by: r.get(4)?,
        registered_at: r.get(5)?,
    })
}

/// Registers new grids; of a registered one only the name and township change, never the village.
pub(super) fn register(c: &Connection, grids: &[GridEntry]) -> StorageResult<()> {
    for g in grids {
        c.prepare_cached(&format!(
            "INSERT INTO grids ({GRID_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, township = excluded.township"
        ))?
        .execute(params![g.id, g.name, g.village, g.township, g.registered_by, g.registered_at])?;
    }
    Ok(())
}

/// Stores a commit's facts. `last_seq` is, per document, the sequence number of the commit's last
/// new change to it; `top` the log's newest sequence number.
pub(super) fn store(c: &Connection, facts: &[DocFacts], last_seq: &HashMap<&str, i64>, top: i64) -> StorageResult<()> {
    for f in facts {
        // The grant takes the sequence number of a change in this same commit, so a reader whose
        // snapshot reaches that number also sees the grant.
        let granted = last_seq.get(f.doc.as_str()).copied().unwrap_or(top);
        for department in &f.departments {
            c.prepare_cached("INSERT OR IGNORE INTO grants (department, doc, granted_seq) VALUES (?1, ?2, ?3)")?
                .execute(params![department, f.doc, granted])?;
        }
        for sha in &f.photos {
            c.prepare_cached("INSERT OR IGNORE INTO photo_refs (sha, doc) VALUES (?1, ?2)")?
                .execute(params![sha, f.doc])?;
        }
    }
    Ok(())
}

pub(super) fn grids_in_village(c: &Connection, village: &str) -> StorageResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT id FROM grids WHERE village = ?1")?;
    Ok(stmt.query_map([village], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn grid(c: &Connection, id: &str) -> StorageResult<Option<GridEntry>> {
    let sql = format!("SELECT {GRID_COLUMNS} FROM grids WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?.query_row([id], grid_row).optional()?)
}

pub(super) fn grids(c: &Connection) -> StorageResult<Vec<GridEntry>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {GRID_COLUMNS} FROM grids ORDER BY village, name, id"))?;
    Ok(stmt.query_map([], grid_row)?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn departments_of(c: &Connection, doc: &str) -> StorageResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT department FROM grants WHERE doc = ?1")?;
    Ok(stmt.query_map([doc], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn docs_with_photo(c: &Connection, sha: &str) -> StorageResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT doc FROM photo_refs WHERE sha = ?1")?;
    Ok(stmt.query_map([sha], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn bind_photo(c: &Connection, sha: &str, doc: &str) -> StorageResult<()> {
    c.prepare_cached("INSERT OR IGNORE INTO photo_bindings (sha, doc) VALUES (?1, ?2)")?.execute(params![sha, doc])?;
    Ok(())
}

pub(super) fn photo_events(c: &Connection, sha: &str) -> StorageResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT doc FROM photo_bindings WHERE sha = ?1 ORDER BY doc")?;
    Ok(stmt.query_map([sha], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn data_key(c: &Connection, id: &[u8; 16]) -> StorageResult<Option<StoredKey>> {
    let mut stmt = c.prepare_cached("SELECT id, doc, wrapped FROM data_keys WHERE id = ?1")?;
    Ok(stmt.query_row([id.as_slice()], key_row).optional()?)
}

pub(super) fn put_data_key(c: &Connection, key: &StoredKey) -> StorageResult<bool> {
    let added = c
        .prepare_cached(
            "INSERT OR IGNORE INTO data_keys (id, doc, wrapped) SELECT ?1, ?2, ?3
             WHERE NOT EXISTS (SELECT 1 FROM erased_records WHERE id = ?1 OR (doc = ?2 AND kind = 1))",
        )?
        .execute(params![key.id.as_slice(), key.doc, key.wrapped])?;
    Ok(added == 1)
}

pub(super) fn data_keys_of(c: &Connection, docs: &[String]) -> StorageResult<Vec<StoredKey>> {
    let mut stmt = c.prepare_cached("SELECT id, doc, wrapped FROM data_keys WHERE doc = ?1 ORDER BY id")?;
    let mut out = Vec::new();
    for doc in docs {
        for row in stmt.query_map([doc], key_row)? {
            out.push(row?);
        }
    }
    Ok(out)
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredKey> {
    let id: Vec<u8> = r.get(0)?;
    let id =
        id.try_into().map_err(|_| rusqlite::Error::InvalidColumnType(0, "id".into(), rusqlite::types::Type::Blob))?;
    Ok(StoredKey { id, doc: r.get(1)?, wrapped: r.get(2)? })
}
