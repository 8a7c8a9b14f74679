//! The store's own check of who made the changes a server relays (version 9): a change is taken
//! on its author's signature, not on the server's word, wherever the store can tell that its
//! author signs.
//!
//! The key of an author is pinned the first time the store learns it (from the server's list of
//! authors, or a certificate a peer showed); a reply that names another key for that author has
//! none of that author's changes applied. A change of an author with a key must be covered by a
//! proof of that author that verifies with the key, with two exceptions the server's signature
//! over its reply still vouches for: a change of a store that enrolled no key, and a change the
//! server holds without a proof (stored before servers kept them). The second ends for an author
//! once one of its changes has come with its own proof: the server's log is in the order it stored
//! changes, so every later change of that author was stored with a proof, and one without is a
//! server writing in its name. A change the store already holds is not checked again: it applies
//! nothing. A change that fails leaves its whole document out of the round, and nothing else.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use automerge::{Automerge, ChangeHash};

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OptionalExtension, params};

use super::wire::{Author, Proof, SyncResponse, change_actor, change_hash};
use crate::docstore;
use crate::error::Result;
use crate::ids::DocId;

/// What a reply's check found.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Documents left out of the round: a change in them is not signed by its author.
    pub refused: Vec<String>,
    /// The authors' proofs that verified, to keep with the changes they cover.
    pub proofs: Vec<Proof>,
    /// The reply's authors to keep: all but those that name another key than the pinned one.
    pub authors: Vec<Author>,
    /// Authors one of whose changes came with its own proof: from now on every one must.
    pub signing: Vec<Vec<u8>>,
}

/// What the store knows of an author before the reply.
#[derive(Debug, Clone, Copy, Default)]
struct Known {
    key: Option<[u8; 32]>,
    signs: bool,
}

fn known(c: &Connection, actor: &[u8]) -> Result<Known> {
    let row: Option<(Option<Vec<u8>>, bool)> = c
        .prepare_cached("SELECT public_key, signs FROM authors WHERE actor = ?1")?
        .query_row([actor], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map_or_else(Known::default, |(key, signs)| Known { key: key.and_then(|k| k.try_into().ok()), signs }))
}

/// Checks the changes of `response` that are not this store's own (`own`, its actor) against their
/// authors' proofs and keys, in the caller's transaction.
pub(super) fn check(c: &Connection, own: &[u8], response: &SyncResponse) -> Result<Checked> {
    let mut knowns: HashMap<Vec<u8>, Known> = HashMap::new();
    let mut conflicting: HashSet<Vec<u8>> = HashSet::new();
    let mut checked = Checked::default();
    for author in &response.authors {
        let was = known(c, &author.actor)?;
        match (was.key, author.public_key) {
            (Some(pinned), Some(named)) if pinned != named => {
                conflicting.insert(author.actor.clone());
            }
            (pinned, named) => {
                knowns.insert(author.actor.clone(), Known { key: pinned.or(named), signs: was.signs });
                checked.authors.push(author.clone());
            }
        }
    }
    let mut verified = Vec::new();
    let mut unverified = Vec::new();
    for proof in &response.proofs {
        let key = knowns.get(&proof.actor).and_then(|k| k.key).and_then(|k| VerifyingKey::from_bytes(&k).ok());
        if proof.actor != own && !conflicting.contains(&proof.actor) && key.is_some_and(|k| proof.verify(&k)) {
            verified.push(proof);
        } else {
            unverified.push(proof);
        }
    }
    let mut signing = HashSet::new();
    let mut docs = HashMap::new();
    for doc in &response.docs {
        let mut proven = Vec::new();
        let mut refused = false;
        for bytes in &doc.changes {
            // Bytes that are not a change are the merge's to refuse.
            let (Some(actor), Some(hash)) = (change_actor(bytes), change_hash(bytes)) else { continue };
            if actor == own {
                continue;
            }
            if conflicting.contains(actor) {
                refused = true;
                break;
            }
            let known = match knowns.get(actor) {
                Some(known) => *known,
                None => {
                    let known = known(c, actor)?;
                    knowns.insert(actor.to_vec(), known);
                    known
                }
            };
            if verified.iter().any(|p| p.actor == actor && p.covers(&hash)) {
                proven.push(actor.to_vec());
            } else if known.key.is_some()
                && (known.signs || unverified.iter().any(|p| p.actor == actor && p.covers(&hash)))
                && !held(c, &doc.doc, &hash, &mut docs)?
            {
                refused = true;
                break;
            }
        }
        if refused {
            checked.refused.push(doc.doc.clone());
        } else {
            signing.extend(proven);
        }
    }
    checked.proofs = verified.into_iter().cloned().collect();
    checked.signing = signing.into_iter().collect();
    Ok(checked)
}

/// Whether the store already holds the change of `hash` in `doc` (loaded once into `docs`): a
/// change sent again (from the start, to a store whose server was restored from a backup) applies
/// nothing, so there is nothing of it to refuse.
fn held(c: &Connection, doc: &str, hash: &[u8; 32], docs: &mut HashMap<String, Option<Automerge>>) -> Result<bool> {
    let loaded = match docs.entry(doc.to_string()) {
        Entry::Occupied(held) => held.into_mut(),
        Entry::Vacant(slot) => {
            let id = doc.parse::<DocId>().ok();
            slot.insert(id.map(|id| docstore::load(c, &id)).transpose()?.flatten())
        }
    };
    Ok(loaded.as_ref().is_some_and(|d| d.get_change_meta_by_hash(&ChangeHash(*hash)).is_some()))
}

/// Notes that `actors` sign their changes: from now on, each of theirs must come with its proof.
pub(super) fn mark_signing(c: &Connection, actors: &[Vec<u8>]) -> Result<()> {
    let mut stmt = c.prepare_cached("UPDATE authors SET signs = 1 WHERE actor = ?1 AND public_key IS NOT NULL")?;
    for actor in actors {
        stmt.execute(params![actor])?;
    }
    Ok(())
}
