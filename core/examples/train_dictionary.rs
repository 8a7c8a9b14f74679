//! Trains the zstd dictionary that sync messages are compressed with
//! (`core/src/sync/wire/dictionary.zdict`, see `core/src/sync/wire/compression.rs`).
//!
//! The samples are the sync request of a demo village, never the benchmark's data, cut into pieces
//! of `SAMPLE_BYTES` (the size that gave the smallest day's request when this was tuned). A new
//! dictionary has a new id: a device and a server must then be updated together, as with a new wire
//! version.
//!
//! `cargo run --release -p gridbook-core --example train_dictionary [OUT]`

use gridbook_core::demo::{VillageSpec, fill};
use gridbook_core::{Store, StoreConfig};

const SAMPLE_BYTES: usize = 4 << 10;
const DICTIONARY_BYTES: usize = 64 << 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "core/src/sync/wire/dictionary.zdict".into());
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path(), StoreConfig::new("李娟", "pc-li"))?;
    let spec = VillageSpec {
        households: 300,
        residents: 900,
        days_of_checks: 120,
        visits: 3_000,
        events: 100,
        seed: 99,
        ..VillageSpec::small()
    };
    fill(&store, &spec)?;
    let request = store.prepare_sync(256 << 20)?.request.encode();
    let sizes: Vec<usize> = request.chunks(SAMPLE_BYTES).map(<[u8]>::len).collect();
    let dictionary = zstd::dict::from_continuous(&request, &sizes, DICTIONARY_BYTES)?;
    std::fs::write(&out, &dictionary)?;
    println!("{} B of samples -> {} B dictionary in {out}", request.len(), dictionary.len());
    Ok(())
}
