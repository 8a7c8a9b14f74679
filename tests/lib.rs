//! What the end-to-end tests share: a device (a store in its own temporary directory) and, once the
//! server is running, helpers to reach it.

use gridbook_core::{NewGrid, Store, StoreConfig, StoreKey};
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

    /// A fresh store as [`Device::new`], encrypted under a key of its own.
    pub fn encrypted(user: &str, device: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = StoreConfig::new(user, device);
        config.key = Some(StoreKey::generate());
        let store = Store::open(dir.path(), config).expect("a fresh store opens");
        Self { store, _dir: dir }
    }
}

/// The next change to `doc` under `store`'s own actor, setting `key`, made with automerge directly on
/// the store's changes: what anyone who saw them (a proxy, the server itself) can make, without the
/// store's signing key.
pub fn forged_change(store: &Store, doc: &str, key: &str) -> Vec<u8> {
    use automerge::{Automerge, Change, ROOT, ScalarValue, transaction::Transactable};
    let set = store.changes_since(&Default::default()).expect("the store's changes");
    let changes = set.docs.into_iter().filter(|d| d.doc == doc).flat_map(|d| d.changes);
    let actor = automerge::ActorId::from(hex::decode(store.actor()).expect("a hex actor"));
    let mut forged = Automerge::new().with_actor(actor);
    forged.apply_changes(changes.map(|b| Change::from_bytes(b).expect("a change"))).expect("they apply");
    let mut tx = forged.transaction();
    tx.put(ROOT, key, ScalarValue::Str("低保户".into())).expect("a put");
    tx.commit();
    forged.get_last_local_change().expect("the forged change").raw_bytes().to_vec()
}

/// A grid with a name, in a village.
pub fn grid(name: &str, village: &str) -> NewGrid {
    NewGrid { name: name.into(), village: village.into(), township: "城关街道".into() }
}

pub mod proxy;

/// A valid 18-digit resident ID number: region, birth date (`YYYYMMDD`), sequence (odd for men).
pub fn id_number(region: &str, birth: &str, sequence: u16) -> String {
    let first17 = format!("{region}{birth}{:03}", sequence % 1000);
    let digits: [u8; 17] = first17.as_bytes().try_into().expect("6 + 8 + 3 digits");
    format!("{first17}{}", gridbook_core::id_check_char(&digits))
}

/// A camera-sized JPEG in `dir`, a gradient so that it compresses like a photo rather than a blank.
pub fn photo_file(dir: &std::path::Path, name: &str, width: u32, height: u32) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x ^ y) & 0xff) as u8])
    });
    let path = dir.join(name);
    img.save(&path).expect("the test photo is written");
    path
}

mod server;
pub use server::TestServer;
