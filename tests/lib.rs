//! What the end-to-end tests share: a device (a store in its own temporary directory) and, once the
//! server is running, helpers to reach it.

use gridbook_core::{NewGrid, Store, StoreConfig};
use tempfile::TempDir;

/// A phone or PC with its own store.
#[derive(Debug)]
pub struct Device {
    pub store: Store,
    _dir: TempDir,
}

impl Device {
    /// A fresh store used by `user` on `device`.
    pub fn new(user: &str, device: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(dir.path(), StoreConfig::new(user, device)).expect("a fresh store opens");
        Self { store, _dir: dir }
    }
}

/// A grid with a name, in a village.
pub fn grid(name: &str, village: &str) -> NewGrid {
    NewGrid { name: name.into(), village: village.into(), township: "城关街道".into() }
}
