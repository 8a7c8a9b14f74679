//! Merging residents while offline, on three stores that sync in random partial exchanges: whatever
//! merges (each way round, in chains, of one record twice), edits, routines and visits were made,
//! every store ends with the same residents, routines and visits, equal to a rebuild from its
//! documents, and nothing a grid member recorded is lost from the residents that remain.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::Fixture;
use gridbook_core::{
    CareTag, Day, ErrorKind, HouseholdId, NewResident, NewRoutine, NewVisit, Registration, Relation, ResidentEdit,
    ResidentId, RoutineId, SignalKind, Store, VisitId, VisitKind,
};
use proptest::prelude::*;

const PEOPLE: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Merge { store: usize, keep: usize, other: usize },
    Name { store: usize, person: usize, text: u8 },
    Routine { store: usize, person: usize },
    Visit { store: usize, home: usize },
    Exchange { from: usize, to: usize, docs: usize, reversed: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..3usize;
    let p = 0..PEOPLE;
    prop_oneof![
        3 => (s.clone(), p.clone(), p.clone()).prop_map(|(store, keep, other)| Op::Merge { store, keep, other }),
        1 => (s.clone(), p.clone(), any::<u8>()).prop_map(|(store, person, text)| Op::Name { store, person, text }),
        1 => (s.clone(), p).prop_map(|(store, person)| Op::Routine { store, person }),
        1 => (s.clone(), 0..2usize).prop_map(|(store, home)| Op::Visit { store, home }),
        3 => (s.clone(), s, 0..8usize, any::<bool>())
            .prop_map(|(from, to, docs, reversed)| Op::Exchange { from, to, docs, reversed }),
    ]
}

struct World {
    stores: Vec<Fixture>,
    homes: Vec<HouseholdId>,
    /// The same man entered four times, without an ID number, in two households.
    people: Vec<ResidentId>,
}

fn world() -> World {
    let stores: Vec<Fixture> = ["刘敏", "陈静", "王芳"].iter().map(|u| Fixture::new(u)).collect();
    let base = &stores[0];
    let grid = base.grid("第一网格");
    let homes: Vec<HouseholdId> = (1..=2).map(|n| base.household(grid.id, &format!("一组{n}号")).id).collect();
    let people = (0..PEOPLE)
        .map(|i| {
            let new = NewResident {
                name: "张德顺".into(),
                id_number: None,
                gender: Some(common::gender(true)),
                birth_date: chrono::NaiveDate::from_ymd_opt(1948, 3, 5),
                relation: Relation::Head,
                // Some records have what others lack, for a merge to fill in.
                phone: (i == 1).then(|| "13912345678".into()),
                registration: Registration::Registered,
                care_tags: if i == 2 { [CareTag::LivingAlone].into() } else { Default::default() },
            };
            base.store.add_resident(homes[i % 2], new).unwrap().id
        })
        .collect();
    let everything = base.store.changes_since(&Default::default()).unwrap();
    for other in &stores[1..] {
        other.store.apply_changes(&everything).unwrap();
    }
    World { stores, homes, people }
}

fn exchange(from: &Store, to: &Store, docs: usize, reversed: bool) {
    let mut set = from.changes_since(&to.heads().unwrap()).unwrap();
    set.docs.truncate(docs);
    if reversed {
        set.docs.reverse();
    }
    to.apply_changes(&set).unwrap();
}

/// What was done, to check it against every store in the end.
#[derive(Default)]
struct Done {
    merges: Vec<(usize, usize)>,
    routines: BTreeSet<RoutineId>,
    visits: Vec<(usize, VisitId)>,
}

/// A refusal the ledger makes on purpose (a merged resident is not changed, a resident is not
/// merged twice) is fine; anything else fails the test.
fn allowed<T>(result: gridbook_core::Result<T>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) if e.kind() == ErrorKind::InvalidInput => None,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn run(w: &World, ops: &[Op]) -> Done {
    let mut done = Done::default();
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Merge { store, keep, other } => {
                if allowed(w.stores[store].store.merge_residents(w.people[keep], w.people[other])).is_some() {
                    done.merges.push((keep, other));
                }
            }
            Op::Name { store, person, text } => {
                let edit = ResidentEdit { name: Some(format!("张{text}号{i}")), ..Default::default() };
                allowed(w.stores[store].store.edit_resident(w.people[person], edit));
            }
            Op::Routine { store, person } => {
                let new = NewRoutine {
                    signal: SignalKind::Light,
                    deadline: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                    days: [Day::Mon].into(),
                    note: format!("{i}"),
                };
                if let Some(r) = allowed(w.stores[store].store.add_routine(w.people[person], new)) {
                    done.routines.insert(r.id);
                }
            }
            Op::Visit { store, home } => {
                let new = NewVisit {
                    kind: VisitKind::Home,
                    at: None,
                    purposes: vec![],
                    notes: format!("{i}"),
                    satisfaction: None,
                };
                let v = w.stores[store].store.record_visit(w.homes[home], new).unwrap();
                done.visits.push((home, v.id));
            }
            Op::Exchange { from, to, docs, reversed } => {
                if from != to {
                    exchange(&w.stores[from].store, &w.stores[to].store, docs, reversed);
                }
            }
        }
    }
    done
}

fn check(w: &World, done: &Done) {
    for _ in 0..2 {
        for a in &w.stores {
            for b in &w.stores {
                if !std::ptr::eq(a, b) {
                    exchange(&a.store, &b.store, usize::MAX, false);
                }
            }
        }
    }
    let dump = w.stores[0].store.dump_query_tables().unwrap();
    for (i, f) in w.stores.iter().enumerate() {
        assert_eq!(f.store.dump_query_tables().unwrap(), dump, "store {i} converged");
        f.store.rebuild_query_tables().unwrap();
        assert_eq!(f.store.dump_query_tables().unwrap(), dump, "store {i} equals a rebuild from its documents");
    }
    let listed = |s: &Store| -> Vec<ResidentId> {
        s.search_residents("张", None, 100).unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    let first = &w.stores[0].store;
    let kept = listed(first);
    assert!(!kept.is_empty(), "merges never leave the person out of the ledger altogether");
    for f in &w.stores {
        let s = &f.store;
        assert_eq!(listed(s), kept, "every store lists the same residents");
        let root = |p: usize| s.resident(w.people[p]).unwrap().merged_into.unwrap_or(w.people[p]);
        for p in 0..PEOPLE {
            let r = root(p);
            assert!(kept.contains(&r), "everyone merged stands for a resident still listed");
            assert_eq!(s.resident(r).unwrap().merged_into, None, "and that one is not merged itself");
            assert_eq!(kept.contains(&w.people[p]), r == w.people[p], "listed exactly when not merged");
        }
        // A merge no other merge touched came out as the secretary made it.
        for &(keep, other) in &done.merges {
            let alone = done.merges.iter().filter(|(k, o)| *o == other || *k == other).count() == 1;
            if alone {
                assert_eq!(root(other), root(keep), "{other} merged into {keep}");
            }
        }
        // Every routine is the routine of exactly one listed resident, and every visit is among a
        // listed resident's.
        let mut routines: Vec<RoutineId> = kept.iter().flat_map(|r| s.routines_of(*r).unwrap()).map(|r| r.id).collect();
        routines.sort();
        let mut all: Vec<RoutineId> = done.routines.iter().copied().collect();
        all.sort();
        assert_eq!(routines, all, "no routine lost or shown twice");
        for &(home, visit) in &done.visits {
            let person = (0..PEOPLE).find(|p| p % 2 == home).unwrap();
            let visits = s.visits_of_resident(root(person)).unwrap();
            assert!(visits.iter().any(|v| v.id == visit), "the visit to home {home} follows its resident");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn merges_edits_and_entries_synced_in_any_order_converge_on_one_ledger(ops in proptest::collection::vec(op(), 1..30)) {
        let w = world();
        let done = run(&w, &ops);
        check(&w, &done);
    }
}
