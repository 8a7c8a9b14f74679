//! Sightings recorded back to back into the village fixture's journal, and nothing else: the loop to
//! run under a profiler when a write target misses (`targets` times many things, so its profile
//! mixes them), and the tail in more detail than `targets` gives it. `N` sets the count (default
//! 5,000); `PACE_MS` spaces the writes that many milliseconds apart instead of back to back.
//!
//! `cargo bench -p gridbook-core --bench write_loop`, or under
//! `perf record --call-graph dwarf -D 12000` (the delay skips the fixture's build).

mod fixture;

use std::time::Instant;

use gridbook_core::{Durability, Store};

fn main() {
    let f = fixture::build();
    let (_keep, dir) = f.copy();
    let store = Store::open(&dir, fixture::config(Durability::Normal)).expect("copy opens");
    let today = fixture::today();
    let routine = store.due_checks(None, today).expect("due")[0].routine_id;
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let pace = std::env::var("PACE_MS").ok().and_then(|v| v.parse().ok()).map(std::time::Duration::from_millis);
    let started = Instant::now();
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            if let Some(pace) = pace {
                // On a fixed schedule, as in `targets`: a slow write does not push the next one later.
                std::thread::sleep((started + pace * i as u32).saturating_duration_since(Instant::now()));
            }
            let t = Instant::now();
            store.record_sighting(routine, Some(today), None, "").expect("sighting");
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |per_mille: usize| times[(n * per_mille / 1000).min(n - 1)];
    let over = |us: f64| times.iter().filter(|&&t| t > us).count();
    println!(
        "{n} sightings {}, NORMAL: median {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, p99.9 {:.0} µs; \
         over 300 µs: {}, over 1 ms: {}",
        pace.map_or("back to back".to_string(), |p| format!("{} ms apart", p.as_millis())),
        at(500),
        at(900),
        at(990),
        at(999),
        over(300.0),
        over(1000.0)
    );
}
