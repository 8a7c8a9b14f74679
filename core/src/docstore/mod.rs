//! Documents on disk and in memory: loading (snapshot plus the changes since), persisting a change in
//! the caller's SQLite transaction, folding changes into a new snapshot (at idle, from another
//! connection; inline only as a backstop), and a small cache of loaded documents so that a day of
//! writes to the same month's journal does not reload it each time.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::ids::DocId;

/// Changes beside a snapshot at which the store folds them into a new one once it is idle
/// (`maintenance.rs`). A fold costs one save of the whole document, so it is spread over this many
/// writes.
pub(crate) const FOLD_AT_IDLE: i64 = 256;
/// Changes at which a write folds its document itself, inside the write: only a store that is never
/// idle gets here (a long merge, the demo build), and its documents must stay bounded all the same.
/// A month's journal holds far fewer records, so in the field a journal never reaches it.
const FOLD_INLINE_AT: i64 = 4096;
/// Loaded documents kept in memory.
const CACHE_CAPACITY: usize = 48;

#[derive(Debug)]
pub(crate) struct DocCache {
    actor: ActorId,
    docs: HashMap<DocId, (u64, Automerge)>,
    tick: u64,
}

impl DocCache {
    pub fn new(actor: ActorId) -> Self {
        Self { actor, docs: HashMap::new(), tick: 0 }
    }

    /// The document, loaded from disk if it is not in memory; a new, empty document if it is on
    /// neither.
    pub fn get(&mut self, conn: &Connection, id: &DocId) -> Result<&mut Automerge> {
        self.tick += 1;
        if !self.docs.contains_key(id) {
            if self.docs.len() >= CACHE_CAPACITY
                && let Some(oldest) = self.docs.iter().min_by_key(|(_, (t, _))| *t).map(|(k, _)| k.clone())
            {
                self.docs.remove(&oldest);
            }
            let doc = load(conn, id)?.unwrap_or_default().with_actor(self.actor.clone());
            self.docs.insert(id.clone(), (self.tick, doc));
        }
        let entry = self.docs.get_mut(id).expect("inserted above");
        entry.0 = self.tick;
        Ok(&mut entry.1)
    }

    /// The actor this device's changes carry.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Forgets a document whose in-memory state may be ahead of the disk (a failed commit).
    pub fn evict(&mut self, id: &DocId) {
        self.docs.remove(id);
    }

    pub fn clear(&mut self) {
        self.docs.clear();
    }
}

/// Loads a document from its snapshot and the changes since, or `None` if the store has no such
/// document.
pub(crate) fn load(conn: &Connection, id: &DocId) -> Result<Option<Automerge>> {
    let key = id.to_string();
    let Some(snapshot) = snapshot(conn, &key)? else {
        return Ok(None);
    };
    let changes = stored_changes(conn, &key)?.into_iter().map(|(_, bytes)| bytes);
    build(snapshot.as_deref(), changes).map(Some)
}

/// The document's snapshot (`Some(None)` before its first fold), or `None` if there is no document.
fn snapshot(conn: &Connection, key: &str) -> Result<Option<Option<Vec<u8>>>> {
    Ok(conn
        .prepare_cached("SELECT s.bytes FROM docs d LEFT JOIN snapshots s ON s.id = d.id WHERE d.id = ?1")?
        .query_row([key], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?)
}

/// Sets the document's snapshot, whether or not it had one.
fn put_snapshot(conn: &Connection, key: &str, bytes: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO snapshots (id, bytes) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes",
    )?
    .execute(params![key, bytes])?;
    Ok(())
}

/// The document's change rows beside its snapshot, in order, with their sequence numbers.
fn stored_changes(conn: &Connection, key: &str) -> Result<Vec<(i64, Vec<u8>)>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, bytes FROM changes WHERE doc_id = ?1 AND NOT folded ORDER BY seq")?;
    let rows = stmt.query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn build(snapshot: Option<&[u8]>, changes: impl Iterator<Item = Vec<u8>>) -> Result<Automerge> {
    let mut doc = match snapshot {
        Some(bytes) => Automerge::load(bytes)?,
        None => Automerge::new(),
    };
    let changes = changes
        .map(|bytes| Change::from_bytes(bytes).map_err(|e| Error::InvalidChanges(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    doc.apply_changes(changes)?;
    Ok(doc)
}

/// Records `changes` of document `id` in the caller's transaction, and returns how many changes the
/// document now has beside its snapshot (for the fold at idle). Only past [`FOLD_INLINE_AT`] does it
/// fold them into a new snapshot of `doc` itself. `unsent` marks changes the server may lack: the
/// next sync sends them.
pub(crate) fn persist(conn: &Connection, id: &DocId, doc: &Automerge, changes: &[Change], unsent: bool) -> Result<i64> {
    let key = id.to_string();
    let heads = encode_heads(&doc.get_heads());
    let added = changes.len() as i64;
    // An update and a lookup, not an upsert with `RETURNING`: SQLite runs that through a temporary
    // table, and the row is new only on a document's first write.
    let updated = conn
        .prepare_cached("UPDATE docs SET heads = ?2, pending = pending + ?3 WHERE id = ?1")?
        .execute(params![key, heads, added])?;
    let pending: i64 = if updated == 0 {
        conn.prepare_cached("INSERT INTO docs (id, heads, pending) VALUES (?1, ?2, ?3)")?
            .execute(params![key, heads, added])?;
        added
    } else {
        conn.prepare_cached("SELECT pending FROM docs WHERE id = ?1")?.query_row([&key], |r| r.get(0))?
    };
    let fold_now = pending >= FOLD_INLINE_AT;
    if fold_now {
        compact(conn, &key, doc)?;
        if !unsent {
            return Ok(0);
        }
    }
    // Folded now, the changes are in the new snapshot and their rows only wait to be sent.
    let mut insert =
        conn.prepare_cached("INSERT INTO changes (doc_id, bytes, unsent, folded) VALUES (?1, ?2, ?3, ?4)")?;
    for change in changes {
        insert.execute(params![key, change.raw_bytes(), unsent, fold_now])?;
    }
    Ok(if fold_now { 0 } else { pending })
}

/// Replaces a document's snapshot with `doc` saved whole. Its change rows are then in the snapshot:
/// they go, but for those the server may still lack, which stay, marked folded, until sent.
pub(crate) fn compact(conn: &Connection, key: &str, doc: &Automerge) -> Result<()> {
    put_snapshot(conn, key, &doc.save())?;
    conn.execute("UPDATE docs SET pending = 0 WHERE id = ?1", [key])?;
    conn.execute("DELETE FROM changes WHERE doc_id = ?1 AND NOT unsent", [key])?;
    conn.execute("UPDATE changes SET folded = 1 WHERE doc_id = ?1 AND NOT folded", [key])?;
    Ok(())
}

/// Marks the changes up to `through` as received by the server: those already in their snapshots go.
/// The changes of a document the server refused were not received: they stay unsent.
pub(crate) fn sent(conn: &Connection, through: i64) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM changes WHERE seq <= ?1 AND unsent AND folded AND doc_id NOT IN (SELECT doc FROM sync_refusals)",
    )?
    .execute([through])?;
    conn.prepare_cached(
        "UPDATE changes SET unsent = 0 WHERE seq <= ?1 AND unsent AND doc_id NOT IN (SELECT doc FROM sync_refusals)",
    )?
    .execute([through])?;
    Ok(())
}

/// Deletes document `key` from disk: its snapshot, its change rows (unsent ones too) and its heads.
pub(crate) fn remove(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM changes WHERE doc_id = ?1", [key])?;
    conn.execute("DELETE FROM snapshots WHERE id = ?1", [key])?;
    conn.execute("DELETE FROM docs WHERE id = ?1", [key])?;
    Ok(())
}

/// Takes document `key` (loaded as `doc`) back to what the server acknowledged: its changes waiting
/// to go up are dropped, with every change made on top of them, and what is left becomes its
/// snapshot. Returns the document left, or `None` if nothing of it was ever acknowledged (it is
/// then deleted, as [`remove`] does).
///
/// # Errors
/// [`Error::InvalidChanges`] if a stored change cannot be read.
pub(crate) fn roll_back_unsent(conn: &Connection, key: &str, doc: &Automerge) -> Result<Option<Automerge>> {
    let mut dropped: HashSet<ChangeHash> = HashSet::new();
    let mut stmt = conn.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 AND unsent")?;
    for bytes in stmt.query_map([key], |r| r.get::<_, Vec<u8>>(0))? {
        let change = Change::from_bytes(bytes?).map_err(|e| Error::InvalidChanges(e.to_string()))?;
        dropped.insert(change.hash());
    }
    // History order is causal: a change's dependencies come before it.
    let mut kept = Vec::new();
    for change in doc.get_changes(&[]) {
        if dropped.contains(&change.hash()) || change.deps().iter().any(|d| dropped.contains(d)) {
            dropped.insert(change.hash());
        } else {
            kept.push(change.clone());
        }
    }
    if kept.is_empty() {
        remove(conn, key)?;
        return Ok(None);
    }
    let mut left = Automerge::new();
    left.apply_changes(kept)?;
    conn.execute("DELETE FROM changes WHERE doc_id = ?1", [key])?;
    put_snapshot(conn, key, &left.save())?;
    conn.execute(
        "UPDATE docs SET heads = ?2, pending = 0 WHERE id = ?1",
        params![key, encode_heads(&left.get_heads())],
    )?;
    Ok(Some(left))
}

/// What [`fold`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    /// This many changes are in the new snapshot, and their rows are gone.
    Folded(usize),
    /// Another writer replaced the snapshot meanwhile (an inline fold, `Store::compact`); its
    /// snapshot stands.
    Superseded,
    /// The caller asked to stop before writing; nothing was written.
    Deferred,
    /// The document has no changes beside its snapshot, or does not exist.
    Nothing,
}

/// Folds the changes document `key` has on disk into a new snapshot, on a connection that is not the
/// writer's. The document is read in one read transaction and built and saved holding no lock;
/// `proceed` is asked before the write lock is taken. The write replaces the snapshot only if it is
/// still the one read, so a fold by the writer meanwhile stands, and deletes exactly the rows it
/// folded, so changes committed meanwhile stay beside the new snapshot.
pub(crate) fn fold(conn: &mut Connection, key: &str, proceed: impl FnOnce() -> bool) -> Result<Fold> {
    let (old, rows) = {
        let read = conn.transaction()?;
        let Some(old) = snapshot(&read, key)? else {
            return Ok(Fold::Nothing);
        };
        let rows = stored_changes(&read, key)?;
        read.commit()?;
        (old, rows)
    };
    let Some(&(through, _)) = rows.last() else {
        return Ok(Fold::Nothing);
    };
    let count = rows.len();
    let doc = build(old.as_deref(), rows.into_iter().map(|(_, bytes)| bytes))?;
    // A change whose predecessors are missing is not in the document, so a save would drop it while
    // its row was deleted with the others.
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(Error::InvalidChanges("a stored change lacks its predecessors".into()));
    }
    let new = doc.save();
    drop(doc);
    if !proceed() {
        return Ok(Fold::Deferred);
    }
    let write = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Replaced only if it is still the snapshot read above (or still none).
    let replaced = match &old {
        Some(old) => {
            write.execute("UPDATE snapshots SET bytes = ?2 WHERE id = ?1 AND bytes = ?3", params![key, new, old])?
        }
        None => write.execute(
            "INSERT INTO snapshots (id, bytes) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM snapshots WHERE id = ?1)",
            params![key, new],
        )?,
    };
    // Rows up to `through` only ever leave the document's log with a new snapshot (deleted, or kept
    // as folded until sent), and new rows come after them: a count that differs means another fold
    // got there first. Dropping `write` rolls back.
    let deleted = write.execute(
        "DELETE FROM changes WHERE doc_id = ?1 AND seq <= ?2 AND NOT folded AND NOT unsent",
        params![key, through],
    )?;
    let kept = write.execute(
        "UPDATE changes SET folded = 1 WHERE doc_id = ?1 AND seq <= ?2 AND NOT folded",
        params![key, through],
    )?;
    if replaced != 1 || deleted + kept != count {
        return Ok(Fold::Superseded);
    }
    write.execute("UPDATE docs SET pending = pending - ?2 WHERE id = ?1", params![key, count as i64])?;
    write.commit()?;
    Ok(Fold::Folded(count))
}

/// Documents with at least `min` changes beside their snapshot: one pass over the small `docs`
/// rows, for one-off passes rather than idle time.
pub(crate) fn foldable(conn: &Connection, min: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM docs WHERE pending >= ?1 ORDER BY id")?;
    let rows = stmt.query_map([min], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes.chunks_exact(32).filter_map(|c| ChangeHash::try_from(c).ok()).collect()
}

/// Every document's name and heads, read without loading any document.
pub(crate) fn all_heads(conn: &Connection) -> Result<Vec<(String, Vec<ChangeHash>)>> {
    let mut stmt = conn.prepare_cached("SELECT id, heads FROM docs ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, decode_heads(&r.get::<_, Vec<u8>>(1)?))))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
pub(crate) mod tests;
