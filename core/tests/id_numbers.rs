//! ID numbers through the store: checked on the store's own day, taken as people type them, and one
//! person entered once among the residents the store knows.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::{Fixture, gender, id_number, resident};
use gridbook_core::{
    Error, ErrorKind, HouseholdId, NewResident, Resident, ResidentEdit, ResidentStatus, mask_id_number,
};

/// A woman born 1949-12-31, with an `X` check character.
const WITH_X: &str = "11010519491231002X";

fn with_number(name: &str, number: &str) -> NewResident {
    NewResident { id_number: Some(number.into()), gender: None, birth_date: None, ..resident(name, "19491231", false) }
}

fn add(f: &Fixture, household: HouseholdId, name: &str, number: &str) -> gridbook_core::Result<Resident> {
    f.store.add_resident(household, with_number(name, number))
}

/// The household a duplicate refusal names, checking on the way that it is an input error that
/// does not echo the number.
fn refused_for(result: gridbook_core::Result<Resident>) -> String {
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(!e.to_string().contains("110105") && !e.to_string().contains("330106"), "no number in {e}");
    match e {
        Error::DuplicateIdNumber { household } => household,
        other => panic!("expected a duplicate, got {other}"),
    }
}

#[test]
fn a_birth_date_after_the_stores_today_is_refused() {
    let f = Fixture::new("刘敏");
    let home = f.household(f.grid("第一网格").id, "一组3号");
    // The fixture's day is 2026-11-20 in Shanghai, whatever the machine's date.
    let e = add(&f, home.id, "张小宝", &id_number("20261121", true)).unwrap_err();
    assert!(e.to_string().contains("in the future"), "{e}");
    add(&f, home.id, "张大宝", &id_number("20261120", true)).unwrap();
    // 01:00 on the 21st in Shanghai, still the 20th in UTC: the district's day counts.
    f.clock.set(Utc.with_ymd_and_hms(2026, 11, 20, 17, 0, 0).unwrap());
    add(&f, home.id, "张小宝", &id_number("20261121", true)).unwrap();
}

#[test]
fn numbers_typed_full_width_or_on_a_first_generation_card_are_stored_in_18_ascii_characters() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let full_width =
        add(&f, f.household(grid.id, "一组3号").id, "李秀英", "\u{3000}１１０１０５１９４９１２３１００２ｘ").unwrap();
    assert_eq!(full_width.id_number, Some(mask_id_number(WITH_X)), "shown masked");
    let full = f.store.reveal_resident(full_width.id, "核对").unwrap();
    assert_eq!(full.id_number.as_deref(), Some(WITH_X));
    let fifteen = add(&f, f.household(grid.id, "一组4号").id, "王芳", "330106480305011").unwrap();
    assert_eq!(fifteen.id_number, Some(mask_id_number(&id_number("19480305", true))));
    assert_eq!(f.store.resident(fifteen.id).unwrap(), fifteen);
}

#[test]
fn a_number_already_in_the_ledger_is_refused_however_it_is_written_naming_its_household() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    let neighbour = f.household(grid.id, "一组4号");
    let elsewhere = f.household(f.grid("第二网格").id, "二组1号");
    add(&f, home.id, "李秀英", WITH_X).unwrap();
    for (household, number) in [
        (home.id, WITH_X),
        (neighbour.id, WITH_X),
        (elsewhere.id, WITH_X),
        (neighbour.id, "11010519491231002x"),
        (neighbour.id, "１１０１０５１９４９１２３１００２Ｘ"),
        (neighbour.id, " 110105491231002\u{3000}"),
    ] {
        assert_eq!(refused_for(add(&f, household, "李秀英", number)), "第一网格:一组3号");
    }
    // Nothing of a refused resident is kept, and the store goes on.
    assert_eq!(f.store.residents_of(home.id).unwrap().len(), 1);
    assert!(f.store.residents_of(neighbour.id).unwrap().is_empty());
    add(&f, neighbour.id, "张德顺", &id_number("19480305", true)).unwrap();
    let f = f.reopen();
    assert_eq!(f.store.residents_of(neighbour.id).unwrap().len(), 1);
    assert_eq!(f.store.search_residents("110105", None, 10).unwrap().len(), 1);
}

#[test]
fn an_edit_to_anothers_number_is_refused_and_to_its_own_is_not() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let wang = add(&f, f.household(grid.id, "一组3号").id, "王芳", WITH_X).unwrap();
    let zhang = add(&f, f.household(grid.id, "一组4号").id, "张德顺", &id_number("19480305", true)).unwrap();
    let to = |number: &str| ResidentEdit { id_number: Some(Some(number.into())), ..Default::default() };
    assert_eq!(refused_for(f.store.edit_resident(zhang.id, to("11010519491231002x"))), "第一网格:一组3号");
    assert_eq!(f.store.resident(zhang.id).unwrap(), zhang, "the refused edit left nothing");
    let same = f.store.edit_resident(wang.id, to("１１０１０５１９４９１２３１００２ｘ")).unwrap();
    assert_eq!(same, wang);
    let renamed = f.store.edit_resident(wang.id, ResidentEdit { name: Some("王芳芳".into()), ..Default::default() });
    assert_eq!(renamed.unwrap().id_number, Some(mask_id_number(WITH_X)));
}

#[test]
fn a_person_who_moved_out_or_whose_household_did_may_be_entered_where_they_live_now() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let old_home = f.household(grid.id, "一组3号");
    let new_home = f.household(grid.id, "一组4号");
    let left = add(&f, old_home.id, "王芳", WITH_X).unwrap();
    assert_eq!(f.store.move_out_resident(left.id).unwrap().status, ResidentStatus::MovedOut);
    add(&f, new_home.id, "王芳", WITH_X).unwrap();

    let number = id_number("19480305", true);
    let moved_home = f.household(grid.id, "一组5号");
    add(&f, moved_home.id, "张德顺", &number).unwrap();
    f.store.move_out_household(moved_home.id).unwrap();
    let back = add(&f, f.household(grid.id, "一组6号").id, "张德顺", &number).unwrap();
    // Only one of them is present where the store can see: a third entry is refused.
    assert_eq!(refused_for(add(&f, new_home.id, "张德顺", &number)), "第一网格:一组6号");
    assert_eq!(f.store.reveal_resident(back.id, "核对").unwrap().id_number.as_deref(), Some(number.as_str()));
}

#[test]
fn a_resident_is_checked_without_writing_and_the_one_moving_out_does_not_count() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    let wang = add(&f, home.id, "王芳", WITH_X).unwrap();
    let waiting = f.store.sync_status().unwrap().pending_changes;
    let check = |new: &NewResident, except| f.store.check_new_resident(new, except).map(|()| wang.clone());
    assert_eq!(refused_for(check(&with_number("王芳", "11010519491231002x"), None)), "第一网格:一组3号");
    f.store.check_new_resident(&with_number("王芳", WITH_X), Some(wang.id)).unwrap();
    let male = NewResident { gender: Some(gender(true)), ..with_number("王芳", WITH_X) };
    let e = f.store.check_new_resident(&male, Some(wang.id)).unwrap_err();
    assert!(matches!(e, Error::InvalidIdNumber(_)), "{e}");
    let nameless = NewResident { name: " ".into(), ..with_number("王芳", WITH_X) };
    assert!(matches!(f.store.check_new_resident(&nameless, Some(wang.id)), Err(Error::InvalidInput { .. })));
    assert_eq!(f.store.sync_status().unwrap().pending_changes, waiting, "a check writes nothing");
}
