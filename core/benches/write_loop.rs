//! Sightings recorded back to back into the village fixture's journal, and nothing else: the loop to
//! run under a profiler when a write target misses (`targets` times many things, so its profile
//! mixes them). `N` sets the count (default 5,000).
//!
//! `cargo bench -p gridbook-core --bench write_loop`, or under
//! `perf record --call-graph dwarf -D 12000` (the delay skips the fixture's build).

mod fixture;

use gridbook_core::{Durability, Store};

fn main() {
    let f = fixture::build();
    let (_keep, dir) = f.copy();
    let store = Store::open(&dir, fixture::config(Durability::Normal)).expect("copy opens");
    let today = fixture::today();
    let routine = store.due_checks(None, today).expect("due")[0].routine_id;
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let s = fixture::stats(n, || {
        store.record_sighting(routine, Some(today), None, "").expect("sighting");
    });
    println!("{n} sightings back to back, NORMAL: median {:.0} µs, p99 {:.0} µs", s.median, s.p99);
}
