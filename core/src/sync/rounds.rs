//! One round of the exchange, on the store's side: what to send (the outbox, within a budget, and
//! the cursor), and what to do with the answer (apply it, drop what the server acknowledged, keep the
//! new cursor) — the latter in one SQLite transaction, so a reply that never arrives changes
//! nothing and the next round simply repeats.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::authorship;
use super::erasure::{self, ErasureReport};
use super::identity::{save_authors, stored_key};
use super::proofs;
use super::refusals::{self, RefusalReason, RefusedDoc};
use super::wire::{
    KeyWant, Proof, Refusal, SERVER_ACTOR, SyncRequest, SyncResponse, change_actor, change_hash, group_by_doc,
};
use crate::datakey::keyring;
use crate::error::{Error, Result};
use crate::merge::{ChangeSet, DocChanges, MergeReport};
use crate::model::millis;
use crate::store::Store;
use uuid::Uuid;

/// A request ready to send, and which outbox rows it carries.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: SyncRequest,
    /// The last outbox row sent (an unsent change row); rows up to it count as sent once the server
    /// answers.
    through: i64,
    /// Rows past the budget wait for the next round.
    pub more_to_send: bool,
    pub changes_sent: usize,
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub merged: MergeReport,
    pub changes_sent: usize,
    /// What the round's erasures did here.
    pub erasure: ErasureReport,
    /// The server or this side has more: run another round.
    pub again: bool,
}

/// The state of sync, for the app's status line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncStatus {
    /// When a sync last completed, if one ever did.
    #[serde(with = "millis::option")]
    pub last_success_at: Option<DateTime<Utc>>,
    /// Changes made or received here that the server has not acknowledged and that the next sync
    /// sends (those of refused documents are held back, and not counted).
    pub pending_changes: u64,
    /// Bytes of local photos the server does not have yet.
    pub pending_photo_bytes: u64,
    /// Why the last sync failed, if it did; cleared by the next one that succeeds.
    pub last_error: Option<String>,
    /// Documents the server refused, waiting for the user to discard them or send them again.
    pub refused: Vec<RefusedDoc>,
}

/// The outbox: unsent change rows, but for those of refused documents.
const UNSENT_ROWS: &str = "SELECT seq, doc_id, bytes FROM changes WHERE unsent AND doc_id NOT IN (SELECT doc FROM sync_refusals) ORDER BY seq";

/// Keys asked for in one request; more wait for the next.
const MAX_WANTS: usize = 1_000;

pub(super) const CURSOR: &str = "sync.cursor";
const LAST_SUCCESS: &str = "sync.last_success";
const LAST_ERROR: &str = "sync.last_error";

impl Store {
    /// The next request: the outbox — change rows the server may lack — in order, up to `budget`
    /// bytes (at least one row). The changes of a document the server refused are held back.
    pub fn prepare_sync(&self, budget: usize) -> Result<Prepared> {
        let mut prepared = self.read(|c| {
            let cursor = meta(c, CURSOR)?.map(|hex| hex::decode(hex).unwrap_or_default()).unwrap_or_default();
            let mut stmt = c.prepare_cached(UNSENT_ROWS)?;
            let mut rows = stmt.query([])?;
            let (mut rows_sent, mut through, mut size, mut more) = (Vec::new(), 0, 0, false);
            while let Some(row) = rows.next()? {
                let (seq, doc, bytes): (i64, String, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
                if !rows_sent.is_empty() && size + bytes.len() > budget {
                    more = true;
                    break;
                }
                size += bytes.len() + doc.len();
                rows_sent.push((doc, vec![bytes]));
                through = seq;
            }
            let sent = rows_sent.len();
            // The changes this store relays for other devices go with the proofs of their authors;
            // its own, with its signature over all of them (`sign`).
            let proofs =
                proofs::covering(c, rows_sent.iter().flat_map(|(_, b)| b.iter().filter_map(|b| change_hash(b))))?;
            // A document's rows travel together, in their order: the receiver can then read a
            // document's facts from one entry. Documents are independent, so their order is free.
            let docs = group_by_doc(rows_sent).into_iter().map(|(doc, changes)| DocChanges { doc, changes }).collect();
            let keys = keyring::unsent(c)?.into_iter().map(keyring::to_wire).collect();
            let wants = keyring::waits(c)?
                .into_iter()
                .take(MAX_WANTS)
                .map(|(id, doc, make)| KeyWant { id: id.into_bytes(), doc, make })
                .collect();
            let erase = erasure::requests(c)?;
            let erased_since = erasure::erased_since(c)?;
            Ok(Prepared {
                request: SyncRequest { cursor, docs, proofs, signed: None, keys, wants, erase, erased_since },
                through,
                more_to_send: more,
                changes_sent: sent,
            })
        })?;
        self.sign(&mut prepared.request)?;
        Ok(prepared)
    }

    /// Signs this store's own changes of `request` with its key, as the server checks them
    /// (version 6); leaves a request with none unsigned. A store that has no key yet (it never
    /// enrolled) signs nothing: the server vouches for its changes by its token.
    ///
    /// # Errors
    /// [`Error::Storage`] if the key cannot be read; [`Error::InvalidInput`] if it is damaged.
    pub fn sign(&self, request: &mut SyncRequest) -> Result<()> {
        let actor = self.lock()?.docs.actor().to_bytes().to_vec();
        let own: Vec<[u8; 32]> = request
            .docs
            .iter()
            .flat_map(|d| &d.changes)
            .filter(|b| change_actor(b) == Some(&actor[..]))
            .filter_map(|b| change_hash(b))
            .collect();
        request.signed = match self.read(stored_key)? {
            Some(key) if !own.is_empty() => Some(Proof::sign(&key, &actor, own).signature),
            _ => None,
        };
        Ok(())
    }

    /// Applies the server's answer to `prepared`: its changes merged (not into the outbox: the
    /// server has them), the documents it refused noted, the other sent rows dropped, and the new
    /// cursor kept — all in one transaction. Before that, the erasures it announces are carried
    /// out in one transaction of their own, and once the merge is in, what SQLite keeps of the
    /// erased rows is purged. A reply that says this store missed notices (`resync`) makes it
    /// drop its data keys and ask the server for each again, before the reply's cursor is kept.
    /// A document holding a change its author did not sign (see `authorship`) is left out of the
    /// merge and noted as refused ([`RefusalReason::NotSigned`]); the rest of the reply applies, and
    /// the cursor moves past it all.
    ///
    /// # Errors
    /// [`Error::Protocol`] if the server's signature over its reply does not verify with the key
    /// of the server this store enrolled with (nothing of it is applied); [`Error::Busy`] if
    /// another process keeps the purge from cutting the WAL (the next sync purges again).
    pub fn finish_sync(&self, prepared: &Prepared, response: SyncResponse) -> Result<Round> {
        let vouched = self.vouched(&response)?;
        let own = self.lock()?.docs.actor().to_bytes().to_vec();
        let checked = self.read(|c| authorship::check(c, &own, &response))?;
        let (mut erasure, carried_out) = self.carry_out_erasures(prepared, &response)?;
        let notices_through = response.erased.iter().map(|n| n.seq).max();
        let from_start = prepared.request.cursor.is_empty() && prepared.request.erased_since == 0;
        // A store that syncs from the start receives the server's copy, every erasure carried out.
        let resync = response.resync && !from_start;
        let keys = response.keys.iter().map(keyring::from_wire).collect::<Result<Vec<_>>>()?;
        // Every key sent was answered: kept, or refused (another key of the record was there first,
        // and this store's ciphertext of it is readable here alone; see `datakey`).
        let sent_keys: Vec<Uuid> = prepared.request.keys.iter().map(|k| Uuid::from_bytes(k.id)).collect();
        let mut docs = response.docs;
        docs.retain(|d| !checked.refused.contains(&d.doc));
        let set = ChangeSet { docs, keys: Vec::new() };
        let now = self.now();
        // Only a document this request carried: a server cannot hold back what it was not sent.
        let mut refused: Vec<_> =
            response.refused.into_iter().filter(|r| prepared.request.docs.iter().any(|d| d.doc == r.doc)).collect();
        refused
            .extend(checked.refused.iter().map(|doc| Refusal { doc: doc.clone(), reason: RefusalReason::NotSigned }));
        let mut keep_cursor = true;
        let merged = self.merge_in(&set, &keys, false, |c| {
            keyring::mark_sent(c, &sent_keys)?;
            // A document erased meanwhile is gone, its refusal with it.
            let mut standing = Vec::new();
            for r in &refused {
                if !crate::erasure::is_erased_doc(c, &r.doc)? {
                    standing.push(r.clone());
                }
            }
            refusals::record(c, &standing, now)?;
            if let Some(proof) = &vouched {
                proofs::save(c, proof)?;
            }
            for proof in &checked.proofs {
                proofs::save(c, proof)?;
            }
            save_authors(c, &checked.authors, None)?;
            authorship::mark_signing(c, &checked.signing)?;
            crate::docstore::sent(c, prepared.through)?;
            set_meta(c, LAST_SUCCESS, &now.timestamp_millis().to_string())?;
            c.execute("DELETE FROM meta WHERE key = ?1", [LAST_ERROR])?;
            Ok(())
        })?;
        // Before the cursor is kept: the server takes the cursor's word that this store heard of
        // every erasure before it.
        if resync {
            self.forget_keys_for_resync()?;
            erasure.resynced = true;
        }
        // Changes whose predecessors are missing live only in memory: fetch them again next time.
        if merged.docs_waiting > 0 {
            keep_cursor = false;
        }
        if keep_cursor {
            self.write(|c| set_meta(c, CURSOR, &hex::encode(&response.cursor)))?;
        }
        // Keys this round found wanting (a journal's notes under a household key the reply did not
        // carry) are asked for by the next round; keys already asked for are not asked again.
        let asked: Vec<[u8; 16]> = prepared.request.wants.iter().map(|w| w.id).collect();
        let wanting = asked.len() < MAX_WANTS
            && self.read(keyring::waits)?.iter().any(|(id, _, _)| !asked.contains(id.as_bytes()));
        if carried_out || resync {
            self.purge()?;
        }
        if let Some(seq) = notices_through {
            self.erased_through(seq)?;
        }
        Ok(Round {
            merged,
            changes_sent: prepared.changes_sent,
            erasure,
            again: response.more || prepared.more_to_send || wanting || resync,
        })
    }

    /// The server's proof over the changes of `response`, checked with the key of the server this
    /// store enrolled with; `None` if it sent none or the store is not enrolled.
    fn vouched(&self, response: &SyncResponse) -> Result<Option<Proof>> {
        let (Some(signature), Some(enrolment)) = (response.vouched, self.enrolment()?) else { return Ok(None) };
        let hashes = response.docs.iter().flat_map(|d| d.changes.iter().filter_map(|b| change_hash(b)));
        let proof = Proof::new(SERVER_ACTOR.to_vec(), signature, hashes);
        if proof.hashes().is_empty() {
            return Ok(None);
        }
        if !proof.verify(&enrolment.server_key) {
            return Err(Error::Protocol("the server's signature over its reply does not verify".into()));
        }
        Ok(Some(proof))
    }

    /// Notes a failed sync for the status line (transports call it; so may an app with its own).
    pub fn record_sync_error(&self, message: &str) -> Result<()> {
        self.write(|c| set_meta(c, LAST_ERROR, message))
    }

    /// Last successful sync, what is waiting to go, the last error and the refused documents.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.read(|c| {
            let pending_changes: i64 = c.query_row(
                "SELECT COUNT(*) FROM changes WHERE unsent AND doc_id NOT IN (SELECT doc FROM sync_refusals)",
                [],
                |r| r.get(0),
            )?;
            let pending_photo_bytes: i64 =
                c.query_row("SELECT COALESCE(SUM(bytes), 0) FROM photos WHERE NOT uploaded", [], |r| r.get(0))?;
            Ok(SyncStatus {
                last_success_at: meta(c, LAST_SUCCESS)?
                    .and_then(|ms| ms.parse().ok())
                    .and_then(DateTime::from_timestamp_millis),
                pending_changes: pending_changes as u64,
                pending_photo_bytes: pending_photo_bytes as u64,
                last_error: meta(c, LAST_ERROR)?,
                refused: refusals::list(c)?,
            })
        })
    }
}

pub(super) fn meta(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
}

pub(super) fn set_meta(c: &Connection, key: &str, value: &str) -> Result<()> {
    c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?.execute(params![key, value])?;
    Ok(())
}
