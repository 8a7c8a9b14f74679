//! The SQLite backend's erasures: the records erased for good (`erased_records`, ids only, kept
//! forever so that what was erased is refused forever), the notices every store carries out
//! (`erasure_notices`, pruned after their time), and the erasure itself, in one transaction.
//!
//! Deleted rows are overwritten in the file (`secure_delete`, set on every connection), and the WAL
//! frames that held them are dropped after the erasure (`checkpoint_after_erasure`).

use gridbook_core::sync::wire::ErasedKind;
use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{Erased, Erasure, ErasureRecord, NoticePage, ReadScope, StorageError, StorageResult, Tombstone};

/// The meta key of the highest notice sequence number ever pruned.
const PRUNED_THROUGH: &str = "erasure_notices_pruned_through";

const NOTICE_COLUMNS: &str = "seq, id, doc, grid, kind, erased_at, by_device, reason";

fn code(kind: ErasedKind) -> i64 {
    match kind {
        ErasedKind::Resident => 0,
        ErasedKind::Household => 1,
    }
}

fn kind_of(code: i64) -> rusqlite::Result<ErasedKind> {
    match code {
        0 => Ok(ErasedKind::Resident),
        1 => Ok(ErasedKind::Household),
        _ => Err(rusqlite::Error::IntegralValueOutOfRange(0, code)),
    }
}

fn id_of(bytes: Vec<u8>, column: usize) -> rusqlite::Result<[u8; 16]> {
    bytes.try_into().map_err(|_| rusqlite::Error::InvalidColumnType(column, "id".into(), rusqlite::types::Type::Blob))
}

/// Whether `doc` is the document of an erased household.
pub(super) fn household_erased(c: &Connection, doc: &str) -> StorageResult<bool> {
    let sql = "SELECT 1 FROM erased_records WHERE doc = ?1 AND kind = 1";
    Ok(c.prepare_cached(sql)?.exists([doc])?)
}

/// Carries out `e` inside the caller's transaction.
pub(super) fn erase(c: &Connection, e: &Erasure) -> StorageResult<Erased> {
    let before = c.prepare_cached("SELECT 1 FROM erased_records WHERE id = ?1")?.exists([e.id.as_slice()])?;
    if before || household_erased(c, &e.doc)? {
        return Ok(Erased::Before);
    }
    c.prepare_cached("INSERT INTO erased_records (id, doc, kind) VALUES (?1, ?2, ?3)")?.execute(params![
        e.id.as_slice(),
        e.doc,
        code(e.kind)
    ])?;
    let (keys, changes) = match e.kind {
        ErasedKind::Resident => {
            (c.prepare_cached("DELETE FROM data_keys WHERE id = ?1")?.execute([e.id.as_slice()])?, 0)
        }
        // Its residents' keys are kept under its document; their ids are remembered too, so that
        // no key is kept or made for them under another. Its changes are ciphertext under keys
        // nobody holds now, or plaintext written by earlier builds.
        ErasedKind::Household => {
            c.prepare_cached(
                "INSERT OR IGNORE INTO erased_records (id, doc, kind) SELECT id, doc, 0 FROM data_keys WHERE doc = ?1",
            )?
            .execute([&e.doc])?;
            let keys = c
                .prepare_cached("DELETE FROM data_keys WHERE id = ?1 OR doc = ?2")?
                .execute(params![e.id.as_slice(), e.doc])?;
            (keys, c.prepare_cached("DELETE FROM changes WHERE doc = ?1")?.execute([&e.doc])?)
        }
    };
    c.prepare_cached(
        "INSERT INTO erasure_notices (id, doc, grid, kind, erased_at, by_device, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![e.id.as_slice(), e.doc, e.grid, code(e.kind), e.at, e.by_device, e.reason])?;
    let seq = c.last_insert_rowid() as u64;
    Ok(Erased::Now { seq, keys, changes })
}

/// Copies the WAL into the database and truncates it, so that the frames holding what was just
/// deleted go too. Best effort: a reader in the middle of a long read keeps the WAL as it is, and
/// the frames are overwritten as the WAL is reused.
pub(super) fn checkpoint_after_erasure(c: &Connection) {
    match c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
        Ok(0) => {}
        Ok(_) => tracing::warn!("the WAL could not be truncated after an erasure; it is reused over time"),
        Err(e) => tracing::warn!(error = %e, "the WAL checkpoint after an erasure failed"),
    }
}

pub(super) fn tombstones(c: &Connection, docs: &[String], ids: &[[u8; 16]]) -> StorageResult<Vec<Tombstone>> {
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Tombstone> {
        Ok(Tombstone { id: id_of(r.get(0)?, 0)?, doc: r.get(1)?, kind: kind_of(r.get(2)?)? })
    };
    let mut out = Vec::new();
    let mut by_doc = c.prepare_cached("SELECT id, doc, kind FROM erased_records WHERE doc = ?1")?;
    for doc in docs {
        for t in by_doc.query_map([doc], row)? {
            out.push(t?);
        }
    }
    let mut by_id = c.prepare_cached("SELECT id, doc, kind FROM erased_records WHERE id = ?1")?;
    for id in ids {
        out.extend(by_id.query_row([id.as_slice()], row).optional()?);
    }
    Ok(out)
}

pub(super) fn households_of(c: &Connection, grids: &[String]) -> StorageResult<Vec<Tombstone>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, doc, kind FROM erased_records WHERE doc >= ?1 AND doc < ?2 AND kind = ?3 ORDER BY doc",
    )?;
    let mut out = Vec::new();
    for grid in grids {
        // Every document name of the grid's households, and nothing after them: '0' follows '/'.
        let (from, to) = (format!("h/{grid}/"), format!("h/{grid}0"));
        let rows = stmt.query_map(rusqlite::params![from, to, code(ErasedKind::Household)], |r| {
            Ok(Tombstone { id: id_of(r.get(0)?, 0)?, doc: r.get(1)?, kind: kind_of(r.get(2)?)? })
        })?;
        for t in rows {
            out.push(t?);
        }
    }
    Ok(out)
}

fn notice_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ErasureRecord> {
    Ok(ErasureRecord {
        seq: r.get::<_, i64>(0)? as u64,
        erasure: Erasure {
            id: id_of(r.get(1)?, 1)?,
            doc: r.get(2)?,
            grid: r.get(3)?,
            kind: kind_of(r.get(4)?)?,
            at: r.get(5)?,
            by_device: r.get(6)?,
            reason: r.get(7)?,
        },
    })
}

pub(super) fn notices(c: &Connection, after: u64, scope: &ReadScope, max: usize) -> StorageResult<NoticePage> {
    let (after, max) = (i64::try_from(after).unwrap_or(i64::MAX), i64::try_from(max).unwrap_or(i64::MAX));
    let rows = match scope {
        ReadScope::Department(_) => Vec::new(),
        ReadScope::All => {
            let sql = format!("SELECT {NOTICE_COLUMNS} FROM erasure_notices WHERE seq > ?1 ORDER BY seq LIMIT ?2");
            let mut stmt = c.prepare_cached(&sql)?;
            stmt.query_map(params![after, max], notice_row)?.collect::<rusqlite::Result<_>>()?
        }
        ReadScope::Grids(grids) => {
            let sql = format!(
                "SELECT {NOTICE_COLUMNS} FROM erasure_notices
                 WHERE seq > ?1 AND grid IN (SELECT value FROM json_each(?2)) ORDER BY seq LIMIT ?3"
            );
            let grids = serde_json::to_string(grids).map_err(|e| StorageError::Backend(e.into()))?;
            let mut stmt = c.prepare_cached(&sql)?;
            stmt.query_map(params![after, grids, max], notice_row)?.collect::<rusqlite::Result<_>>()?
        }
    };
    // The sequence's own record: the newest number even when every notice was pruned.
    let sql = "SELECT seq FROM sqlite_sequence WHERE name = 'erasure_notices'";
    let newest: Option<i64> = c.prepare_cached(sql)?.query_row([], |r| r.get(0)).optional()?;
    let newest = newest.map_or(0, |n| n.max(0) as u64);
    Ok(NoticePage { records: rows, newest, pruned_through: pruned_through(c)? })
}

pub(super) fn prune(c: &Connection, before: i64) -> StorageResult<u64> {
    let highest: Option<i64> = c
        .prepare_cached("SELECT MAX(seq) FROM erasure_notices WHERE erased_at < ?1")?
        .query_row([before], |r| r.get(0))?;
    if let Some(highest) = highest {
        // Notices are recorded in time order, so every one up to the highest old one goes: a store
        // that missed one of them is told to start over, never left with a gap.
        c.prepare_cached("DELETE FROM erasure_notices WHERE seq <= ?1")?.execute([highest])?;
        c.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        )?
        .execute(params![PRUNED_THROUGH, highest.to_string()])?;
    }
    pruned_through(c)
}

fn pruned_through(c: &Connection) -> StorageResult<u64> {
    let value: Option<String> = c
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([PRUNED_THROUGH], |r| r.get(0))
        .optional()?;
    match value {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| StorageError::Corrupt("the erasure notices' watermark is damaged".into())),
    }
}

#[cfg(test)]
mod tests {
    use gridbook_core::StoreKey;
    use gridbook_core::sync::wire::ErasedKind;

    use crate::storage::sqlite::{SqliteStorage, connection};
    use crate::storage::{Commit, Erasure, NewChange, Storage, StoredKey};

    /// Bytes that occur nowhere in a database but where they were written.
    const MARK: &[u8] = b"erase-me-everywhere-0123456789";

    fn found(dir: &std::path::Path) -> Vec<String> {
        let mut found = Vec::new();
        for name in [connection::FILE.to_string(), format!("{}-wal", connection::FILE)] {
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_default();
            if bytes.windows(MARK.len()).any(|w| w == MARK) {
                found.push(name);
            }
        }
        found
    }

    #[test]
    fn what_an_erasure_deletes_is_gone_from_the_file_and_its_wal() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path(), "d1", None).expect("open");
        let mut wrapped = MARK.to_vec();
        wrapped.extend_from_slice(b"-key");
        storage.put_data_keys(&[StoredKey { id: [1; 16], doc: "h/g1/a".into(), wrapped }]).expect("key");
        let mut bytes = MARK.to_vec();
        bytes.extend_from_slice(b"-change");
        let change = NewChange {
            hash: [2; 32],
            doc: "h/g1/a".into(),
            grid: "g1".into(),
            author: "d".into(),
            actor: vec![2],
            seq: 1,
            bytes,
        };
        storage.commit(Commit { device: "d".into(), changes: vec![change], ..Commit::default() }).expect("change");
        storage
            .writer
            .with_connection(|c| Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?))
            .expect("in the file too");
        assert!(!found(dir.path()).is_empty(), "the test's bytes are where they were written");
        let erasure = Erasure {
            id: [1; 16],
            doc: "h/g1/a".into(),
            grid: "g1".into(),
            kind: ErasedKind::Household,
            at: 1,
            by_device: "d".into(),
            reason: String::new(),
        };
        storage.erase(&erasure).expect("erased");
        assert_eq!(found(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn every_connection_of_an_encrypted_database_overwrites_what_it_deletes() {
        let dir = tempfile::tempdir().expect("dir");
        let key = StoreKey::generate();
        let storage = SqliteStorage::open(dir.path(), "d1", Some(key)).expect("open");
        let on = |c: &rusqlite::Connection| -> i64 {
            c.query_row("PRAGMA secure_delete", [], |r| r.get(0)).expect("pragma")
        };
        assert_eq!(storage.writer.with_connection(|c| Ok(on(c))).expect("writer"), 1);
        assert_eq!(storage.read(|c| Ok(on(c))).expect("reader"), 1);
    }
}
