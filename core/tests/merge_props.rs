//! Merging, the heart of working offline: three stores edited independently and merged — partial
//! exchanges, in any order, documents and changes reversed, the same changes applied twice — converge
//! to identical query tables equal to a rebuild from the documents, and no edit is lost, including
//! concurrent edits to different fields of one household and to the same field.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::Fixture;
use gridbook_core::{
    Day, HouseholdEdit, HouseholdId, NewHousehold, NewRoutine, NewVisit, ResidentEdit, ResidentId, RoutineId,
    SignalKind, Store, VisitKind,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Notes {
        store: usize,
        home: usize,
        text: u8,
    },
    Phone {
        store: usize,
        home: usize,
        last: u8,
    },
    Name {
        store: usize,
        person: usize,
        text: u8,
    },
    Tag {
        store: usize,
        home: usize,
        alone: bool,
    },
    AddHousehold {
        store: usize,
        n: u8,
    },
    Visit {
        store: usize,
        home: usize,
    },
    Sighting {
        store: usize,
        days_ago: u8,
    },
    /// Send what `to` lacks from `from`: only the first `docs` documents, maybe reversed, maybe twice.
    Exchange {
        from: usize,
        to: usize,
        docs: usize,
        reversed: bool,
        twice: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..3usize;
    prop_oneof![
        (s.clone(), 0..3usize, any::<u8>()).prop_map(|(store, home, text)| Op::Notes { store, home, text }),
        (s.clone(), 0..3usize, any::<u8>()).prop_map(|(store, home, last)| Op::Phone { store, home, last }),
        (s.clone(), 0..3usize, any::<u8>()).prop_map(|(store, person, text)| Op::Name { store, person, text }),
        (s.clone(), 0..3usize, any::<bool>()).prop_map(|(store, home, alone)| Op::Tag { store, home, alone }),
        (s.clone(), any::<u8>()).prop_map(|(store, n)| Op::AddHousehold { store, n }),
        (s.clone(), 0..3usize).prop_map(|(store, home)| Op::Visit { store, home }),
        (s.clone(), 0..5u8).prop_map(|(store, days_ago)| Op::Sighting { store, days_ago }),
        (s.clone(), s, 0..12usize, any::<bool>(), any::<bool>())
            .prop_map(|(from, to, docs, reversed, twice)| Op::Exchange { from, to, docs, reversed, twice }),
    ]
}

/// What was written, to check that nothing was lost.
#[derive(Default)]
struct Written {
    household_fields: Vec<(HouseholdId, &'static str, String, String)>,
    resident_names: Vec<(ResidentId, String, String)>,
    households: Vec<String>,
    visits: usize,
    sightings: usize,
}

struct World {
    stores: Vec<Fixture>,
    homes: Vec<HouseholdId>,
    people: Vec<ResidentId>,
    routine: RoutineId,
    grid: gridbook_core::GridId,
}

fn world() -> World {
    let users = ["王芳", "李强", "刘敏"];
    let stores: Vec<Fixture> = users.iter().map(|u| Fixture::new(u)).collect();
    let base = &stores[0];
    let grid = base.grid("第一网格");
    let homes: Vec<HouseholdId> = (1..=3).map(|n| base.household(grid.id, &format!("一组{n}号")).id).collect();
    let people: Vec<ResidentId> = homes
        .iter()
        .enumerate()
        .map(|(i, h)| base.resident(*h, &format!("张{i}"), &format!("194{i}0101"), true).id)
        .collect();
    let new = NewRoutine {
        signal: SignalKind::Curtains,
        deadline: chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
        days: Day::ALL.into_iter().collect(),
        note: String::new(),
    };
    let routine = base.store.add_routine(people[0], new).unwrap().id;
    let everything = base.store.changes_since(&Default::default()).unwrap();
    for other in &stores[1..] {
        other.store.apply_changes(&everything).unwrap();
    }
    World { stores, homes, people, routine, grid: grid.id }
}

fn exchange(from: &Store, to: &Store, docs: usize, reversed: bool, twice: bool) {
    let mut set = from.changes_since(&to.heads().unwrap()).unwrap();
    set.docs.truncate(docs);
    if reversed {
        set.docs.reverse();
        for d in &mut set.docs {
            d.changes.reverse();
        }
    }
    to.apply_changes(&set).unwrap();
    if twice {
        to.apply_changes(&set).unwrap();
    }
}

fn full_exchange(stores: &[Fixture]) {
    for _ in 0..2 {
        for a in stores {
            for b in stores {
                if !std::ptr::eq(a, b) {
                    exchange(&a.store, &b.store, usize::MAX, false, false);
                }
            }
        }
    }
}

fn run(w: &World, ops: &[Op]) -> Written {
    let mut written = Written::default();
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Notes { store, home, text } => {
                let s = &w.stores[store].store;
                let notes = format!("备注{text}-{i}");
                s.edit_household(w.homes[home], HouseholdEdit { notes: Some(notes.clone()), ..Default::default() })
                    .unwrap();
                written.household_fields.push((w.homes[home], "notes", notes, s.config().user.clone()));
            }
            Op::Phone { store, home, last } => {
                let s = &w.stores[store].store;
                let phone = format!("13800000{last:03}");
                let edit = HouseholdEdit { phone: Some(Some(phone.clone())), ..Default::default() };
                s.edit_household(w.homes[home], edit).unwrap();
                // History shows a phone masked, as every list does.
                let phone = gridbook_core::mask_phone(&phone);
                written.household_fields.push((w.homes[home], "phone", phone, s.config().user.clone()));
            }
            Op::Name { store, person, text } => {
                let s = &w.stores[store].store;
                let name = format!("张{text}号{i}");
                s.edit_resident(w.people[person], ResidentEdit { name: Some(name.clone()), ..Default::default() })
                    .unwrap();
                written.resident_names.push((w.people[person], name, s.config().user.clone()));
            }
            Op::Tag { store, home, alone } => {
                let tags = if alone { [gridbook_core::CareTag::LivingAlone].into() } else { Default::default() };
                let edit = HouseholdEdit { care_tags: Some(tags), ..Default::default() };
                w.stores[store].store.edit_household(w.homes[home], edit).unwrap();
            }
            Op::AddHousehold { store, n } => {
                let address = format!("二组{n}号-{store}-{i}");
                let new = NewHousehold { address: address.clone(), head_name: "李四".into(), ..Default::default() };
                w.stores[store].store.add_household(w.grid, new).unwrap();
                written.households.push(address);
            }
            Op::Visit { store, home } => {
                let new = NewVisit {
                    kind: VisitKind::Home,
                    at: None,
                    purposes: vec![],
                    notes: format!("{i}"),
                    satisfaction: None,
                };
                w.stores[store].store.record_visit(w.homes[home], new).unwrap();
                written.visits += 1;
            }
            Op::Sighting { store, days_ago } => {
                let s = &w.stores[store].store;
                let day = s.today() - chrono::Duration::days(i64::from(days_ago));
                s.record_sighting(w.routine, Some(day), None, "").unwrap();
                written.sightings += 1;
            }
            Op::Exchange { from, to, docs, reversed, twice } => {
                if from != to {
                    exchange(&w.stores[from].store, &w.stores[to].store, docs, reversed, twice);
                }
            }
        }
    }
    written
}

fn check(w: &World, written: &Written) {
    full_exchange(&w.stores);
    let dump = w.stores[0].store.dump_query_tables().unwrap();
    for (i, f) in w.stores.iter().enumerate() {
        assert_eq!(f.store.dump_query_tables().unwrap(), dump, "store {i} converged");
        f.store.rebuild_query_tables().unwrap();
        assert_eq!(f.store.dump_query_tables().unwrap(), dump, "store {i} equals a rebuild from its documents");
    }
    let s = &w.stores[1].store;
    for (home, field, value, by) in &written.household_fields {
        let history = s.household_history(*home).unwrap();
        let kept =
            history.iter().any(|h| h.field == *field && h.value.as_deref() == Some(value.as_str()) && h.by == *by);
        assert!(kept, "{by}'s {field} = {value} is in the history");
    }
    for (person, name, by) in &written.resident_names {
        let history = s.resident_history(*person).unwrap();
        assert!(history.iter().any(|h| h.field == "name" && h.value.as_deref() == Some(name.as_str()) && h.by == *by));
    }
    // The value that stands is one that somebody wrote last on some device.
    for home in &w.homes {
        let h = s.household(*home).unwrap();
        let notes: Vec<&String> = written
            .household_fields
            .iter()
            .filter(|(x, f, ..)| x == home && *f == "notes")
            .map(|(_, _, v, _)| v)
            .collect();
        assert!(notes.is_empty() || notes.contains(&&h.notes), "notes {} is one of those written", h.notes);
    }
    let addresses: Vec<String> =
        s.households(w.grid, false, gridbook_core::Page::ALL).unwrap().into_iter().map(|h| h.address).collect();
    for a in &written.households {
        assert!(addresses.contains(a), "household {a} survived");
    }
    let visits: usize = w.homes.iter().map(|h| s.visits_of(*h).unwrap().len()).sum();
    assert_eq!(visits, written.visits, "every visit survived");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn independent_edits_merged_in_any_order_converge_and_lose_nothing(ops in proptest::collection::vec(op(), 1..30)) {
        let w = world();
        let written = run(&w, &ops);
        check(&w, &written);
    }
}

#[test]
fn concurrent_edits_to_different_fields_both_survive_and_to_the_same_field_one_wins_with_both_in_history() {
    let w = world();
    let (a, b) = (&w.stores[0].store, &w.stores[1].store);
    let home = w.homes[0];
    a.edit_household(home, HouseholdEdit { phone: Some(Some("13811112222".into())), ..Default::default() }).unwrap();
    b.edit_household(home, HouseholdEdit { notes: Some("左耳听力差".into()), ..Default::default() }).unwrap();
    a.edit_resident(w.people[0], ResidentEdit { name: Some("张德顺".into()), ..Default::default() }).unwrap();
    b.edit_resident(w.people[0], ResidentEdit { name: Some("张德训".into()), ..Default::default() }).unwrap();
    full_exchange(&w.stores);
    let merged = a.household(home).unwrap();
    assert_eq!(merged, b.household(home).unwrap());
    assert_eq!((merged.phone.as_deref(), merged.notes.as_str()), (Some("138****2222"), "左耳听力差"));
    let name = a.resident(w.people[0]).unwrap().name;
    assert!(name == "张德顺" || name == "张德训");
    assert_eq!(b.resident(w.people[0]).unwrap().name, name, "both sides pick the same winner");
    let history = b.resident_history(w.people[0]).unwrap();
    for (value, by) in [("张德顺", "王芳"), ("张德训", "李强")] {
        assert!(history.iter().any(|h| h.field == "name" && h.value.as_deref() == Some(value) && h.by == by));
    }
}
