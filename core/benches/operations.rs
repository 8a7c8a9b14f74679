//! Criterion benchmarks of the operations a grid member's phone does all day, on the village
//! fixture: recording a check or a visit, listing households, searching names, and a cold open.
//!
//! `cargo bench -p gridbook-core --bench operations`

mod fixture;

use criterion::{Criterion, criterion_group, criterion_main};
use gridbook_core::{Durability, NewVisit, Page, Store, VisitKind};

fn operations(c: &mut Criterion) {
    let f = fixture::build();
    let grid = f.summary.grids[0];
    let today = fixture::now().with_timezone(&gridbook_core::Tz::Asia__Shanghai).date_naive();
    let (_keep, dir) = f.copy();
    let store = Store::open(&dir, fixture::config(Durability::Normal)).expect("copy opens");
    let routine = store.due_checks(None, today).expect("due")[0].routine_id;
    let home = store.households(grid, false, Page::first(1)).expect("homes")[0].id;

    let mut g = c.benchmark_group("write (WAL, synchronous=NORMAL)");
    g.bench_function("record a sighting", |b| {
        b.iter(|| store.record_sighting(routine, Some(today), None, "").expect("sighting"))
    });
    g.bench_function("record a visit", |b| {
        b.iter(|| {
            let v = NewVisit {
                kind: VisitKind::Home,
                at: None,
                purposes: vec![],
                notes: String::new(),
                satisfaction: None,
            };
            store.record_visit(home, v).expect("visit")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("read");
    g.bench_function("list 500 households", |b| b.iter(|| store.households(grid, false, Page::ALL).expect("list")));
    g.bench_function("name search, 3,000 residents", |b| {
        b.iter(|| store.search_residents("秀", None, 50).expect("search"))
    });
    g.bench_function("routines due today", |b| b.iter(|| store.due_checks(None, today).expect("due")));
    g.bench_function("cold open + first page", |b| {
        b.iter(|| {
            let s = Store::open(f.dir.path(), fixture::config(Durability::Normal)).expect("open");
            s.households(grid, false, Page::first(50)).expect("page")
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = operations
}
criterion_main!(benches);
