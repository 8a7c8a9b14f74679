//! Every figure `core/BENCHMARKS.md` reports against its target, from one run on the village fixture:
//! medians and 99th percentiles (criterion reports means and medians; the targets are percentiles),
//! cold opens, the UI-thread reads, storage per recorded check, a breakdown of the writes and of the
//! open path for the targets they miss, and what encryption at rest costs. Prints a markdown table.
//!
//! `cargo bench -p gridbook-core --bench targets`

#[path = "targets/encrypted.rs"]
mod encrypted;
mod fixture;
#[path = "targets/reads.rs"]
mod reads;
#[path = "targets/storage.rs"]
mod storage;
#[path = "targets/writes.rs"]
mod writes;

use std::time::Instant;

fn main() {
    // `cargo bench` passes `--bench` (and any filter); this harness always runs everything.
    let f = fixture::build();
    let s = &f.summary;
    println!(
        "fixture: {} grids, {} households, {} residents, {} routines, {} checks, {} visits, {} events; built in {:.1?}\n",
        s.grids.len(),
        s.households,
        s.residents,
        s.routines,
        s.checks,
        s.visits,
        s.events,
        f.built_in
    );
    let mut rows = Vec::new();
    let started = Instant::now();
    writes::run(&f, &mut rows);
    reads::run(&f, &mut rows);
    storage::run(&f, &mut rows);
    encrypted::run(&f, &mut rows);
    println!("| measurement | target | measured |\n|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    eprintln!("measured in {:.1?}", started.elapsed());
}
