//! A reply's author proofs (version 9): the batches its changes' authors signed, so that a store
//! checks each author's signature itself instead of taking the server's word for the change.
//!
//! A batch is mostly changes of the reply itself: those are named by their place in it, the way a
//! change names an earlier change of its list as a dependency, and only a hash of the batch that is
//! not in the reply (a change the store already has, or one outside its scope) travels in full.
//!
//! ```text
//! proven = count (actor:bytes signature:64 count (ref)*)*
//! ref    = 0 hash:32 | k          k >= 1: the reply's k-th change (counted across its documents)
//! ```

use std::collections::HashMap;

use super::WireError;
use super::codec::{Reader, put_bytes, put_varint};
use super::proof::Proof;
use crate::merge::DocChanges;

/// The hash of each change of `docs`, in the reply's order (`None` for bytes that are not a chunk).
fn reply_hashes(docs: &[DocChanges]) -> Vec<Option<[u8; 32]>> {
    docs.iter().flat_map(|d| d.changes.iter().map(|c| super::change_hash(c))).collect()
}

pub(super) fn put_proven(out: &mut Vec<u8>, proofs: &[Proof], docs: &[DocChanges]) {
    put_varint(out, proofs.len() as u64);
    if proofs.is_empty() {
        return;
    }
    let mut place: HashMap<[u8; 32], usize> = HashMap::new();
    for (i, hash) in reply_hashes(docs).into_iter().enumerate() {
        if let Some(hash) = hash {
            place.entry(hash).or_insert(i + 1);
        }
    }
    for proof in proofs {
        put_bytes(out, &proof.actor);
        out.extend_from_slice(&proof.signature);
        put_varint(out, proof.hashes().len() as u64);
        for hash in proof.hashes() {
            match place.get(hash) {
                Some(&k) => put_varint(out, k as u64),
                None => {
                    out.push(0);
                    out.extend_from_slice(hash);
                }
            }
        }
    }
}

impl Reader<'_> {
    /// The proofs of a reply whose changes are `docs`: a reference past the reply's changes, or to
    /// bytes that are not a change, is malformed.
    pub(super) fn proven(&mut self, docs: &[DocChanges]) -> Result<Vec<Proof>, WireError> {
        let n = self.count(self.limits.max_docs, "author proofs")?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let hashes = reply_hashes(docs);
        let mut proofs = Vec::with_capacity(n);
        let mut budget = self.limits.max_changes;
        for _ in 0..n {
            let actor = self.bytes(32)?.to_vec();
            let signature = self.array::<64>()?;
            let k = self.count(budget, "proven changes")?;
            budget -= k;
            let mut batch = Vec::with_capacity(k);
            for _ in 0..k {
                let hash = match self.varint()? {
                    0 => self.array::<32>()?,
                    k => usize::try_from(k - 1)
                        .ok()
                        .and_then(|at| hashes.get(at).copied().flatten())
                        .ok_or(WireError::Malformed("a proof's reference to a change"))?,
                };
                batch.push(hash);
            }
            proofs.push(Proof::new(actor, signature, batch));
        }
        Ok(proofs)
    }
}
