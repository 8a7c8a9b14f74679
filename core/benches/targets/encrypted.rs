//! The cost of encryption at rest: the same writes into a plaintext and an encrypted copy of the
//! fixture, taken turn about in one run so that both see the same machine, and a cold open to the
//! first page with the raw key. The targets: encrypted writes within 1.15× of the plaintext ones,
//! and the cold open still within its 5 ms.

use std::time::Instant;

use gridbook_core::{Durability, Page, Store, StoreConfig, StoreKey};

use crate::fixture::{self, Fixture, Stats};

/// Rounds of the two stores taken in turn, and writes per round.
const ROUNDS: usize = 10;
const WRITES: usize = 200;

fn config(key: Option<&StoreKey>) -> StoreConfig {
    let mut c = fixture::config(Durability::Normal);
    c.key = key.cloned();
    c
}

pub fn run(f: &Fixture, out: &mut Vec<String>) {
    let grid = f.summary.grids[0];
    let today = fixture::today();
    let key = StoreKey::generate();
    let (_plain_copy, plain_dir) = f.copy();
    let (_sealed_copy, sealed_dir) = f.copy();
    // Encrypting the copy is a one-off at the first open with a key: not part of any write.
    drop(Store::open(&sealed_dir, config(Some(&key))).expect("the copy is encrypted"));
    let plain = Store::open(&plain_dir, config(None)).expect("plaintext copy");
    let sealed = Store::open(&sealed_dir, config(Some(&key))).expect("encrypted copy");

    let routine = plain.due_checks(None, today).expect("due")[0].routine_id;
    let home = plain.households(grid, false, Page::first(1)).expect("homes")[0].id;
    type Write = fn(&Store, gridbook_core::RoutineId, gridbook_core::HouseholdId, chrono::NaiveDate);
    let writes: [(&str, Write); 2] = [
        ("record a sighting", |s, routine, _, today| {
            drop(s.record_sighting(routine, Some(today), None, "").expect("sighting"))
        }),
        ("record a visit", |s, _, home, _| drop(s.record_visit(home, fixture::home_visit()).expect("visit"))),
    ];
    for (what, write) in writes {
        let (mut plain_times, mut sealed_times) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            for (store, times) in [(&plain, &mut plain_times), (&sealed, &mut sealed_times)] {
                for _ in 0..WRITES {
                    let t = Instant::now();
                    write(store, routine, home, today);
                    times.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
        }
        let (p, s) = (Stats::of(plain_times), Stats::of(sealed_times));
        out.push(format!(
            "| {what}, Normal, back to back, encrypted vs plaintext (same run) | ≤ 1.15× | encrypted median {:.0} µs, \
             p99 {:.0} µs; plaintext median {:.0} µs, p99 {:.0} µs: {:.2}× and {:.2}× |",
            s.median,
            s.p99,
            p.median,
            p.p99,
            s.median / p.median,
            s.p99 / p.p99
        ));
    }
    drop((plain, sealed));

    let mut opening = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let store = Store::open(&sealed_dir, config(Some(&key))).expect("open");
        assert_eq!(store.households(grid, false, Page::first(50)).expect("page").len(), 50);
        opening.push(t.elapsed().as_secs_f64() * 1e3);
        drop(store);
    }
    let s = Stats::of(opening);
    out.push(format!(
        "| cold open → first page of a grid's households, encrypted (raw key) | ≤ 5 ms | median {:.2} ms, p99 {:.2} ms |",
        s.median, s.p99
    ));
}
