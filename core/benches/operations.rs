//! Criterion benchmarks of the operations a grid member's phone does all day, on the village
//! fixture: recording a check or a visit, listing households, searching names, the routines due,
//! and a cold open. Criterion gives means and confidence intervals; the percentile targets are
//! measured by `--bench targets`.
//!
//! `cargo bench -p gridbook-core --bench operations`

mod fixture;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gridbook_core::{Durability, Page, Store};

fn operations(c: &mut Criterion) {
    let f = fixture::build();
    let grid = f.summary.grids[0];
    let today = fixture::today();

    // Writes go to a copy, so that the reads below see the fixture as built (thousands of extra
    // sightings of one routine today would make its due check slower than any real day's).
    let (_keep, dir) = f.copy();
    let store = Store::open(&dir, fixture::config(Durability::Normal)).expect("copy opens");
    let routine = store.due_checks(None, today).expect("due")[0].routine_id;
    let home = store.households(grid, false, Page::first(1)).expect("homes")[0].id;
    let mut g = c.benchmark_group("write (WAL, synchronous=NORMAL)");
    g.bench_function("record a sighting", |b| {
        b.iter(|| store.record_sighting(routine, Some(today), None, "").expect("sighting"))
    });
    g.bench_function("record a visit", |b| b.iter(|| store.record_visit(home, fixture::home_visit()).expect("visit")));
    g.finish();
    drop(store);

    let store = f.open(Durability::Normal);
    let mut g = c.benchmark_group("read");
    g.bench_function("list 500 households", |b| b.iter(|| store.households(grid, false, Page::ALL).expect("list")));
    g.bench_function("name search, 3,000 residents", |b| {
        b.iter(|| store.search_residents("秀", None, 50).expect("search"))
    });
    g.bench_function("routines due today", |b| b.iter(|| store.due_checks(None, today).expect("due")));
    drop(store);
    // Closing the last connection checkpoints the WAL: an app does that when it leaves, so it is
    // kept out of the time to the first screen.
    g.bench_function("cold open + first page", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let s = Store::open(f.dir.path(), fixture::config(Durability::Normal)).expect("open");
                std::hint::black_box(s.households(grid, false, Page::first(50)).expect("page"));
                total += t.elapsed();
                drop(s);
            }
            total
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = operations
}
criterion_main!(benches);
