//! One person entered twice on two devices offline: neither store could refuse it, and after their
//! changes merge both stores list the pair as duplicates, with the number masked.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Fixture, id_number};
use gridbook_core::Error;

#[test]
fn the_same_person_added_on_two_devices_is_listed_once_their_work_merges() {
    let secretary = Fixture::new("刘敏");
    let grid = secretary.grid("第一网格");
    let home = secretary.household(grid.id, "一组3号");
    let other_home = secretary.household(grid.id, "一组4号");
    let member = Fixture::new("王芳");
    member.store.apply_changes(&secretary.store.changes_since(&Default::default()).unwrap()).unwrap();
    assert!(secretary.store.resident_duplicates().unwrap().is_empty());

    // Both, offline, add 张德顺 with his one number: each store alone is consistent.
    let first = secretary.resident(home.id, "张德顺", "19480305", true);
    let second = member.resident(other_home.id, "张德顺", "19480305", true);
    assert!(matches!(
        secretary.store.add_resident(other_home.id, common::resident("张德顺", "19480305", true)),
        Err(Error::DuplicateIdNumber { .. })
    ));

    // Their work meets.
    member.store.apply_changes(&secretary.store.changes_since(&Default::default()).unwrap()).unwrap();
    secretary.store.apply_changes(&member.store.changes_since(&Default::default()).unwrap()).unwrap();
    for store in [&secretary.store, &member.store] {
        let duplicates = store.resident_duplicates().unwrap();
        assert_eq!(duplicates.len(), 1, "{duplicates:?}");
        let mut ids: Vec<_> = duplicates[0].residents.iter().map(|r| r.id).collect();
        ids.sort();
        let mut expected = vec![first.id, second.id];
        expected.sort();
        assert_eq!(ids, expected);
        let number = id_number("19480305", true);
        assert_eq!(duplicates[0].id_number_masked, format!("{}**********{}", &number[..4], &number[14..]));
        let shown: Vec<_> = duplicates[0].residents.iter().map(|r| r.id_number.as_deref()).collect();
        assert_eq!(shown, [Some(duplicates[0].id_number_masked.as_str()); 2], "the residents come masked too");
    }

    // Resolved by moving one out: no longer a duplicate.
    secretary.store.move_out_resident(second.id).unwrap();
    assert!(secretary.store.resident_duplicates().unwrap().is_empty());
}
