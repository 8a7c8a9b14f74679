//! Documents on disk and in memory: loading (snapshot plus the changes since), persisting a change in
//! the caller's SQLite transaction, compaction, and a small cache of loaded documents so that a day
//! of writes to the same month's journal does not reload it each time.

use std::collections::HashMap;

use automerge::{ActorId, Automerge, Change, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::DocId;

/// Changes kept beside a snapshot before they are folded into it. Compaction costs one save of the
/// document, so it is spread over this many writes.
const COMPACT_AFTER: i64 = 256;
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
    let Some(snapshot) = conn
        .query_row("SELECT snapshot FROM docs WHERE id = ?1", [&key], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let mut doc = match snapshot {
        Some(bytes) => Automerge::load(&bytes)?,
        None => Automerge::new(),
    };
    let mut stmt = conn.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
    let changes = stmt
        .query_map([&key], |r| r.get::<_, Vec<u8>>(0))?
        .map(|bytes| Change::from_bytes(bytes?).map_err(|e| Error::InvalidChanges(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    doc.apply_changes(changes)?;
    Ok(Some(doc))
}

/// Records `changes` of document `id` in the caller's transaction, folding them into a new snapshot
/// of `doc` once enough have gathered. Changes the server may lack also go to the outbox.
pub(crate) fn persist(conn: &Connection, id: &DocId, doc: &Automerge, changes: &[Change], outbox: bool) -> Result<()> {
    let key = id.to_string();
    if outbox {
        let mut insert = conn.prepare_cached("INSERT INTO outbox (doc_id, bytes) VALUES (?1, ?2)")?;
        for change in changes {
            insert.execute(params![key, change.raw_bytes()])?;
        }
    }
    let heads = encode_heads(&doc.get_heads());
    let pending: i64 = conn
        .prepare_cached(
            "INSERT INTO docs (id, heads, pending) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET heads = excluded.heads, pending = pending + excluded.pending
             RETURNING pending",
        )?
        .query_row(params![key, heads, changes.len() as i64], |r| r.get(0))?;
    if pending >= COMPACT_AFTER {
        compact(conn, &key, doc)?;
        return Ok(());
    }
    let mut insert = conn.prepare_cached("INSERT INTO changes (doc_id, bytes) VALUES (?1, ?2)")?;
    for change in changes {
        insert.execute(params![key, change.raw_bytes()])?;
    }
    Ok(())
}

/// Replaces a document's snapshot with `doc` saved whole, and drops the changes it now holds.
pub(crate) fn compact(conn: &Connection, key: &str, doc: &Automerge) -> Result<()> {
    conn.execute("UPDATE docs SET snapshot = ?2, pending = 0 WHERE id = ?1", params![key, doc.save()])?;
    conn.execute("DELETE FROM changes WHERE doc_id = ?1", [key])?;
    Ok(())
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
