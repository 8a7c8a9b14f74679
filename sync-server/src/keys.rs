//! Records' data keys on the server's side of an exchange (wire version 7): which uploaded keys it
//! keeps, and which keys a reply carries.
//!
//! A key is kept, wrapped under the master key (`master_key`), when its document is in the
//! uploading device's scope and names the key's record plausibly (an event's key is named by the
//! event's id), and when the server holds no other key for that record: the first key wins, since
//! its record's fields were sealed under it, and a device that could replace it would make every
//! other copy unreadable (or read what is sealed next under a key it chose). A reply carries the
//! keys of its documents and of the records the request asked for that the device's scope covers,
//! by the document the server keeps the key under, never the one a request claims. A department's
//! scope is its dispatched events, so it never receives a household's or resident's key. A record
//! of an earlier build has no key anywhere: asked to (`make`), the server makes it, once.
//!
//! Keys never appear in logs: only counts do.

use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::{KeyRefusal, KeyWant, WireKey};
use gridbook_core::{DocId, DocKind};
use zeroize::Zeroizing;

use crate::error::ApiResult;
use crate::master_key::MasterKey;
use crate::scope::Scope;
use crate::storage::{Storage, StoredKey};

/// Keys a reply carries at most; a store asks again for the rest.
const MAX_KEYS_OUT: usize = 20_000;

/// The document a key's record may live in: a household's (its own key, or a resident's) or an
/// event's (the event's own key).
fn plausible(id: &[u8; 16], doc: &str) -> Option<DocId> {
    let parsed: DocId = doc.parse().ok()?;
    let own = uuid::Uuid::parse_str(&parsed.part).ok().map(uuid::Uuid::into_bytes);
    match parsed.kind {
        DocKind::Household => Some(parsed),
        DocKind::Event if own == Some(*id) => Some(parsed),
        _ => None,
    }
}

/// The keys a device uploaded that may be kept, wrapped for storage (they go with the request's
/// commit), and the refusals of the others.
pub fn screen(master: &MasterKey, scope: &Scope, storage: &dyn Storage, uploaded: Vec<WireKey>) -> ApiResult<Screened> {
    let mut screened = Screened::default();
    for key in uploaded {
        match plausible(&key.id, &key.doc) {
            None => screened.refused.push(KeyRefusal { id: key.id, reason: RefusalReason::Malformed }),
            Some(doc) if !scope.covers(storage, &doc)? => {
                screened.refused.push(KeyRefusal { id: key.id, reason: RefusalReason::OutsideScope });
            }
            Some(doc) => {
                let doc = doc.to_string();
                let wrapped = master.wrap(&key.id, &doc, &key.key);
                screened.candidates.push((StoredKey { id: key.id, doc, wrapped }, key.key));
            }
        }
    }
    Ok(screened)
}

/// Uploaded keys on their way to storage.
#[derive(Default)]
pub struct Screened {
    /// Each key to store, wrapped, with the key as uploaded.
    candidates: Vec<(StoredKey, Zeroizing<[u8; 32]>)>,
    refused: Vec<KeyRefusal>,
}

impl Screened {
    /// What the request's commit stores.
    pub fn to_store(&self) -> Vec<StoredKey> {
        self.candidates.iter().map(|(stored, _)| stored.clone()).collect()
    }

    /// The refusals, once the commit has kept what it could: a key is refused unless the server now
    /// holds exactly it. Another key held for its record wins, since that record's fields were
    /// sealed under it.
    ///
    /// # Errors
    /// Only the server failing (storage, or a stored key that does not unwrap).
    pub fn settle(self, storage: &dyn Storage, master: &MasterKey) -> ApiResult<Vec<KeyRefusal>> {
        let mut refused = self.refused;
        for (stored, key) in &self.candidates {
            let held = storage.data_key(&stored.id)?;
            // Wrapped under a fresh nonce, the bytes are held only if this commit kept them; else
            // the key held may still be this one, from a retried request.
            let kept = match held {
                Some(held) if held == *stored => true,
                Some(held) => held.doc == stored.doc && *master.unwrap(&held.id, &held.doc, &held.wrapped)? == **key,
                None => false,
            };
            if !kept {
                refused.push(KeyRefusal { id: stored.id, reason: RefusalReason::NotAllowed });
            }
        }
        Ok(refused)
    }
}

/// The keys a reply carries: those of `docs` (the reply's documents) and those `wanted` that the
/// device's `scope` covers, made for a record of an earlier build when asked to.
///
/// # Errors
/// Only the server failing.
pub fn reply(
    storage: &dyn Storage,
    master: &MasterKey,
    scope: &Scope,
    docs: &[String],
    wanted: &[KeyWant],
) -> ApiResult<Vec<WireKey>> {
    let mut held = storage.data_keys_of(docs)?;
    for want in wanted {
        match storage.data_key(&want.id)? {
            Some(key) => held.push(key),
            None if want.make => {
                let Some(doc) = plausible(&want.id, &want.doc) else { continue };
                if !scope.covers(storage, &doc)? {
                    continue;
                }
                let (key, doc) = (Zeroizing::new(rand::random::<[u8; 32]>()), doc.to_string());
                let made = StoredKey { id: want.id, doc: doc.clone(), wrapped: master.wrap(&want.id, &doc, &key) };
                storage.put_data_keys(std::slice::from_ref(&made))?;
                // Another request may have made it first: what is held is what goes out.
                held.extend(storage.data_key(&want.id)?);
            }
            None => {}
        }
    }
    held.sort_by_key(|k| k.id);
    held.dedup_by_key(|k| k.id);
    let mut out = Vec::new();
    for key in held {
        if out.len() >= MAX_KEYS_OUT {
            break;
        }
        // By the document the key is kept under: a department reads only its dispatched events.
        let Ok(doc) = key.doc.parse::<DocId>() else { continue };
        if !scope.covers(storage, &doc)? {
            continue;
        }
        let bytes = master.unwrap(&key.id, &key.doc, &key.wrapped)?;
        out.push(WireKey { id: key.id, doc: key.doc, key: bytes });
    }
    Ok(out)
}
