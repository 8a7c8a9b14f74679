//! The store's data keys and the keys it waits for, in its own (SQLCipher-encrypted) database.
//!
//! A key is kept with the document its record lives in, so that a sync or a peer exchange can send
//! the keys of the documents it sends. `mine` marks a key this store made. A key this store made, or
//! received from a peer (whose changes it may relay to the server), goes to the server until the
//! server has answered a request that carried it (`unsent`). A key that arrives is never
//! replaced: the first key of a record is the one its fields were sealed under.
//!
//! `key_waits` lists the records this store has seen sealed fields of, or plaintext fields of a
//! record no one has a key for yet (`make`: a household of an earlier build, whose key the server
//! makes), and whose key it lacks; a sync asks for them by id, and their documents are read again
//! when the key arrives.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::DataKey;
use std::collections::BTreeSet;

use crate::doc::Seal;
use crate::error::Result;
use crate::ids::{DocId, DocKind, GridId};
use crate::sync::wire::WireKey;

impl crate::store::Store {
    /// The key to write the sensitive fields of record `id` (of document `doc`) under: the store's,
    /// made now when `make` (a record this store creates) and it has none. `None` for a record of an
    /// earlier build whose key has not reached this store: its fields are written as plaintext
    /// until it does, since a key made here could differ from the one the server makes for it.
    ///
    /// # Errors
    /// [`crate::Error::Erased`] for an erased record: its key is gone for good, and a record written
    /// without one would be plaintext.
    pub(crate) fn seal_for(&self, id: Uuid, doc: &DocId, make: bool) -> Result<Option<Seal>> {
        self.refuse_erased(id, "record")?;
        let key = if make {
            self.write(|c| get_or_make(c, id, &doc.to_string()).map(Some))?
        } else {
            self.read(|c| get(c, id))?
        };
        let actor = self.guard().docs.actor().to_bytes().to_vec();
        Ok(key.map(|key| Seal { id, key, actor }))
    }

    /// The data keys that go with `docs` to another store: their records' own, and for a journal
    /// its grid's household keys (its visits' and checks' notes are under them).
    pub(crate) fn keys_for_docs(&self, docs: &[crate::merge::DocChanges]) -> Result<Vec<WireKey>> {
        let ids: Vec<DocId> = docs.iter().filter_map(|d| d.doc.parse().ok()).collect();
        let journal_grids: BTreeSet<GridId> =
            ids.iter().filter(|id| id.kind == DocKind::Journal).map(|id| id.grid).collect();
        let names: BTreeSet<&str> = docs.iter().map(|d| d.doc.as_str()).collect();
        let entries = self.read(|c| {
            let mut out = Vec::new();
            for name in &names {
                out.extend(of_doc(c, name)?);
            }
            for grid in &journal_grids {
                out.extend(of_grid_households(c, *grid)?);
            }
            Ok(out)
        })?;
        let mut keys: Vec<WireKey> = entries.into_iter().map(to_wire).collect();
        keys.sort_by_key(|k| k.id);
        keys.dedup_by_key(|k| k.id);
        Ok(keys)
    }
}

/// A key as the messages carry it.
pub(crate) fn to_wire(entry: KeyEntry) -> WireKey {
    WireKey { id: entry.id.into_bytes(), doc: entry.doc, key: zeroize::Zeroizing::new(*entry.key.bytes()) }
}

/// A key as the store keeps it.
///
/// # Errors
/// [`crate::Error::InvalidInput`] for a key that is not 32 bytes.
pub(crate) fn from_wire(key: &WireKey) -> Result<KeyEntry> {
    Ok(KeyEntry { id: Uuid::from_bytes(key.id), doc: key.doc.clone(), key: DataKey::from_bytes(key.key.as_ref())? })
}

/// One key with the document it belongs to, as the sync messages carry it.
#[derive(Debug, Clone)]
pub(crate) struct KeyEntry {
    pub id: Uuid,
    pub doc: String,
    pub key: DataKey,
}

/// The key of record `id`, if this store holds it.
pub(crate) fn get(conn: &Connection, id: Uuid) -> Result<Option<DataKey>> {
    let bytes: Option<zeroize::Zeroizing<Vec<u8>>> = conn
        .prepare_cached("SELECT key FROM data_keys WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
        .map(zeroize::Zeroizing::new);
    bytes.map(|b| DataKey::from_bytes(&b)).transpose()
}

/// The key of record `id` of document `doc`, made now (and to be sent) if the store has none.
pub(crate) fn get_or_make(conn: &Connection, id: Uuid, doc: &str) -> Result<DataKey> {
    if let Some(key) = get(conn, id)? {
        return Ok(key);
    }
    let key = DataKey::generate();
    conn.prepare_cached("INSERT INTO data_keys (id, doc, key, mine, unsent) VALUES (?1, ?2, ?3, 1, 1)")?
        .execute(params![id, doc, key.bytes().as_slice()])?;
    Ok(key)
}

/// Keeps a key received from the server or, `relay`, from a peer: a peer's key goes on to the
/// server with the peer's changes this store relays, since their author may never sync again.
/// `false` if the store already had one for `id` (the one it has stays), and for the key of an
/// erased record or of a record of an erased household, which is dropped.
pub(crate) fn receive(conn: &Connection, entry: &KeyEntry, relay: bool) -> Result<bool> {
    if crate::erasure::is_erased(conn, entry.id)? || crate::erasure::is_erased_doc(conn, &entry.doc)? {
        return Ok(false);
    }
    let added = conn
        .prepare_cached("INSERT OR IGNORE INTO data_keys (id, doc, key, mine, unsent) VALUES (?1, ?2, ?3, 0, ?4)")?
        .execute(params![entry.id, entry.doc, entry.key.bytes().as_slice(), relay])?;
    Ok(added == 1)
}

/// The keys this store made, or received from a peer, that no server has acknowledged yet.
pub(crate) fn unsent(conn: &Connection) -> Result<Vec<KeyEntry>> {
    entries(conn, "SELECT id, doc, key FROM data_keys WHERE unsent = 1 ORDER BY id", [])
}

/// Marks keys as acknowledged by the server.
pub(crate) fn mark_sent(conn: &Connection, ids: &[Uuid]) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE data_keys SET unsent = 0 WHERE id = ?1")?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// The keys this store holds for the records of `doc`.
pub(crate) fn of_doc(conn: &Connection, doc: &str) -> Result<Vec<KeyEntry>> {
    entries(conn, "SELECT id, doc, key FROM data_keys WHERE doc = ?1 ORDER BY id", [doc])
}

/// The keys this store holds for the households of `grid` and their residents.
pub(crate) fn of_grid_households(conn: &Connection, grid: GridId) -> Result<Vec<KeyEntry>> {
    let prefix = format!("h/{grid}/");
    entries(conn, "SELECT id, doc, key FROM data_keys WHERE doc >= ?1 AND doc < ?1 || '~' ORDER BY id", [prefix])
}

fn entries(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<KeyEntry>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?, zeroize::Zeroizing::new(r.get::<_, Vec<u8>>(2)?)))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, doc, bytes) = row?;
        out.push(KeyEntry { id, doc, key: DataKey::from_bytes(&bytes)? });
    }
    Ok(out)
}

/// Notes that a record of `doc` waits for key `id`, which belongs to document `key_doc`; `make`
/// if no one may have made it yet (plaintext fields of an earlier build).
pub(crate) fn wait(conn: &Connection, id: Uuid, key_doc: &str, doc: &str, make: bool) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO key_waits (id, doc, key_doc, make) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id, doc) DO UPDATE SET make = make AND excluded.make",
    )?
    .execute(params![id, doc, key_doc, make])?;
    Ok(())
}

/// The keys waited for: id, the document the key belongs to, and whether it may be made (no
/// record that waits for it has sealed fields).
pub(crate) fn waits(conn: &Connection) -> Result<Vec<(Uuid, String, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.id, MIN(w.key_doc), MIN(w.make) FROM key_waits w
         WHERE NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.id = w.id)
         GROUP BY w.id ORDER BY w.id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The documents to read again now that the keys `ids` have arrived; their waits are dropped.
pub(crate) fn arrived(conn: &Connection, ids: &[Uuid]) -> Result<Vec<String>> {
    let mut docs = Vec::new();
    let mut take = conn.prepare_cached("DELETE FROM key_waits WHERE id = ?1 RETURNING doc")?;
    for id in ids {
        let rows = take.query_map([id], |r| r.get::<_, String>(0))?;
        for doc in rows {
            docs.push(doc?);
        }
    }
    docs.sort();
    docs.dedup();
    Ok(docs)
}
