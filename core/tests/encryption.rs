//! Encryption at rest, as the person who finds a lost phone meets it: every file of an encrypted
//! store is read byte by byte for a resident's name and ID number; a store opens only with its key,
//! and a wrong key changes nothing; a plaintext store from an older build is encrypted in place,
//! keeping everything, also when the app is killed at any moment of it; and the key changes in one
//! call while the store stays open. Photo files are sealed: none of a photo's bytes in its file,
//! a file altered in one byte refused, a plaintext store's photos sealed when it is encrypted, and
//! a new key leaves them readable.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gridbook_core::{Error, GridId, HouseholdId, NewEvent, NewGrid, Store, StoreConfig, StoreKey, Urgency};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const NAME: &str = "欧阳秀兰";
const PHONE: &str = "13812340001";

fn id_number() -> String {
    common::id_number("19580506", true)
}

/// What no file of an encrypted store may show.
fn canaries() -> Vec<String> {
    vec![NAME.into(), id_number(), PHONE.into()]
}

fn config(key: Option<&StoreKey>) -> StoreConfig {
    let mut config = StoreConfig::new("王芳", "phone");
    config.key = key.cloned();
    config
}

/// A grid with a household whose head has the canary name and ID number.
fn fill(store: &Store) -> (GridId, HouseholdId) {
    let grid =
        store.create_grid(NewGrid { name: "第一网格".into(), village: "幸福村".into(), ..Default::default() }).unwrap();
    let home = store.add_household(grid.id, common::household("一组7号", NAME)).unwrap();
    let mut new = common::resident(NAME, "19580506", true);
    new.phone = Some(PHONE.into());
    store.add_resident(home.id, new).unwrap();
    (grid.id, home.id)
}

/// Every file under `dir` that holds one of `needles`, in UTF-8.
fn files_holding(dir: &Path, needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        for needle in needles {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{} holds {needle:?}", entry.display()));
            }
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

fn directory_listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| (p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn an_encrypted_store_shows_no_name_or_id_number_in_any_file_even_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let store = Store::open(dir.path(), config(Some(&key))).unwrap();
    fill(&store);
    // While open: the WAL and its index hold the latest commits.
    assert_eq!(files_holding(dir.path(), &canaries()), Vec::<String>::new());
    drop(store);
    assert_eq!(files_holding(dir.path(), &canaries()), Vec::<String>::new());

    // The same records in a store without a key are there to be read: the scan finds them.
    let plain = tempfile::tempdir().unwrap();
    fill(&Store::open(plain.path(), config(None)).unwrap());
    assert!(!files_holding(plain.path(), &[NAME.into()]).is_empty());
}

#[test]
fn an_encrypted_store_opens_only_with_its_key_and_a_wrong_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let (_, home) = fill(&Store::open(dir.path(), config(Some(&key))).unwrap());
    let before = directory_listing(dir.path());

    assert!(matches!(Store::open(dir.path(), config(None)), Err(Error::KeyNeeded)));
    assert!(matches!(Store::open(dir.path(), config(Some(&StoreKey::generate()))), Err(Error::WrongKey)));
    assert_eq!(directory_listing(dir.path()), before, "nothing was moved aside, written or deleted");

    let store = Store::open(dir.path(), config(Some(&key))).unwrap();
    assert_eq!(store.household(home).unwrap().head_name, NAME);
}

#[test]
fn a_plaintext_store_is_encrypted_in_place_and_keeps_its_records_and_unsent_work() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Store::open(dir.path(), config(None)).unwrap();
    let (_, home) = fill(&plain);
    let waiting = plain.sync_status().unwrap().pending_changes;
    let actor = plain.actor();
    drop(plain);
    assert!(!files_holding(dir.path(), &[NAME.into()]).is_empty());

    let key = StoreKey::generate();
    let store = Store::open(dir.path(), config(Some(&key))).unwrap();
    assert_eq!(store.household(home).unwrap().head_name, NAME);
    assert_eq!(store.sync_status().unwrap().pending_changes, waiting, "unsent changes are still to be sent");
    assert_eq!(store.actor(), actor, "the store is the same device to every other store");
    drop(store);
    assert_eq!(files_holding(dir.path(), &canaries()), Vec::<String>::new());
    assert!(matches!(Store::open(dir.path(), config(None)), Err(Error::KeyNeeded)));
}

#[test]
fn the_key_changes_in_one_call_while_the_store_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let store = Store::open(dir.path(), config(Some(&old))).unwrap();
    let (grid, home) = fill(&store);
    store.rekey(Some(new.clone())).unwrap();
    // The store keeps working, on the rewritten file.
    let later = store.add_household(grid, common::household("一组8号", "李四")).unwrap();
    drop(store);

    assert!(matches!(Store::open(dir.path(), config(Some(&old))), Err(Error::WrongKey)));
    let store = Store::open(dir.path(), config(Some(&new))).unwrap();
    assert_eq!(store.household(home).unwrap().head_name, NAME);
    assert_eq!(store.household(later.id).unwrap().head_name, "李四");

    // And back to plaintext, for a store handed to a tool that cannot decrypt.
    store.rekey(None).unwrap();
    drop(store);
    assert!(Store::open(dir.path(), config(None)).is_ok());
}

/// Attaches a camera-sized photo to a new event; returns its name and the JPEG the store prepared.
fn attach(store: &Store, grid: GridId, width: u32) -> (String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lamp.png");
    let height = width * 3 / 4;
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x ^ y) & 0xff) as u8])
    })
    .save(&file)
    .unwrap();
    let new = NewEvent {
        category: "市政设施".into(),
        title: "路灯不亮".into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    };
    let event = store.report_event(grid, new).unwrap();
    let sha = store.attach_photo(event.id, &file, None, None).unwrap().sha256;
    let prepared = gridbook_core::prepare_photo(&std::fs::read(&file).unwrap(), &store.config().photos).unwrap().0;
    assert_eq!(hex::encode(Sha256::digest(&prepared)), sha, "a photo is named by its JPEG's SHA-256");
    (sha, prepared)
}

fn photo_path(dir: &Path, sha: &str) -> std::path::PathBuf {
    dir.join("photos").join(&sha[..2]).join(format!("{sha}.jpg"))
}

/// A run of the JPEG from its middle, past the headers every JPEG of that size shares.
fn middle(jpeg: &[u8]) -> String {
    hex::encode(&jpeg[jpeg.len() / 2..jpeg.len() / 2 + 32])
}

/// Every file under `dir` that holds the bytes whose hex is one of `runs`.
fn files_holding_bytes(dir: &Path, runs: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        for run in runs.iter().map(|r| hex::decode(r).unwrap()) {
            if bytes.windows(run.len()).any(|w| w == run) {
                found.push(entry.display().to_string());
            }
        }
    }
    found
}

#[test]
fn an_encrypted_stores_photo_files_hold_none_of_the_photo_and_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), config(Some(&StoreKey::generate()))).unwrap();
    let (grid, _) = fill(&store);
    let (sha, jpeg) = attach(&store, grid, 1600);
    assert!(std::fs::read(photo_path(dir.path(), &sha)).unwrap().starts_with(b"GBPHOTO1"));
    assert_eq!(files_holding_bytes(dir.path(), &[middle(&jpeg)]), Vec::<String>::new());
    assert_eq!(store.photo(&sha).unwrap(), Some(jpeg.clone()));
    assert_eq!(store.photo(&"0".repeat(64)).unwrap(), None);
    drop(store);
    assert_eq!(files_holding_bytes(dir.path(), &[middle(&jpeg)]), Vec::<String>::new());

    // The same photo in a store without a key is there to be read: the scan finds it.
    let plain = tempfile::tempdir().unwrap();
    let store = Store::open(plain.path(), config(None)).unwrap();
    let (grid, _) = fill(&store);
    assert_eq!(attach(&store, grid, 1600).0, sha);
    assert_eq!(
        files_holding_bytes(plain.path(), &[middle(&jpeg)]),
        vec![photo_path(plain.path(), &sha).display().to_string()]
    );
}

#[test]
fn a_sealed_photo_file_altered_in_one_byte_or_moved_to_another_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), config(Some(&StoreKey::generate()))).unwrap();
    let (grid, _) = fill(&store);
    let (sha, jpeg) = attach(&store, grid, 1600);
    let (other, _) = attach(&store, grid, 800);
    let path = photo_path(dir.path(), &sha);
    let sealed = std::fs::read(&path).unwrap();
    // In the JPEG's ciphertext, in its tag, and in the magic (which would make it read as plaintext).
    for at in [sealed.len() / 2, sealed.len() - 1, 0] {
        let mut altered = sealed.clone();
        altered[at] ^= 0x20;
        std::fs::write(&path, &altered).unwrap();
        let read = store.photo(&sha);
        assert!(matches!(&read, Err(Error::PhotoDamaged { sha256 }) if *sha256 == sha), "byte {at}: {read:?}");
    }
    std::fs::copy(photo_path(dir.path(), &other), &path).unwrap();
    assert!(matches!(store.photo(&sha), Err(Error::PhotoDamaged { .. })), "another photo's file under this name");
    std::fs::write(&path, &sealed).unwrap();
    assert_eq!(store.photo(&sha).unwrap(), Some(jpeg));
}

#[test]
fn a_plaintext_stores_photos_are_sealed_when_it_is_encrypted_and_still_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Store::open(dir.path(), config(None)).unwrap();
    let (grid, _) = fill(&plain);
    let photos = [attach(&plain, grid, 1600), attach(&plain, grid, 800)];
    drop(plain);
    // What a write killed before its rename leaves: a whole plaintext photo under a temporary name.
    let (sha, jpeg) = &photos[0];
    let leftover = photo_path(dir.path(), sha).with_extension("tmp4242");
    std::fs::write(&leftover, jpeg).unwrap();
    let runs: Vec<String> = photos.iter().map(|(_, jpeg)| middle(jpeg)).collect();
    assert_eq!(files_holding_bytes(dir.path(), &runs).len(), 3);

    let key = StoreKey::generate();
    let store = Store::open(dir.path(), config(Some(&key))).unwrap();
    assert_eq!(files_holding_bytes(dir.path(), &runs), Vec::<String>::new());
    assert!(!leftover.exists());
    for (sha, jpeg) in &photos {
        assert!(std::fs::read(photo_path(dir.path(), sha)).unwrap().starts_with(b"GBPHOTO1"));
        assert_eq!(store.photo(sha).unwrap().as_ref(), Some(jpeg));
    }
    drop(store);
    let store = Store::open(dir.path(), config(Some(&key))).unwrap();
    assert_eq!(store.photo(sha).unwrap().as_ref(), Some(jpeg), "sealed once, read every time after");
}

#[test]
fn a_new_key_leaves_photo_files_as_they_are_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let store = Store::open(dir.path(), config(Some(&old))).unwrap();
    let (grid, _) = fill(&store);
    let (sha, jpeg) = attach(&store, grid, 1600);
    let sealed = std::fs::read(photo_path(dir.path(), &sha)).unwrap();
    store.rekey(Some(new.clone())).unwrap();
    assert_eq!(std::fs::read(photo_path(dir.path(), &sha)).unwrap(), sealed, "not rewritten");
    assert_eq!(store.photo(&sha).unwrap().as_ref(), Some(&jpeg));
    drop(store);
    let store = Store::open(dir.path(), config(Some(&new))).unwrap();
    assert_eq!(store.photo(&sha).unwrap().as_ref(), Some(&jpeg));

    // Decrypted, the store writes plaintext photos; encrypted again, it seals them.
    store.rekey(None).unwrap();
    let (later, later_jpeg) = attach(&store, grid, 800);
    assert!(!std::fs::read(photo_path(dir.path(), &later)).unwrap().starts_with(b"GBPHOTO1"));
    store.rekey(Some(old)).unwrap();
    assert!(std::fs::read(photo_path(dir.path(), &later)).unwrap().starts_with(b"GBPHOTO1"));
    assert_eq!(store.photo(&later).unwrap(), Some(later_jpeg));
    assert_eq!(store.photo(&sha).unwrap(), Some(jpeg));
}

const CHILD_DIR: &str = "GRIDBOOK_ENCRYPT_CHILD_DIR";
const CHILD_KEY: &str = "GRIDBOOK_ENCRYPT_CHILD_KEY";

/// In the child: opens a plaintext store with a key, which encrypts it, and says so.
#[test]
fn child_process_for_encryption_crash_test() {
    let (Ok(dir), Ok(key)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_KEY)) else {
        // Run by the harness itself rather than by the crash test: nothing to do.
        return;
    };
    let key = StoreKey::from_bytes(&hex::decode(key).unwrap()).unwrap();
    println!("opening");
    drop(Store::open(&dir, config(Some(&key))).unwrap());
    println!("encrypted");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The app is killed (SIGKILL) at random moments while it encrypts a plaintext store: every time,
/// the store then opens with its key and holds every record, and the file passes SQLite's check.
#[test]
fn a_kill_at_any_moment_of_the_encryption_loses_nothing() {
    let template = tempfile::tempdir().unwrap();
    let mut homes = Vec::new();
    {
        let store = Store::open(template.path(), config(None)).unwrap();
        let (grid, home) = fill(&store);
        homes.push(home);
        // Enough pages that the export takes a while to kill inside.
        for i in 0..400 {
            homes.push(store.add_household(grid, common::household(&format!("二组{i}号"), "张三")).unwrap().id);
        }
    }
    let key = StoreKey::generate();
    let exe = std::env::current_exe().unwrap();
    let run_child = |dir: &Path| {
        Command::new(&exe)
            .args(["--exact", "child_process_for_encryption_crash_test", "--nocapture", "--test-threads", "1"])
            .env(CHILD_DIR, dir)
            .env(CHILD_KEY, hex::encode(key.as_bytes()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    // Waits until the child is about to open the store (the harness prints its test's name first,
    // on the same line).
    let opening = |child: &mut std::process::Child| {
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.by_ref().map_while(Result::ok).any(|l| l.ends_with("opening")), "the child starts");
        lines
    };
    // One uninterrupted run says how long opening takes, so that the kills fall all over it.
    let whole = tempfile::tempdir().unwrap();
    copy_dir(template.path(), whole.path());
    let mut child = run_child(whole.path());
    let mut lines = opening(&mut child);
    let started = Instant::now();
    assert!(lines.any(|l| l.is_ok_and(|l| l.ends_with("encrypted"))), "the child encrypts the store");
    let span = started.elapsed().as_micros() as u64;
    child.wait().unwrap();

    let mut rng = rand::rngs::StdRng::seed_from_u64(11643);
    let (mut before_rename, mut after_rename) = (0, 0);
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(template.path(), dir.path());
        let mut child = run_child(dir.path());
        let _lines = opening(&mut child);
        // A little past the span too: a kill just after the rename, before the open returns.
        std::thread::sleep(Duration::from_micros(rng.random_range(0..span + span / 4)));
        child.kill().unwrap();
        child.wait().unwrap();

        let plain = std::fs::read(dir.path().join("gridbook.db")).unwrap().starts_with(b"SQLite format 3\0");
        if plain {
            before_rename += 1
        } else {
            after_rename += 1
        }
        let store = Store::open(dir.path(), config(Some(&key)))
            .unwrap_or_else(|e| panic!("round {round}: the store opens with its key after a kill: {e}"));
        for home in &homes {
            assert!(store.household(*home).is_ok(), "round {round}: household {home} is there");
        }
        store.verify().unwrap_or_else(|e| panic!("round {round}: the file passes SQLite's check: {e}"));
        drop(store);
        assert_eq!(files_holding(dir.path(), &canaries()), Vec::<String>::new(), "round {round}");
    }
    assert!(before_rename > 0 && after_rename > 0, "kills fell on both sides of the rename");
}
