//! The contract of authors' proofs: a change stored under a batch its author signed is read back
//! with it, whichever request relayed it, and one stored without is read back without.

use gridbook_core::sync::wire::Proof;

use super::{Fixture, change, commit, query, register};
use crate::storage::{Commit, Position, ReadScope, Storage};

pub(crate) fn a_change_is_read_back_with_the_proof_of_its_author<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    register(s, 1);
    let doc = "j/g1/2026-12";
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    // The author's batch covers changes 1 and 2 (and one the server never sees); another actor's
    // batch naming change 3 proves nothing of it.
    let batch = Proof::sign(&key, &[0xaa], [[1; 32], [2; 32], [9; 32]]);
    let stranger = Proof::sign(&key, &[0xbb], [[3; 32]]);
    let proofs = vec![stranger, batch.clone()];
    let changes = vec![change(doc, 1), change(doc, 2), change(doc, 3)];
    assert_eq!(s.commit(Commit { proofs, ..commit(0, changes) }).expect("commit"), 3);
    // Stored before proofs were kept, or by a store with no key.
    s.commit(commit(0, vec![change(doc, 4)])).expect("unproven");

    let page = s.read_log(&query(Position::default(), &ReadScope::All, "device-1", 10)).expect("page");
    let ids: Vec<Option<i64>> = page.changes.iter().map(|c| c.proof).collect();
    assert!(matches!(ids[..], [Some(a), Some(b), None, None] if a == b), "{ids:?}");
    let kept = s.proofs(&ids.iter().flatten().copied().collect::<Vec<_>>()).expect("proofs");
    assert_eq!(kept, vec![batch.clone()]);
    assert!(kept[0].verify(&key.verifying_key()));
    assert!(s.proofs(&[i64::MAX]).expect("unknown").is_empty());
}
