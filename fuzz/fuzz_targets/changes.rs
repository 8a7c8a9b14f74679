//! Any bytes offered as another store's changes: applied, or refused with a typed error and nothing
//! applied — never a panic.
#![no_main]

use std::sync::OnceLock;

use gridbook_core::{ChangeSet, DocChanges, Store, StoreConfig};
use libfuzzer_sys::fuzz_target;

fn store() -> &'static Store {
    static STORE: OnceLock<(tempfile::TempDir, Store)> = OnceLock::new();
    &STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = Store::open(dir.path(), StoreConfig::new("fuzz", "fuzz")).expect("store");
            (dir, store)
        })
        .1
}

fuzz_target!(|data: &[u8]| {
    // automerge's panics are contained by the code under test (`catch_unwind`), but libFuzzer's
    // hook aborts on any panic, caught or not. Silenced, a panic that escapes the call still
    // aborts (libfuzzer-sys's own guard) and is reported; one that was contained is not.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let doc = "h/01a20427-e6d5-74b4-ab19-58aa52cdf9fa/01a20427-e6d9-752c-8089-15fee0f65389".to_string();
    let set = ChangeSet { docs: vec![DocChanges { doc, changes: vec![data.to_vec()] }], ..Default::default() };
    let _ = store().apply_changes(&set);
});
