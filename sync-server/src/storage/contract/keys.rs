//! The contract of data keys: a record's first key is kept and never replaced, keys are found by id
//! and by the documents they belong to, and they survive a restart.

use super::{Fixture, change, commit};
use crate::storage::{Commit, Storage, StoredKey};

pub(crate) fn the_first_key_of_a_record_is_kept_and_found_by_id_and_document<F: Fixture>() {
    let mut f = F::new();
    let s = f.storage();
    let first = StoredKey { id: [1; 16], doc: "h/g1/a".into(), wrapped: vec![1; 56] };
    assert_eq!(s.put_data_keys(std::slice::from_ref(&first)).expect("kept"), [true]);
    let other = StoredKey { wrapped: vec![2; 56], ..first.clone() };
    assert_eq!(s.put_data_keys(&[other]).expect("answered"), [false], "a second key for the id is not kept");
    let resident = StoredKey { id: [2; 16], doc: "h/g1/a".into(), wrapped: vec![3; 56] };
    let event = StoredKey { id: [3; 16], doc: "e/g1/e".into(), wrapped: vec![4; 56] };
    assert_eq!(s.put_data_keys(&[resident.clone(), event]).expect("kept"), [true, true], "several at once");
    f.reopen();
    let s = f.storage();
    assert_eq!(s.data_key(&[1; 16]).expect("read"), Some(first.clone()));
    assert_eq!(s.data_key(&[9; 16]).expect("read"), None);
    assert_eq!(s.data_keys_of(&["h/g1/a".into()]).expect("read"), vec![first, resident]);
    assert_eq!(s.data_keys_of(&["h/g1/b".into()]).expect("read"), Vec::new());
}

pub(crate) fn a_commits_keys_are_kept_with_its_changes_and_the_first_key_still_wins<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let held = StoredKey { id: [1; 16], doc: "h/g1/a".into(), wrapped: vec![1; 56] };
    s.put_data_keys(std::slice::from_ref(&held)).expect("kept");
    let other = StoredKey { wrapped: vec![2; 56], ..held.clone() };
    let new = StoredKey { id: [2; 16], doc: "h/g1/a".into(), wrapped: vec![3; 56] };
    let keys = vec![other, new.clone()];
    s.commit(Commit { keys, ..commit(0, vec![change("h/g1/a", 1)]) }).expect("commit");
    assert_eq!(s.data_key(&[1; 16]).expect("read"), Some(held), "a record's first key is never replaced");
    assert_eq!(s.data_key(&[2; 16]).expect("read"), Some(new.clone()));
    // A commit of keys alone keeps them too.
    let alone = StoredKey { id: [3; 16], doc: "e/g1/e".into(), wrapped: vec![4; 56] };
    s.commit(Commit { keys: vec![alone.clone()], ..commit(0, Vec::new()) }).expect("commit");
    assert_eq!(s.data_key(&[3; 16]).expect("read"), Some(alone));
}
