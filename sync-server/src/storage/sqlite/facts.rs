//! The SQLite backend's facts that authorise documents: a grid's village, the departments an event
//! was dispatched to, the photos an event references, and the events a photo was uploaded for
//! (its bindings). Written with the commit (or the upload) that carries them, read on every request
//! to decide its scope.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{DocFacts, StorageResult};

/// Stores a commit's facts. `last_seq` is, per document, the sequence number of the commit's last
/// new change to it; `top` the log's newest sequence number.
pub(super) fn store(c: &Connection, facts: &[DocFacts], last_seq: &HashMap<&str, i64>, top: i64) -> StorageResult<()> {
    for f in facts {
        if let Some(village) = &f.village {
            let grid = f.doc.strip_prefix("g/").unwrap_or(&f.doc);
            c.prepare_cached(
                "INSERT INTO grid_villages (grid, village) VALUES (?1, ?2)
                 ON CONFLICT (grid) DO UPDATE SET village = excluded.village",
            )?
            .execute(params![grid, village])?;
        }
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
    let mut stmt = c.prepare_cached("SELECT grid FROM grid_villages WHERE village = ?1")?;
    Ok(stmt.query_map([village], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn grid_village(c: &Connection, grid: &str) -> StorageResult<Option<String>> {
    let sql = "SELECT village FROM grid_villages WHERE grid = ?1";
    Ok(c.prepare_cached(sql)?.query_row([grid], |r| r.get(0)).optional()?)
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
