//! `Store::merge_residents`: one person entered twice is resolved into the record the secretary
//! keeps. The other's routines, visits and history follow the one kept on every store that has the
//! merge, merges that meet (both ways round, in a chain) settle the same everywhere, and what would
//! make two people one is refused.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Fixture, id_number, resident};
use gridbook_core::{
    CareTag, Day, Error, ErrorKind, NewRoutine, NewVisit, Resident, ResidentEdit, SignalKind, Store, VisitKind,
};

/// Each store gets what it lacks from the other.
fn sync(a: &Store, b: &Store) {
    b.apply_changes(&a.changes_since(&b.heads().unwrap()).unwrap()).unwrap();
    a.apply_changes(&b.changes_since(&a.heads().unwrap()).unwrap()).unwrap();
}

fn routine() -> NewRoutine {
    NewRoutine {
        signal: SignalKind::Curtains,
        deadline: chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
        days: Day::ALL.into_iter().collect(),
        note: "窗帘".into(),
    }
}

fn visit(notes: &str) -> NewVisit {
    NewVisit { kind: VisitKind::Home, at: None, purposes: vec![], notes: notes.into(), satisfaction: None }
}

/// A secretary's store and a grid member's, sharing a grid with two households, where each
/// entered 张德顺 offline: the secretary in 一组3号, the member (with his phone, a routine and a
/// visit) in 一组4号. Both have synced.
struct Twice {
    secretary: Fixture,
    member: Fixture,
    first: Resident,
    second: Resident,
}

fn entered_twice() -> Twice {
    let secretary = Fixture::new("刘敏");
    let grid = secretary.grid("第一网格");
    let home = secretary.household(grid.id, "一组3号");
    let other_home = secretary.household(grid.id, "一组4号");
    let member = Fixture::new("王芳");
    sync(&secretary.store, &member.store);
    let first = secretary.resident(home.id, "张德顺", "19480305", true);
    let mut new = resident("张德顺", "19480305", true);
    new.phone = Some("13912345678".into());
    new.care_tags = [CareTag::LivingAlone].into();
    let second = member.store.add_resident(other_home.id, new).unwrap();
    member.store.add_routine(second.id, routine()).unwrap();
    member.store.record_visit(other_home.id, visit("上门看望")).unwrap();
    sync(&secretary.store, &member.store);
    Twice { secretary, member, first, second }
}

#[test]
fn the_merged_resident_is_gone_from_the_lists_and_its_routines_visits_and_history_follow_the_one_kept() {
    let Twice { secretary, member, first, second } = entered_twice();
    let s = &secretary.store;
    assert_eq!(s.resident_duplicates().unwrap().len(), 1);

    let kept = s.merge_residents(first.id, second.id).unwrap();
    // What the kept record lacked is taken from the other; what it had stays.
    assert_eq!(kept.phone.as_deref(), Some("139****5678"), "shown masked, as every record the store returns");
    assert_eq!(s.reveal_resident(kept.id, "核对").unwrap().phone.as_deref(), Some("13912345678"));
    assert_eq!(kept.care_tags, [CareTag::Elderly, CareTag::LivingAlone].into());
    assert_eq!((kept.id, kept.household_id, kept.merged_into), (first.id, first.household_id, None));

    // Both stores, once the merge reached the member's, show the same ledger.
    sync(s, &member.store);
    for store in [s, &member.store] {
        assert!(store.resident_duplicates().unwrap().is_empty());
        let found: Vec<_> = store.search_residents("张德顺", None, 10).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(found, [first.id], "only the one kept is found");
        assert!(store.residents_of(second.household_id).unwrap().is_empty(), "the other is no longer listed");
        assert!(store.search_residents("13912345678", None, 10).unwrap().iter().all(|r| r.id == first.id));
        assert_eq!(store.resident(second.id).unwrap().merged_into, Some(first.id), "the other says where it went");
        assert_eq!(store.resident(first.id).unwrap(), kept);

        let routines = store.routines_of(first.id).unwrap();
        assert_eq!(routines.len(), 1, "the member's routine follows the one kept");
        assert_eq!(routines[0].resident_id, first.id);
        let due = store.due_checks(None, store.today()).unwrap();
        assert_eq!(
            (due.len(), due[0].resident_id, due[0].household_id),
            (1, first.id, first.household_id),
            "the check is due at the kept resident's address"
        );
        let visits = store.visits_of_resident(first.id).unwrap();
        assert_eq!(visits.iter().map(|v| v.notes.as_str()).collect::<Vec<_>>(), ["上门看望"]);

        let history = store.resident_history(first.id).unwrap();
        let other_record = format!("resident:{}", second.id);
        assert!(history.iter().any(|h| h.record == other_record && h.field == "phone" && h.by == "王芳"));
        assert!(history.iter().any(|h| h.record == other_record && h.field == "merged_into" && h.by == "刘敏"));
    }
    assert_eq!(s.dump_query_tables().unwrap(), member.store.dump_query_tables().unwrap());
    s.rebuild_query_tables().unwrap();
    assert_eq!(s.dump_query_tables().unwrap(), member.store.dump_query_tables().unwrap(), "a rebuild agrees");

    // The merged record keeps the past: it is not changed any more, the kept one is.
    for refused in [
        s.edit_resident(second.id, ResidentEdit { name: Some("张德训".into()), ..Default::default() }).map(|_| ()),
        s.move_out_resident(second.id).map(|_| ()),
        s.add_routine(second.id, routine()).map(|_| ()),
    ] {
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    assert!(s.routines_of(second.id).unwrap().iter().all(|r| r.resident_id == first.id));
}

#[test]
fn what_would_make_two_people_one_is_refused_and_nothing_is_written() {
    let Twice { secretary, member: _, first, second } = entered_twice();
    let s = &secretary.store;
    let home = s.household(first.household_id).unwrap();
    // A son with his own number, and a woman entered without one.
    let son = secretary.resident(home.id, "张小顺", "19800101", true);
    let mut woman = resident("李秀英", "19500101", false);
    woman.id_number = None;
    woman.gender = Some(common::gender(false));
    woman.birth_date = chrono::NaiveDate::from_ymd_opt(1950, 1, 1);
    let woman = s.add_resident(home.id, woman).unwrap();
    let far = secretary.household(secretary.grid("第二网格").id, "二组1号");
    let elsewhere = s.add_resident(far.id, resident("张德顺", "19600101", true)).unwrap();
    let before = s.heads().unwrap();

    let invalid = |keep, other| match s.merge_residents(keep, other) {
        Err(e @ Error::InvalidInput { .. }) => e.to_string(),
        other => panic!("refused as invalid input, not {other:?}"),
    };
    assert!(invalid(first.id, first.id).contains("itself"));
    assert!(invalid(first.id, son.id).contains("ID numbers differ"));
    assert!(invalid(woman.id, second.id).contains("disagrees"), "a number of a man born in 1948 is not hers");
    assert!(invalid(first.id, elsewhere.id).contains("different grids"));
    let unknown: gridbook_core::ResidentId = "0190a000-0000-7000-8000-000000000000".parse().unwrap();
    assert!(matches!(s.merge_residents(first.id, unknown), Err(Error::NotFound { .. })));
    assert!(matches!(s.merge_residents(unknown, first.id), Err(Error::NotFound { .. })));
    assert_eq!(s.heads().unwrap(), before, "no refusal wrote anything");
    assert!(!invalid(first.id, son.id).contains(&id_number("19800101", true)), "no number is echoed");

    s.merge_residents(first.id, second.id).unwrap();
    assert!(invalid(first.id, second.id).contains("already merged"));
    assert!(invalid(second.id, first.id).contains("keep that one"));
    assert_eq!(s.resident(woman.id).unwrap().merged_into, None);
}

#[test]
fn two_secretaries_merging_each_way_round_keep_the_first_entered_everywhere() {
    let Twice { secretary, member, first, second } = entered_twice();
    let (a, b) = (&secretary.store, &member.store);
    a.merge_residents(first.id, second.id).unwrap();
    b.merge_residents(second.id, first.id).unwrap();
    sync(a, b);
    let kept = first.id.min(second.id);
    let gone = first.id.max(second.id);
    for store in [a, b] {
        assert_eq!(store.resident(kept).unwrap().merged_into, None, "the cycle keeps the smaller id");
        assert_eq!(store.resident(gone).unwrap().merged_into, Some(kept));
        let found: Vec<_> = store.search_residents("张德顺", None, 10).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(found, [kept]);
        assert_eq!(store.routines_of(kept).unwrap().len(), 1);
    }
    assert_eq!(a.dump_query_tables().unwrap(), b.dump_query_tables().unwrap());
}

#[test]
fn a_chain_of_merges_on_two_devices_ends_at_the_last_one_kept() {
    let Twice { secretary, member, first, second } = entered_twice();
    let (a, b) = (&secretary.store, &member.store);
    let third = a.add_resident(first.household_id, {
        let mut r = resident("张德顺", "19480305", true);
        r.id_number = None;
        r.gender = Some(common::gender(true));
        r.birth_date = chrono::NaiveDate::from_ymd_opt(1948, 3, 5);
        r
    });
    let third = third.unwrap();
    sync(a, b);
    // One merges the member's record into the secretary's; the other, offline, merges that one
    // into a third record.
    a.merge_residents(first.id, second.id).unwrap();
    b.merge_residents(third.id, first.id).unwrap();
    sync(a, b);
    for store in [a, b] {
        assert_eq!(store.resident(second.id).unwrap().merged_into, Some(third.id), "the chain is followed");
        assert_eq!(store.resident(first.id).unwrap().merged_into, Some(third.id));
        assert_eq!(store.routines_of(third.id).unwrap().len(), 1);
        assert_eq!(store.visits_of_resident(third.id).unwrap().len(), 1);
        let found: Vec<_> = store.search_residents("张德顺", None, 10).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(found, [third.id]);
    }
    assert_eq!(a.dump_query_tables().unwrap(), b.dump_query_tables().unwrap());
}

#[test]
fn an_edit_made_offline_to_the_merged_resident_stays_in_the_history_of_the_one_kept() {
    let Twice { secretary, member, first, second } = entered_twice();
    let (a, b) = (&secretary.store, &member.store);
    a.merge_residents(first.id, second.id).unwrap();
    b.edit_resident(second.id, ResidentEdit { phone: Some(Some("13700001111".into())), ..Default::default() }).unwrap();
    b.edit_resident(first.id, ResidentEdit { name: Some("张德顺（老张）".into()), ..Default::default() }).unwrap();
    sync(a, b);
    for store in [a, b] {
        let merged = store.resident(second.id).unwrap();
        assert_eq!(merged.merged_into, Some(first.id), "an edit does not undo the merge");
        let kept = store.resident(first.id).unwrap();
        assert_eq!(kept.name, "张德顺（老张）", "the edit to the kept record stands");
        assert_eq!(kept.phone.as_deref(), Some("139****5678"), "filled in from the merged record");
        let history = store.resident_history(first.id).unwrap();
        assert!(history.iter().any(|h| h.field == "phone" && h.value.as_deref() == Some("137****1111")));
    }
    assert_eq!(a.dump_query_tables().unwrap(), b.dump_query_tables().unwrap());
}
