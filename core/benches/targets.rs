//! Every figure the README reports against its target, from one run on the village fixture:
//! medians and 99th percentiles (criterion reports means; the targets are percentiles), cold opens,
//! the UI-thread reads, and storage per recorded check.
//!
//! `cargo bench -p gridbook-core --bench targets`

mod fixture;

use std::time::Instant;

use gridbook_core::{Durability, NewVisit, Page, Store, VisitKind};

/// A read an app makes, given a counter to vary what it reads.
type Read<'a> = Box<dyn Fn(usize) + 'a>;

fn bare_insert(dir: &std::path::Path, durability: Durability) -> (f64, f64) {
    let conn = rusqlite::Connection::open(dir.join(format!("bare-{durability:?}.db"))).expect("bare db");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    let sync = if durability == Durability::Full { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", sync).expect("sync");
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)", []).expect("table");
    let mut conn = conn;
    fixture::percentiles(2000, || {
        let tx = conn.transaction().expect("tx");
        tx.execute("INSERT INTO t (v) VALUES (?1)", [vec![7u8; 90]]).expect("insert");
        tx.commit().expect("commit");
    })
}

fn size(dir: &std::path::Path) -> u64 {
    ["gridbook.db", "gridbook.db-wal"].iter().map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len())).sum()
}

fn checkpoint(dir: &std::path::Path) {
    let conn = rusqlite::Connection::open(dir.join("gridbook.db")).expect("db");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
}

fn line(what: &str, target: &str, figures: String) {
    println!("| {what} | {target} | {figures} |");
}

fn main() {
    let f = fixture::build();
    let s = &f.summary;
    println!(
        "fixture: {} households, {} residents, {} routines, {} checks, {} visits, {} events; built in {:.1?}\n",
        s.households, s.residents, s.routines, s.checks, s.visits, s.events, f.built_in
    );
    println!("| measurement | target | measured |\n|---|---|---|");
    let grid = s.grids[0];
    let today = fixture::now().with_timezone(&gridbook_core::Tz::Asia__Shanghai).date_naive();

    for durability in [Durability::Normal, Durability::Full] {
        let (_keep, dir) = f.copy();
        let store = Store::open(&dir, fixture::config(durability)).expect("copy opens");
        let routine = store.due_checks(None, today).expect("due")[0].routine_id;
        let home = store.households(grid, false, Page::first(1)).expect("homes")[0].id;
        let (m, p) = fixture::percentiles(2000, || {
            store.record_sighting(routine, Some(today), None, "").expect("sighting");
        });
        line(
            &format!("record a sighting, {durability:?}"),
            "median ≤ 100 µs, p99 ≤ 300 µs (NORMAL)",
            format!("median {m:.0} µs, p99 {p:.0} µs"),
        );
        let (m, p) = fixture::percentiles(2000, || {
            let v = NewVisit {
                kind: VisitKind::Home,
                at: None,
                purposes: vec!["安全检查".into()],
                notes: "一切正常".into(),
                satisfaction: None,
            };
            store.record_visit(home, v).expect("visit");
        });
        line(
            &format!("record a visit, {durability:?}"),
            "median ≤ 100 µs, p99 ≤ 300 µs (NORMAL)",
            format!("median {m:.0} µs, p99 {p:.0} µs"),
        );
        let (m, p) = bare_insert(&dir, durability);
        line(
            &format!("bare one-row SQLite insert + commit, {durability:?}"),
            "(baseline)",
            format!("median {m:.0} µs, p99 {p:.0} µs"),
        );
    }

    let dir = f.dir.path();
    let (m, p) = fixture::percentiles(50, || {
        let store = Store::open(dir, fixture::config(Durability::Normal)).expect("open");
        assert_eq!(store.households(grid, false, Page::first(50)).expect("page").len(), 50);
    });
    line("cold open → first page of households", "≤ 5 ms", format!("median {:.2} ms, p99 {:.2} ms", m / 1e3, p / 1e3));
    let (m, p) = fixture::percentiles(50, || {
        let store = Store::open(dir, fixture::config(Durability::Normal)).expect("open");
        assert!(!store.due_checks(None, today).expect("due").is_empty());
    });
    line("cold open → routines due today", "≤ 10 ms", format!("median {:.2} ms, p99 {:.2} ms", m / 1e3, p / 1e3));

    let store = f.open(Durability::Normal);
    let (m, p) = fixture::percentiles(200, || {
        assert_eq!(store.households(grid, false, Page::ALL).expect("all").len(), 500);
    });
    line("list a grid's 500 households", "≤ 2 ms", format!("median {:.2} ms, p99 {:.2} ms", m / 1e3, p / 1e3));
    let (m, p) = fixture::percentiles(200, || {
        store.search_residents("秀", None, 50).expect("search");
    });
    line("name search over 3,000 residents", "≤ 5 ms", format!("median {:.2} ms, p99 {:.2} ms", m / 1e3, p / 1e3));

    let homes = store.households(grid, false, Page::ALL).expect("homes");
    let events = store.open_events(None, None).expect("events");
    let mut worst = (String::new(), 0.0);
    let reads: Vec<(&str, Read<'_>)> = vec![
        ("household", Box::new(|i| drop(store.household(homes[i % homes.len()].id)))),
        ("residents_of", Box::new(|i| drop(store.residents_of(homes[i % homes.len()].id)))),
        ("due_checks", Box::new(|_| drop(store.due_checks(None, today)))),
        ("open_events", Box::new(|_| drop(store.open_events(Some(grid), None)))),
        ("overdue_events", Box::new(|_| drop(store.overdue_events(Some(grid))))),
        ("event", Box::new(|i| drop(store.event(events[i % events.len()].id)))),
        ("visits_of", Box::new(|i| drop(store.visits_of(homes[i % homes.len()].id)))),
        ("last_visits", Box::new(|_| drop(store.last_visits(grid)))),
        ("coverage (a month)", Box::new(|_| drop(store.coverage(grid, today - chrono::Duration::days(30), today)))),
        ("household_history", Box::new(|i| drop(store.household_history(homes[i % homes.len()].id)))),
    ];
    let mut figures = Vec::new();
    for (name, read) in reads {
        let mut i = 0;
        let (m, p) = fixture::percentiles(300, || {
            read(i);
            i += 1;
        });
        figures.push(format!("{name} {:.2}/{:.2}", m / 1e3, p / 1e3));
        if p > worst.1 {
            worst = (name.to_string(), p);
        }
    }
    line(
        "UI-thread reads, median/p99 ms",
        "p99 ≤ 3 ms each",
        format!("{}; slowest p99: {} {:.2} ms", figures.join("; "), worst.0, worst.1 / 1e3),
    );
    drop(store);

    let (_keep, dir) = f.copy();
    // Both sides compacted, so the difference is what the checks added, not what compaction saved.
    Store::open(&dir, fixture::config(Durability::Normal)).expect("copy").compact().expect("compact");
    checkpoint(&dir);
    let before = size(&dir);
    {
        let store = Store::open(&dir, fixture::config(Durability::Normal)).expect("copy");
        let routines: Vec<_> = store.due_checks(None, today).expect("due").into_iter().map(|d| d.routine_id).collect();
        for n in 0..3000 {
            let day = today - chrono::Duration::days(400 + n / routines.len() as i64);
            store.record_sighting(routines[n as usize % routines.len()], Some(day), None, "").expect("sighting");
        }
        store.compact().expect("compact");
    }
    checkpoint(&dir);
    let per_check = size(&dir).saturating_sub(before) as f64 / 3000.0;
    line("bytes per recorded check (documents + query rows)", "≤ 120 B", format!("{per_check:.0} B"));

    let plain = tempfile::tempdir().expect("dir");
    let conn = rusqlite::Connection::open(f.dir.path().join("gridbook.db")).expect("db");
    let target = plain.path().join("plain.db");
    conn.execute("VACUUM INTO ?1", [target.to_str().expect("utf-8 path")]).expect("vacuum into");
    let plain_conn = rusqlite::Connection::open(&target).expect("plain");
    plain_conn.execute_batch("DROP TABLE docs; DROP TABLE changes; DROP TABLE outbox; VACUUM;").expect("drop docs");
    let whole = std::fs::metadata(f.dir.path().join("gridbook.db")).map_or(0, |m| m.len());
    let rows_only = std::fs::metadata(&target).map_or(0, |m| m.len());
    line(
        "whole fixture on disk vs the same rows in plain SQLite",
        "(report)",
        format!(
            "{:.1} MB vs {:.1} MB ({:.2}×)",
            whole as f64 / 1e6,
            rows_only as f64 / 1e6,
            whole as f64 / rows_only as f64
        ),
    );
    let started = Instant::now();
    drop(f);
    eprintln!("cleaned up in {:.1?}", started.elapsed());
}
