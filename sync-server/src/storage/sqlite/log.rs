//! The change log's SQL for the SQLite backend: appending one request's commit, and reading one
//! device's next page. Kept apart from the connection handling in `mod.rs` because this is where
//! the server's cost lives: every query here walks an index range that starts at the device's
//! cursor, so a sync costs what changed since, not what the district holds.

use std::collections::{BTreeSet, HashMap};

use gridbook_core::sync::wire::Proof;
use rusqlite::{Connection, OptionalExtension, params};

use super::{devices, erasures, facts};
use crate::storage::{Commit, LogChange, LogPage, LogQuery, Position, ReadScope, StorageError, StorageResult};

/// Applies one request's commit inside the caller's transaction, and returns how many of its
/// changes were new.
pub(super) fn apply_commit(c: &Connection, commit: &Commit) -> StorageResult<usize> {
    if let Some(actor) = &commit.bind_actor {
        devices::bind_actor(c, actor, &commit.device)?;
    }
    let mut insert = c.prepare_cached(
        "INSERT OR IGNORE INTO changes (hash, doc, grid, author, actor, actor_seq, bytes, proof)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    // Which batch covers each change; a batch's row is written when its first change is stored.
    let mut batch_of: HashMap<&[u8; 32], usize> = HashMap::new();
    for (i, proof) in commit.proofs.iter().enumerate() {
        for hash in proof.hashes() {
            batch_of.entry(hash).or_insert(i);
        }
    }
    let mut proof_ids: HashMap<usize, i64> = HashMap::new();
    let mut last_seq: HashMap<&str, i64> = HashMap::new();
    let mut stored = 0;
    // Judged before an erasure that another request carried out meanwhile: its household's
    // document is never stored again.
    let mut erased: HashMap<&str, bool> = HashMap::new();
    for ch in &commit.changes {
        if ch.doc.starts_with("h/") {
            let gone = match erased.get(ch.doc.as_str()) {
                Some(gone) => *gone,
                None => {
                    let gone = erasures::household_erased(c, &ch.doc)?;
                    erased.insert(&ch.doc, gone);
                    gone
                }
            };
            if gone {
                continue;
            }
        }
        let batch = batch_of.get(&ch.hash).copied().filter(|&i| commit.proofs[i].actor == ch.actor);
        let proof = match batch {
            Some(i) => Some(match proof_ids.get(&i) {
                Some(id) => *id,
                None => {
                    let id = insert_proof(c, &commit.proofs[i])?;
                    proof_ids.insert(i, id);
                    id
                }
            }),
            None => None,
        };
        let row = params![&ch.hash[..], ch.doc, ch.grid, ch.author, ch.actor, ch.seq as i64, ch.bytes, proof];
        if insert.execute(row)? == 1 {
            last_seq.insert(&ch.doc, c.last_insert_rowid());
            stored += 1;
        }
    }
    facts::register(c, &commit.grids)?;
    facts::store(c, &commit.facts, &last_seq, top_seq(c)?)?;
    for key in &commit.keys {
        facts::put_data_key(c, key)?;
    }
    Ok(stored)
}

/// Keeps one author proof, and returns its id. A batch whose every change was already stored
/// (a retried request) is kept too: rare, and only its 64 bytes and hashes.
fn insert_proof(c: &Connection, proof: &Proof) -> StorageResult<i64> {
    c.prepare_cached("INSERT INTO proofs (actor, signature, hashes) VALUES (?1, ?2, ?3)")?.execute(params![
        proof.actor,
        &proof.signature[..],
        proof.hashes_blob()
    ])?;
    Ok(c.last_insert_rowid())
}

/// The proofs of `ids`, each once.
pub(super) fn proofs(c: &Connection, ids: &[i64]) -> StorageResult<Vec<Proof>> {
    let mut stmt = c.prepare_cached("SELECT actor, signature, hashes FROM proofs WHERE id = ?1")?;
    let mut out = Vec::new();
    for id in ids.iter().collect::<BTreeSet<_>>() {
        let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> =
            stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        out.extend(row.and_then(|(actor, signature, hashes)| Proof::from_stored(actor, &signature, &hashes)));
    }
    Ok(out)
}

/// The newest sequence number handed out (0 for an empty log).
fn top_seq(c: &Connection) -> StorageResult<i64> {
    Ok(c.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM changes")?.query_row([], |r| r.get(0))?)
}

/// Every stored change of one document, in order.
pub(super) fn doc_changes(c: &Connection, doc: &str) -> StorageResult<Vec<Vec<u8>>> {
    let mut stmt = c.prepare_cached("SELECT bytes FROM changes WHERE doc = ?1 ORDER BY seq")?;
    Ok(stmt.query_map([doc], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// The access-log documents' changes: their names sort between `a/` and `a0`, one range of the
/// index by document.
pub(super) fn access_log(c: &Connection) -> StorageResult<Vec<LogChange>> {
    let mut stmt =
        c.prepare_cached("SELECT seq, doc, bytes FROM changes WHERE doc >= 'a/' AND doc < 'a0' ORDER BY seq")?;
    let rows =
        stmt.query_map([], |r| Ok(LogChange { seq: r.get(0)?, doc: r.get(1)?, bytes: r.get(2)?, proof: None }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One index seek per document and actor, not per change: the stored changes at or above the
/// smallest number asked for, which for a day's new changes is none.
pub(super) fn hashes_at(c: &Connection, at: &[(&str, &[u8], u64)]) -> StorageResult<Vec<Option<[u8; 32]>>> {
    let mut lowest: HashMap<(&str, &[u8]), u64> = HashMap::new();
    for &(doc, actor, seq) in at {
        let low = lowest.entry((doc, actor)).or_insert(seq);
        *low = (*low).min(seq);
    }
    let mut stmt =
        c.prepare_cached("SELECT actor_seq, hash FROM changes WHERE doc = ?1 AND actor = ?2 AND actor_seq >= ?3")?;
    let mut stored: HashMap<(&str, &[u8], u64), [u8; 32]> = HashMap::new();
    for ((doc, actor), low) in lowest {
        let rows =
            stmt.query_map(params![doc, actor, low as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        for row in rows {
            let (seq, hash) = row?;
            if let Ok(hash) = hash.try_into() {
                stored.insert((doc, actor, seq as u64), hash);
            }
        }
    }
    Ok(at.iter().map(|&(doc, actor, seq)| stored.get(&(doc, actor, seq)).copied()).collect())
}

pub(super) fn change_count(c: &Connection) -> StorageResult<u64> {
    Ok(c.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get::<_, i64>(0))? as u64)
}

/// One entry of a page before its bytes are read: enough to order and budget it.
struct Row {
    visible: i64,
    seq: i64,
    doc: String,
    len: usize,
}

/// Reads one device's next page inside the caller's (snapshot) transaction.
pub(super) fn read_log(c: &Connection, q: &LogQuery) -> StorageResult<LogPage> {
    let limit = q.max_changes as i64 + 1;
    let after = q.after;
    // For a plain log a change is visible at its own seq, so the group at `after.seq` holds one
    // change: delivered unless the position is partial.
    let from = if after.is_partial() { after.seq - 1 } else { after.seq };
    let map = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Row> {
        Ok(Row { visible: r.get(0)?, seq: r.get(1)?, doc: r.get(2)?, len: r.get::<_, i64>(3)? as usize })
    };
    // `length(bytes)` reads the blob's size from the record header, not the blob: change bytes are
    // read only for the changes that make the page.
    let rows: Vec<Row> = match &q.scope {
        ReadScope::All => {
            let sql = "SELECT seq, seq, doc, length(bytes) FROM changes
                       WHERE seq > ?1 AND author != ?2 ORDER BY seq LIMIT ?3";
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![from, q.exclude_author, limit], map)?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        ReadScope::Grids(grids) => {
            // Per grid, a range on the (grid, seq) index: the cost is what changed in scope since
            // the cursor, not what the district changed.
            let sql = "SELECT seq, seq, doc, length(bytes) FROM changes INDEXED BY changes_by_grid
                       WHERE grid IN (SELECT value FROM json_each(?1)) AND seq > ?2 AND author != ?3
                       ORDER BY seq LIMIT ?4";
            let grids = serde_json::to_string(grids).map_err(|e| StorageError::Backend(e.into()))?;
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![grids, from, q.exclude_author, limit], map)?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        ReadScope::Department(department) => {
            // Events granted before the cursor: their changes after it, through the document's index.
            // Events granted since: whole, each change visible at the grant, so a department that
            // receives an event late still receives all of it.
            let sql = "SELECT visible, seq, doc, len FROM (
                           SELECT MAX(c.seq, g.granted_seq) AS visible, c.seq AS seq, c.doc AS doc,
                                  length(c.bytes) AS len, c.author AS author
                           FROM grants g JOIN changes c INDEXED BY changes_by_doc_actor ON c.doc = g.doc
                           WHERE g.department = ?1 AND g.granted_seq < ?2 AND c.seq >= ?2
                           UNION ALL
                           SELECT MAX(c.seq, g.granted_seq), c.seq, c.doc, length(c.bytes), c.author
                           FROM grants g INDEXED BY grants_by_department JOIN changes c ON c.doc = g.doc
                           WHERE g.department = ?1 AND g.granted_seq >= ?2
                       )
                       WHERE author != ?4 AND (visible > ?2 OR (visible = ?2 AND seq > ?3))
                       ORDER BY visible, seq LIMIT ?5";
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![department, after.seq, after.tie, q.exclude_author, limit], map)?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };

    let mut page = LogPage::default();
    let mut bytes = 0;
    let mut read = c.prepare_cached("SELECT bytes, proof FROM changes WHERE seq = ?1")?;
    let mut last = None;
    for row in rows {
        if page.changes.len() >= q.max_changes || (!page.changes.is_empty() && bytes + row.len > q.max_bytes) {
            page.more = true;
            break;
        }
        bytes += row.len;
        let (bytes, proof) = read.query_row([row.seq], |r| Ok((r.get(0)?, r.get(1)?)))?;
        page.changes.push(LogChange { seq: row.seq, doc: row.doc, bytes, proof });
        last = Some(Position { seq: row.visible, tie: row.seq });
    }
    page.cursor = match last {
        Some(last) if page.more => last,
        // Nothing more in scope up to the newest change: the device moves past it all, so a device
        // with nothing in scope still advances and the next sync starts at the log's end.
        _ => Position::through(top_seq(c)?).max(after),
    };
    Ok(page)
}
