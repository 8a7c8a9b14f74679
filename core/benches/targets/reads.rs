//! The read targets: a cold open to the first screen, the long lists, and every read the apps make
//! on the UI thread, as medians and 99th percentiles; and where a cold open's time goes, step by step.

use std::path::Path;
use std::time::Instant;

use gridbook_core::{Durability, Page, Store};

use crate::fixture::{self, Fixture, Stats};

/// A read an app makes, given a counter to vary what it reads.
type Read<'a> = Box<dyn Fn(usize) + 'a>;

pub fn run(f: &Fixture, out: &mut Vec<String>) {
    let grid = f.summary.grids[0];
    let today = fixture::today();
    let dir = f.dir.path();
    let (first_page, closed) =
        cold(dir, |s| assert_eq!(s.households(grid, false, Page::first(50)).expect("page").len(), 50));
    out.push(ms_row("cold open → first page of a grid's households", "≤ 5 ms", first_page));
    let (due, _) = cold(dir, |s| assert!(!s.due_checks(None, today).expect("due").is_empty()));
    out.push(ms_row("cold open → routines due today", "≤ 10 ms", due));
    out.push(ms_row("… closing the store afterwards (not part of the open)", "(report)", closed));
    out.push(open_steps(dir));

    let store = f.open(Durability::Normal);
    let s = fixture::stats(200, || assert_eq!(store.households(grid, false, Page::ALL).expect("all").len(), 500));
    out.push(ms_row("list a grid's 500 households", "≤ 2 ms", s.ms()));
    // A common character of given names, so the search finds many and reads them all.
    let s = fixture::stats(200, || drop(store.search_residents("秀", None, 50).expect("search")));
    out.push(ms_row("name search over 3,000 residents (\"秀\", 50 shown)", "≤ 5 ms", s.ms()));

    let homes = store.households(grid, false, Page::ALL).expect("homes");
    let events = store.open_events(None, None).expect("events");
    let month_ago = today - chrono::Duration::days(30);
    let reads: Vec<(&str, Read<'_>)> = vec![
        ("household", Box::new(|i| drop(store.household(homes[i % homes.len()].id)))),
        ("residents_of", Box::new(|i| drop(store.residents_of(homes[i % homes.len()].id)))),
        ("due_checks", Box::new(|_| drop(store.due_checks(None, today)))),
        ("open_events", Box::new(|_| drop(store.open_events(Some(grid), None)))),
        ("overdue_events", Box::new(|_| drop(store.overdue_events(Some(grid))))),
        ("event", Box::new(|i| drop(store.event(events[i % events.len()].id)))),
        ("visits_of", Box::new(|i| drop(store.visits_of(homes[i % homes.len()].id)))),
        ("last_visits", Box::new(|_| drop(store.last_visits(grid)))),
        ("coverage of a month", Box::new(|_| drop(store.coverage(grid, month_ago, today)))),
        ("household_history", Box::new(|i| drop(store.household_history(homes[i % homes.len()].id)))),
    ];
    for (name, read) in reads {
        let mut i = 0;
        let s = fixture::stats(300, || {
            read(i);
            i += 1;
        });
        out.push(ms_row(&format!("UI-thread read: {name}"), "p99 ≤ 3 ms", s.ms()));
    }
}

fn ms_row(what: &str, target: &str, s: Stats) -> String {
    format!("| {what} | {target} | median {:.2} ms, p99 {:.2} ms |", s.median, s.p99)
}

/// Opens the store fresh 50 times and reads the first screen; the store is closed outside the
/// timing, since closing the last connection checkpoints the WAL, which an app does at leaving, not
/// at launch. Returns the open-to-screen times and the closing times, in milliseconds.
fn cold(dir: &Path, first_screen: impl Fn(&Store)) -> (Stats, Stats) {
    let (mut opening, mut closing) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let t = Instant::now();
        let store = Store::open(dir, fixture::config(Durability::Normal)).expect("open");
        first_screen(&store);
        opening.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        drop(store);
        closing.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (Stats::of(opening), Stats::of(closing))
}

/// The open path's SQLite steps as `Store::open` takes them, each timed (medians of 30 opens): the
/// file, the pragmas, the schema read, the schema version (read; written only by a migration), the
/// actor.
fn open_steps(dir: &Path) -> String {
    let path = dir.join("gridbook.db");
    let mut steps = [0.0f64; 6];
    let mut all: Vec<[f64; 6]> = Vec::new();
    for _ in 0..30 {
        let mut t = Instant::now();
        let mut lap = |i: usize, steps: &mut [f64; 6]| {
            steps[i] = t.elapsed().as_secs_f64() * 1e3;
            t = Instant::now();
        };
        let conn = rusqlite::Connection::open(&path).expect("db");
        lap(0, &mut steps);
        conn.busy_timeout(std::time::Duration::from_secs(5)).expect("timeout");
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).expect("wal");
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=4194304; \
             PRAGMA foreign_keys=ON;",
        )
        .expect("pragmas");
        lap(1, &mut steps);
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).expect("schema");
        lap(2, &mut steps);
        let _: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
        lap(3, &mut steps);
        // The checkpointing connection (`db/checkpoint.rs`); its thread starts in microseconds.
        drop(rusqlite::Connection::open(&path).expect("second connection"));
        conn.query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| r.get::<_, String>(0)).expect("actor");
        lap(4, &mut steps);
        drop(conn);
        lap(5, &mut steps);
        all.push(steps);
    }
    let med = |i: usize| Stats::of(all.iter().map(|s| s[i]).collect()).median;
    format!(
        "| where a cold open goes (SQLite steps of `Store::open`, medians) | (diagnosis) | open the file {:.2} ms, \
         pragmas (WAL) {:.2} ms, schema read {:.2} ms, schema version {:.2} ms, actor and second connection {:.2} ms; \
         closing (checkpoint of the WAL) {:.2} ms |",
        med(0),
        med(1),
        med(2),
        med(3),
        med(4),
        med(5)
    )
}
