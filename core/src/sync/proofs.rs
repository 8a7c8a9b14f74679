//! The proofs a store keeps for the changes it may pass on: the signed batch each change of
//! another device arrived in, from a peer (signed by its author) or from the server (which vouches
//! for every change of its reply). A change is passed on only with its proof, so that the server and
//! every store after it can check who made it. A change that came with its author's own proof keeps
//! that one too (`signed`), whichever came first: it shows the change as signed by its author, and
//! goes to a peer that can check it.

use rusqlite::{Connection, OptionalExtension, params};

use super::wire::{Proof, SERVER_ACTOR};
use crate::error::Result;

/// Keeps `proof` for the changes it covers (a change keeps the first proof it arrived with, and the
/// first of its author's).
pub(crate) fn save(c: &Connection, proof: &Proof) -> Result<()> {
    c.prepare_cached("INSERT INTO proofs (actor, signature, hashes) VALUES (?1, ?2, ?3)")?.execute(params![
        proof.actor,
        &proof.signature[..],
        proof.hashes_blob()
    ])?;
    let id = c.last_insert_rowid();
    let mut stmt = c.prepare_cached("INSERT OR IGNORE INTO proven (hash, proof) VALUES (?1, ?2)")?;
    for hash in proof.hashes() {
        stmt.execute(params![&hash[..], id])?;
    }
    if proof.actor != SERVER_ACTOR {
        let mut stmt = c.prepare_cached("INSERT OR IGNORE INTO signed (hash, proof) VALUES (?1, ?2)")?;
        for hash in proof.hashes() {
            stmt.execute(params![&hash[..], id])?;
        }
    }
    Ok(())
}

/// Whether the store holds a proof of the change of `hash` signed by its author.
pub(crate) fn signed_by_author(c: &Connection, hash: &[u8; 32]) -> Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM signed WHERE hash = ?1")?
        .query_row([&hash[..]], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The proofs covering any of `hashes` (for each, the first it arrived with and its author's),
/// each once.
pub(crate) fn covering(c: &Connection, hashes: impl IntoIterator<Item = [u8; 32]>) -> Result<Vec<Proof>> {
    let mut ids = std::collections::BTreeSet::new();
    let mut find =
        c.prepare_cached("SELECT proof FROM proven WHERE hash = ?1 UNION SELECT proof FROM signed WHERE hash = ?1")?;
    for hash in hashes {
        let found = find.query_map([&hash[..]], |r| r.get::<_, i64>(0))?;
        for id in found {
            ids.insert(id?);
        }
    }
    let mut read = c.prepare_cached("SELECT actor, signature, hashes FROM proofs WHERE id = ?1")?;
    let mut proofs = Vec::with_capacity(ids.len());
    for id in ids {
        let (actor, signature, hashes): (Vec<u8>, Vec<u8>, Vec<u8>) =
            read.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        proofs.extend(Proof::from_stored(actor, &signature, &hashes));
    }
    Ok(proofs)
}
