//! The contract of erasures: a record erased is erased once (its key destroyed, for a household its
//! keys and changes too), remembered for good, and announced by a notice that is pruned after its
//! time, leaving a watermark that survives a restart.

use gridbook_core::sync::wire::ErasedKind;

use super::{Fixture, commit, query, register};
use crate::storage::{Erased, Erasure, Position, ReadScope, Storage, StoredKey, Tombstone};

fn erasure(id: u8, doc: &str, kind: ErasedKind, at: i64) -> Erasure {
    Erasure {
        id: [id; 16],
        doc: doc.into(),
        grid: doc.split('/').nth(1).unwrap_or_default().into(),
        kind,
        at,
        by_device: "device-0".into(),
        reason: "asked in person".into(),
    }
}

fn seqs(s: &impl Storage, after: u64, scope: &ReadScope, max: usize) -> Vec<u64> {
    s.erasure_notices(after, scope, max).expect("read").records.iter().map(|n| n.seq).collect()
}

fn key(id: u8, doc: &str) -> StoredKey {
    StoredKey { id: [id; 16], doc: doc.into(), wrapped: vec![id; 56] }
}

pub(crate) fn a_resident_is_erased_once_and_only_its_key_goes<F: Fixture>() {
    let mut f = F::new();
    let s = f.storage();
    register(s, 0);
    s.put_data_keys(&[key(1, "h/g1/a"), key(2, "h/g1/a")]).expect("keys");
    s.commit(commit(0, vec![super::change("h/g1/a", 1)])).expect("a change");
    let done = s.erase(&erasure(2, "h/g1/a", ErasedKind::Resident, 10)).expect("erased");
    assert!(matches!(done, Erased::Now { keys: 1, changes: 0, .. }), "{done:?}");
    assert_eq!(s.data_key(&[2; 16]).expect("read"), None, "the resident's key is destroyed");
    assert!(s.data_key(&[1; 16]).expect("read").is_some(), "the household's is not");
    assert_eq!(s.doc_changes("h/g1/a").expect("read").len(), 1, "the document stays");
    assert_eq!(s.erase(&erasure(2, "h/g1/a", ErasedKind::Resident, 11)).expect("again"), Erased::Before);
    assert_eq!(s.put_data_keys(&[key(2, "h/g1/a")]).expect("answered"), [false], "never kept again");
    f.reopen();
    let s = f.storage();
    let tombstone = Tombstone { id: [2; 16], doc: "h/g1/a".into(), kind: ErasedKind::Resident };
    assert_eq!(s.tombstones(&["h/g1/a".into()], &[]).expect("read"), std::slice::from_ref(&tombstone));
    assert_eq!(s.tombstones(&[], &[[2; 16], [1; 16]]).expect("read"), [tombstone]);
    assert_eq!(s.erasure_notices(0, &ReadScope::All, 10).expect("read").records.len(), 1, "one notice, not two");
}

pub(crate) fn a_household_takes_its_residents_keys_and_its_changes_with_it<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    s.put_data_keys(&[key(1, "h/g1/a"), key(2, "h/g1/a"), key(3, "h/g1/b")]).expect("keys");
    s.commit(commit(0, vec![super::change("h/g1/a", 1), super::change("h/g1/b", 2)])).expect("changes");
    let done = s.erase(&erasure(1, "h/g1/a", ErasedKind::Household, 10)).expect("erased");
    assert!(matches!(done, Erased::Now { keys: 2, changes: 1, .. }), "{done:?}");
    assert_eq!(s.data_keys_of(&["h/g1/a".into()]).expect("read"), Vec::new());
    assert!(s.data_key(&[3; 16]).expect("read").is_some(), "another household keeps its key");
    assert_eq!(s.doc_changes("h/g1/a").expect("read"), Vec::<Vec<u8>>::new());
    assert_eq!(s.doc_changes("h/g1/b").expect("read").len(), 1);
    // Nothing of it is stored or kept again, and a resident of it is erased already.
    assert_eq!(s.commit(commit(0, vec![super::change("h/g1/a", 3)])).expect("skipped"), 0);
    assert_eq!(s.put_data_keys(&[key(4, "h/g1/a")]).expect("answered"), [false]);
    assert_eq!(s.put_data_keys(&[key(2, "h/g1/b")]).expect("answered"), [false], "its resident under another");
    assert_eq!(s.erase(&erasure(2, "h/g1/a", ErasedKind::Resident, 11)).expect("answered"), Erased::Before);
    let page = s.read_log(&query(Position::default(), &ReadScope::All, "device-9", 10)).expect("page");
    assert!(page.changes.iter().all(|c| c.doc != "h/g1/a"), "the document is never served again");
    let household = Tombstone { id: [1; 16], doc: "h/g1/a".into(), kind: ErasedKind::Household };
    assert_eq!(s.erased_households(&["g1".into()]).expect("read"), [household], "its residents are not households");
    assert_eq!(s.erased_households(&["g".into(), "g10".into()]).expect("read"), [], "another grid's name is no prefix");
}

pub(crate) fn notices_follow_scope_and_pruning_leaves_a_watermark<F: Fixture>() {
    let mut f = F::new();
    let s = f.storage();
    for (id, doc, at) in [(1, "h/g1/a", 10), (2, "h/g2/b", 20), (3, "h/g1/c", 30)] {
        s.erase(&erasure(id, doc, ErasedKind::Household, at)).expect("erased");
    }
    assert_eq!(seqs(s, 0, &ReadScope::All, 10), [1, 2, 3]);
    assert_eq!(seqs(f.storage(), 1, &ReadScope::All, 1), [2], "after a number, bounded");
    assert_eq!(seqs(f.storage(), 0, &ReadScope::Grids(vec!["g1".into()]), 10), [1, 3]);
    assert_eq!(seqs(f.storage(), 0, &ReadScope::Department("health".into()), 10), Vec::<u64>::new());
    let marks = |s: &F::Storage| {
        let page = s.erasure_notices(u64::MAX, &ReadScope::All, 10).expect("read");
        (page.newest, page.pruned_through)
    };
    assert_eq!(marks(s), (3, 0));
    assert_eq!(s.prune_erasure_notices(25).expect("pruned"), 2, "made before the time, and all before them");
    assert_eq!(s.prune_erasure_notices(5).expect("nothing"), 2, "the watermark never goes back");
    f.reopen();
    assert_eq!(marks(f.storage()), (3, 2));
    assert_eq!(seqs(f.storage(), 0, &ReadScope::All, 10), [3]);
    f.storage().prune_erasure_notices(100).expect("all");
    f.storage().erase(&erasure(4, "h/g1/d", ErasedKind::Household, 110)).expect("erased");
    assert_eq!(seqs(f.storage(), 0, &ReadScope::All, 10), [4], "a number is never handed out again");
    assert_eq!(marks(f.storage()), (4, 3));
    assert_eq!(f.storage().tombstones(&["h/g1/a".into()], &[]).expect("read").len(), 1, "tombstones stay");
}
