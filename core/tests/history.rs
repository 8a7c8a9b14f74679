//! The ledger's audit trail: who changed which field when, drawn from the documents' history,
//! including edits made on another device and merged in.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::Fixture;
use gridbook_core::{HouseholdEdit, ManualClock, ResidentEdit};

#[test]
fn history_says_who_changed_which_field_when_across_devices() {
    let secretary = Fixture::new("刘敏");
    let grid = secretary.grid("第一网格");
    let home = secretary.household(grid.id, "一组3号");
    let elder = secretary.resident(home.id, "张德顺", "19480305", true);
    let member = Fixture::new("王芳");
    member.store.apply_changes(&secretary.store.changes_since(&Default::default()).unwrap()).unwrap();

    member.clock.set(common::noon() + chrono::Duration::hours(1));
    member
        .store
        .edit_resident(elder.id, ResidentEdit { phone: Some(Some("13900001111".into())), ..Default::default() })
        .unwrap();
    secretary.clock.set(common::noon() + chrono::Duration::hours(2));
    secretary
        .store
        .edit_household(home.id, HouseholdEdit { notes: Some("独居".into()), ..Default::default() })
        .unwrap();
    secretary.store.apply_changes(&member.store.changes_since(&secretary.store.heads().unwrap()).unwrap()).unwrap();

    let history = secretary.store.resident_history(elder.id).unwrap();
    let phone = history.iter().find(|h| h.field == "phone" && h.value.as_deref() == Some("139****1111")).unwrap();
    assert_eq!((phone.by.as_str(), phone.device.as_str()), ("王芳", "王芳-phone"));
    assert_eq!(phone.at, common::noon() + chrono::Duration::hours(1));
    assert!(phone.record.starts_with("resident:"));
    assert!(history.iter().any(|h| h.field == "name" && h.by == "刘敏"), "the creation is in it too");
    assert!(history.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");

    let household = secretary.store.household_history(home.id).unwrap();
    let notes = household.iter().find(|h| h.field == "notes" && h.value.as_deref() == Some("独居")).unwrap();
    assert_eq!(notes.by, "刘敏");
    assert!(household.iter().any(|h| h.by == "王芳"), "a household's history includes its residents'");
    assert_eq!(member.store.resident_history(elder.id).unwrap().len(), history.len(), "the same on both once merged");
}

#[test]
fn a_tool_can_date_writes_by_its_own_clock_and_the_store_goes_back_to_its_own() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let last_year = common::noon() - chrono::Duration::days(365);
    let walked = ManualClock::new(last_year);
    let home = f.store.with_clock(Arc::new(walked.clone()), || {
        let home = f.household(grid.id, "一组3号");
        walked.set(last_year + chrono::Duration::hours(1));
        f.store.move_out_household(home.id).unwrap()
    });
    assert_eq!(home.moved_out_at, Some(last_year + chrono::Duration::hours(1)));
    let history = f.store.household_history(home.id).unwrap();
    assert_eq!(history.first().unwrap().at, last_year, "the change itself is dated by the walked clock");
    assert_eq!(f.store.today(), common::noon().date_naive(), "the store's own clock is back");

    // A tool that panics does not leave the store on its clock.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f.store.with_clock(Arc::new(ManualClock::new(last_year)), || panic!("a bug in the tool"))
    }));
    assert!(panicked.is_err());
    let again = f.store.move_out_household(home.id).unwrap();
    assert_eq!(again.moved_out_at, Some(common::noon()));
}
