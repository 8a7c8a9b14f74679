//! The Rust side of the FFI overhead figure: a curtain-check sighting recorded directly on the core
//! and through the `Gridbook` object (the conversion and panic guard, no foreign caller), each on a
//! fresh store with `synchronous=NORMAL`. `android/jvm-test/bench.sh` measures the same call from
//! Kotlin through JNA; the difference of the medians is the boundary's cost.

use std::hint::black_box;

use std::time::Instant;

use gridbook_core::{
    Durability, NewGrid, NewHousehold, NewResident, NewRoutine, Registration, Relation, Store, StoreConfig,
};
use gridbook_ffi::{Gridbook, OpenOptions, Sighting};

fn routine(store: &Store) -> gridbook_core::RoutineId {
    let grid = store
        .create_grid(NewGrid { name: "第三网格".into(), village: "幸福村".into(), ..Default::default() })
        .expect("grid");
    let home = store
        .add_household(
            grid.id,
            NewHousehold { address: "一组3号".into(), head_name: "赵桂兰".into(), ..Default::default() },
        )
        .expect("household");
    let resident = NewResident {
        name: "赵桂兰".into(),
        id_number: None,
        gender: Some(gridbook_core::Gender::Female),
        birth_date: chrono::NaiveDate::from_ymd_opt(1938, 2, 14),
        relation: Relation::Head,
        phone: None,
        registration: Registration::Registered,
        care_tags: Default::default(),
    };
    let r = store.add_resident(home.id, resident).expect("resident");
    let new = NewRoutine {
        signal: gridbook_core::SignalKind::Curtains,
        deadline: chrono::NaiveTime::from_hms_opt(7, 30, 0).expect("time"),
        days: gridbook_core::Day::ALL.into_iter().collect(),
        note: String::new(),
    };
    store.add_routine(r.id, new).expect("routine").id
}

/// The same schedule as the Kotlin side: 2,000 calls to warm up, then 5,000 timed one by one, so
/// both see the same journal size; criterion's adaptive iteration count would not. Each side has
/// first made [`WARM_CALLS`] on a store of its own (see `main`).
fn measure(what: &str, mut call: impl FnMut()) {
    for _ in 0..2_000 {
        call();
    }
    let mut times: Vec<f64> = (0..5_000)
        .map(|_| {
            let start = Instant::now();
            call();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{what}: median {:.1} µs, p99 {:.1} µs (n={})",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times.len()
    );
}

/// Calls made on a throwaway store before anything is timed. A JVM compiles a call path only after
/// some ten thousand runs, and an app that records checks all day runs compiled code; without this
/// the Kotlin side's timed calls ran partly interpreted while the compiler threads took the other
/// core. The Rust side does the same, so both time the same store from the same state.
const WARM_CALLS: usize = 20_000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = StoreConfig::new("王芳", "bench");
    config.durability = Durability::Normal;
    let warm = Store::open(dir.path().join("warm"), config.clone()).expect("store");
    let id = routine(&warm);
    for _ in 0..WARM_CALLS {
        black_box(warm.record_sighting(id, None, None, "").expect("sighting"));
    }
    drop(warm);

    let store = Store::open(dir.path().join("direct"), config).expect("store");
    let id = routine(&store);
    measure("record_sighting, Rust, direct", || {
        black_box(store.record_sighting(id, None, None, "").expect("sighting"));
    });

    let path = dir.path().join("object").to_string_lossy().into_owned();
    let options = OpenOptions {
        user: "王芳".into(),
        device: "bench".into(),
        timezone: None,
        durability: Some(Durability::Normal),
        photo_long_edge: None,
        photo_quality: None,
        urgent_response_minutes: None,
        routine_handling_minutes: None,
        district_ca: None,
        key: None,
    };
    let gb = Gridbook::open(path.clone(), options).expect("gridbook");
    let seed = Store::open(&path, StoreConfig::new("王芳", "seed")).expect("seed handle");
    let id = routine(&seed);
    drop(seed);
    measure("record_sighting, Rust, through Gridbook", || {
        let sighting = Sighting { routine: id, day: None, at: None, note: String::new() };
        black_box(gb.record_sighting(sighting).expect("sighting"));
    });
}
