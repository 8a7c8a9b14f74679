//! Curtain checks: routines and their state on a local day — waiting, seen, missed, followed up —
//! with the deadline in the district's time zone.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use common::Fixture;
use gridbook_core::{CheckState, Day, ErrorKind, NewRoutine, Outcome, RoutineEdit, SignalKind};

fn routine(deadline: (u32, u32), days: &[Day]) -> NewRoutine {
    NewRoutine {
        signal: SignalKind::Curtains,
        deadline: NaiveTime::from_hms_opt(deadline.0, deadline.1, 0).unwrap(),
        days: days.iter().copied().collect(),
        note: "拉开东面窗帘".into(),
    }
}

/// A resident whose key has not reached a store yet has no row there; its curtain check is due
/// all the same, and the rest of the grid's checks with it.
#[test]
fn a_check_is_due_while_its_residents_key_is_still_on_its_way() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    let waiting = f.resident(home.id, "张德顺", "19480305", true);
    let known = f.resident(home.id, "李秀英", "19500611", false);
    f.store.add_routine(waiting.id, routine((7, 30), &Day::ALL)).unwrap();
    f.store.add_routine(known.id, routine((8, 0), &Day::ALL)).unwrap();
    let other = Fixture::new("刘强");
    let mut all = f.store.changes_since(&Default::default()).unwrap();
    all.keys.retain(|k| k.id != waiting.id.0.into_bytes());
    other.store.apply_changes(&all).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let due = other.store.due_checks(Some(grid.id), day).unwrap();
    let mut seen: Vec<(&str, &str)> = due.iter().map(|d| (d.resident_name.as_str(), d.address.as_str())).collect();
    seen.sort();
    assert_eq!(seen, [("", "一组3号"), ("李秀英", "一组3号")], "the name waits for the key, the check does not");
}

#[test]
fn a_routine_is_waiting_then_missed_then_followed_up_on_a_local_day() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let elder = f.resident(f.household(grid.id, "一组3号").id, "张德顺", "19480305", true);
    let r = f.store.add_routine(elder.id, routine((7, 30), &Day::ALL)).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();

    // 07:30 in Shanghai is 23:30 UTC the day before.
    f.clock.set(Utc.with_ymd_and_hms(2026, 11, 20, 23, 29, 0).unwrap());
    let due = f.store.due_checks(Some(grid.id), day).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].deadline_at, Utc.with_ymd_and_hms(2026, 11, 20, 23, 30, 0).unwrap());
    assert_eq!(due[0].state, CheckState::Waiting);
    assert_eq!((due[0].resident_name.as_str(), due[0].address.as_str()), ("张德顺", "一组3号"));

    f.clock.set(Utc.with_ymd_and_hms(2026, 11, 20, 23, 31, 0).unwrap());
    assert_eq!(f.store.due_checks(None, day).unwrap()[0].state, CheckState::Missed);
    f.clock.set(Utc.with_ymd_and_hms(2026, 11, 21, 0, 40, 0).unwrap());
    f.store.record_follow_up(r.id, Some(day), Outcome::NotHome, "邻居说去女儿家了").unwrap();
    match &f.store.due_checks(None, day).unwrap()[0].state {
        CheckState::FollowedUp { outcome, by, note, .. } => {
            assert_eq!((*outcome, by.as_str(), note.as_str()), (Outcome::NotHome, "王芳", "邻居说去女儿家了"));
        }
        other => panic!("followed up, not {other:?}"),
    }
    f.store.record_follow_up(r.id, Some(day), Outcome::RelativesCalled, "").unwrap();
    assert!(
        matches!(
            f.store.due_checks(None, day).unwrap()[0].state,
            CheckState::FollowedUp { outcome: Outcome::RelativesCalled, .. }
        ),
        "the latest follow-up counts"
    );
}

#[test]
fn a_sighting_makes_the_day_seen_with_who_and_when() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let elder = f.resident(f.household(grid.id, "一组3号").id, "张德顺", "19480305", true);
    let r = f.store.add_routine(elder.id, routine((7, 30), &Day::ALL)).unwrap();
    let today = f.store.today();
    let at = Utc.with_ymd_and_hms(2026, 11, 19, 23, 5, 0).unwrap();
    let o = f.store.record_sighting(r.id, None, Some(at), "窗帘开了").unwrap();
    assert_eq!((o.day, o.at, o.outcome), (today, at, None));
    let due = f.store.due_checks(None, today).unwrap();
    assert_eq!(due[0].state, CheckState::Seen { at, by: "王芳".into(), note: "窗帘开了".into() });
    // A day in the future cannot be recorded.
    let e = f.store.record_sighting(r.id, Some(today.succ_opt().unwrap()), None, "").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn paused_routines_and_days_off_are_not_due_and_missed_ones_come_first() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    let a = f.resident(home.id, "张德顺", "19480305", true);
    let b = f.resident(home.id, "李秀英", "19500101", false);
    let day = f.store.today();
    let weekday = Day::of(day.weekday());
    let other_days: Vec<Day> = Day::ALL.into_iter().filter(|d| *d != weekday).collect();
    let late = f.store.add_routine(a.id, routine((18, 0), &Day::ALL)).unwrap();
    let early = f.store.add_routine(b.id, routine((7, 0), &Day::ALL)).unwrap();
    f.store.add_routine(a.id, routine((7, 0), &other_days)).unwrap();
    let due: Vec<_> = f.store.due_checks(None, day).unwrap();
    assert_eq!(due.iter().map(|d| d.routine_id).collect::<Vec<_>>(), [early.id, late.id], "missed first");
    assert_eq!((due[0].state.clone(), due[1].state.clone()), (CheckState::Missed, CheckState::Waiting));
    f.store.edit_routine(early.id, RoutineEdit { active: Some(false), ..Default::default() }).unwrap();
    assert_eq!(f.store.due_checks(None, day).unwrap().len(), 1, "paused");
    assert_eq!(f.store.routines_of(a.id).unwrap().len(), 2);

    let moved = f.store.move_out_resident(b.id).unwrap();
    let e = f.store.add_routine(moved.id, routine((7, 0), &Day::ALL)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "no routine for someone who moved out");
    let e = f.store.add_routine(a.id, routine((7, 0), &[])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "a routine needs a day");
}

#[test]
fn signal_kinds_and_deadlines_can_be_changed() {
    let f = Fixture::new("王芳");
    let elder = f.resident(f.household(f.grid("第一网格").id, "一组3号").id, "张德顺", "19480305", true);
    let r = f.store.add_routine(elder.id, routine((7, 30), &Day::ALL)).unwrap();
    let edited = f
        .store
        .edit_routine(
            r.id,
            RoutineEdit {
                signal: Some(SignalKind::PhoneCheckIn),
                deadline: NaiveTime::from_hms_opt(9, 0, 0),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(f.store.routine(r.id).unwrap(), edited);
    assert_eq!(edited.signal, SignalKind::PhoneCheckIn);
    let f = f.reopen();
    assert_eq!(f.store.routine(r.id).unwrap(), edited);
}

#[test]
fn the_rows_of_checks_and_visits_are_the_rows_a_rebuild_from_the_journal_makes() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    let elder = f.resident(home.id, "张德顺", "19480305", true);
    let r = f.store.add_routine(elder.id, routine((7, 30), &Day::ALL)).unwrap();
    let today = f.store.today();
    // A time finer than the millisecond the journal keeps, and one just before local midnight.
    let at = Utc.with_ymd_and_hms(2026, 11, 19, 23, 5, 0).unwrap() + chrono::Duration::nanoseconds(123_456_789);
    f.store.record_sighting(r.id, None, Some(at), "窗帘开了").unwrap();
    f.store.record_follow_up(r.id, Some(today.pred_opt().unwrap()), Outcome::NeededHelp, "扶起来了").unwrap();
    let late = Utc.with_ymd_and_hms(2026, 11, 19, 15, 59, 59).unwrap() + chrono::Duration::microseconds(999_999);
    let visit = gridbook_core::NewVisit {
        kind: gridbook_core::VisitKind::FollowUp,
        at: Some(late),
        purposes: vec!["安全检查".into(), "反诈宣传".into()],
        notes: "门口有积水".into(),
        satisfaction: Some(gridbook_core::Satisfaction::Satisfied),
    };
    f.store.record_visit(home.id, visit).unwrap();
    let written = f.store.dump_query_tables().unwrap();
    f.store.rebuild_query_tables().unwrap();
    assert_eq!(f.store.dump_query_tables().unwrap(), written);
    let f = f.reopen();
    assert_eq!(f.store.dump_query_tables().unwrap(), written);
}
