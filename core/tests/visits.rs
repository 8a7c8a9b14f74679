//! Visits: every kind, with purposes and notes, satisfaction on follow-ups; a grid's coverage over a
//! range of local days and each household's last visit.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::Fixture;
use gridbook_core::{ErrorKind, NewVisit, Satisfaction, VisitKind};

fn visit(kind: VisitKind, at: Option<chrono::DateTime<Utc>>) -> NewVisit {
    NewVisit {
        kind,
        at,
        purposes: vec!["安全检查".into(), "反诈宣传".into()],
        notes: "一切正常".into(),
        satisfaction: None,
    }
}

#[test]
fn visits_of_every_kind_are_kept_with_purposes_notes_and_satisfaction() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    for kind in [VisitKind::Home, VisitKind::Phone, VisitKind::OnTheSpot] {
        f.store.record_visit(home.id, visit(kind, None)).unwrap();
    }
    let follow_up = NewVisit { satisfaction: Some(Satisfaction::VerySatisfied), ..visit(VisitKind::FollowUp, None) };
    let v = f.store.record_visit(home.id, follow_up).unwrap();
    assert_eq!((v.by.as_str(), v.satisfaction), ("王芳", Some(Satisfaction::VerySatisfied)));
    let all = f.store.visits_of(home.id).unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.contains(&v));
    assert_eq!(all[0].purposes, ["安全检查", "反诈宣传"]);

    let wrong = NewVisit { satisfaction: Some(Satisfaction::Neutral), ..visit(VisitKind::Home, None) };
    assert_eq!(f.store.record_visit(home.id, wrong).unwrap_err().kind(), ErrorKind::InvalidInput);
    let future = visit(VisitKind::Home, Some(f.clock_now() + Duration::hours(2)));
    assert_eq!(f.store.record_visit(home.id, future).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn coverage_counts_households_visited_in_a_range_of_local_days() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let homes: Vec<_> = (1..=4).map(|n| f.household(grid.id, &format!("一组{n}号"))).collect();
    // 2026-11-01 00:30 in Shanghai is 10-31 16:30 UTC: it counts for November, locally.
    let early_november = Utc.with_ymd_and_hms(2026, 10, 31, 16, 30, 0).unwrap();
    f.store.record_visit(homes[0].id, visit(VisitKind::Home, Some(early_november))).unwrap();
    f.store.record_visit(homes[0].id, visit(VisitKind::Phone, Some(early_november + Duration::days(3)))).unwrap();
    f.store.record_visit(homes[1].id, visit(VisitKind::Home, Some(early_november - Duration::hours(1)))).unwrap();
    f.store.record_visit(homes[2].id, visit(VisitKind::Home, None)).unwrap();
    f.store.move_out_household(homes[3].id).unwrap();

    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let november = f.store.coverage(grid.id, d(11, 1), d(11, 30)).unwrap();
    assert_eq!((november.households, november.visited), (3, 2), "moved-out households do not count");
    assert!((november.ratio() - 2.0 / 3.0).abs() < 1e-9);
    let october = f.store.coverage(grid.id, d(10, 1), d(10, 31)).unwrap();
    assert_eq!(october.visited, 1);

    let last = f.store.last_visits(grid.id).unwrap();
    let of = |i: usize| last.iter().find(|l| l.household_id == homes[i].id).unwrap();
    assert_eq!(of(0).last_visit_at, Some(early_november + Duration::days(3)));
    assert_eq!(of(0).last_visit_kind, Some(VisitKind::Phone));
    assert_eq!(of(2).last_visit_kind, Some(VisitKind::Home));
    let e = f.store.coverage(grid.id, d(11, 30), d(11, 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "a range that ends before it starts");
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<Utc>;
}

impl Now for Fixture {
    fn clock_now(&self) -> chrono::DateTime<Utc> {
        gridbook_core::Clock::now(&self.clock)
    }
}
