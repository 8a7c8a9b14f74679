//! The command line's store key: every store it makes is encrypted; the key comes from a key file,
//! a passphrase, or a key file of the user's own outside the store; a store opens only with its
//! key, and `rekey` changes it without a moment when no key opens the store.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use gridbook_core::{Store, StoreConfig, StoreKey};
use serde_json::Value;

/// Runs the CLI with `env` and nothing else of the caller's key settings.
fn gridbook(store: &Path, env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gridbook"));
    command
        .arg("--store")
        .arg(store)
        .args(["--as", "刘敏", "--device", "village-pc", "--json"])
        .args(args)
        .env_remove("GRIDBOOK_KEY_FILE")
        .env_remove("GRIDBOOK_PASSPHRASE")
        .env_remove("GRIDBOOK_NEW_PASSPHRASE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

fn ok(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn error_kind(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    error["error"]["kind"].as_str().unwrap().to_string()
}

fn file_holds(path: &Path, text: &str) -> bool {
    std::fs::read(path).unwrap().windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn a_store_made_without_key_settings_is_encrypted_under_a_key_kept_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, keys) = (dir.path().join("village"), dir.path().join("keys"));
    let env = [("GRIDBOOK_KEY_DIR", keys.as_path())];
    ok(&gridbook(&store, &env, &["init", "--grid", "欧阳网格", "--village", "幸福村"]));
    assert!(!file_holds(&store.join("gridbook.db"), "欧阳网格"));

    let made: Vec<_> = std::fs::read_dir(&keys).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(made.len(), 1, "one key file, outside the store");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&made[0]).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let grids = ok(&gridbook(&store, &env, &["grid", "list"]));
    assert_eq!(grids[0]["name"], "欧阳网格");

    // Elsewhere, without that key: locked, and left as it was.
    let elsewhere = dir.path().join("other-keys");
    let before = std::fs::read(store.join("gridbook.db")).unwrap();
    assert_eq!(error_kind(&gridbook(&store, &[("GRIDBOOK_KEY_DIR", &elsewhere)], &["grid", "list"])), "locked");
    assert_eq!(std::fs::read(store.join("gridbook.db")).unwrap(), before);

    // A store that is moved keeps its key.
    let moved = dir.path().join("moved");
    std::fs::rename(&store, &moved).unwrap();
    assert_eq!(ok(&gridbook(&moved, &env, &["grid", "list"]))[0]["name"], "欧阳网格");
}

#[test]
fn a_key_file_opens_its_store_and_rekey_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = (dir.path().join("village"), dir.path().join("village.key"));
    let env = [("GRIDBOOK_KEY_FILE", key.as_path())];
    ok(&gridbook(&store, &env, &["init", "--grid", "第一网格", "--village", "幸福村"]));
    let old = std::fs::read(&key).unwrap();

    ok(&gridbook(&store, &env, &["rekey"]));
    assert_ne!(std::fs::read(&key).unwrap(), old, "the key file holds the new key");
    assert!(!dir.path().join("village.key.next").exists());
    assert_eq!(ok(&gridbook(&store, &env, &["grid", "list"]))[0]["name"], "第一网格");

    std::fs::write(&key, &old).unwrap();
    assert_eq!(error_kind(&gridbook(&store, &env, &["grid", "list"])), "locked", "the old key opens nothing");
}

#[test]
fn a_rekey_cut_off_after_the_store_changed_is_finished_at_the_next_command() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = (dir.path().join("village"), dir.path().join("village.key"));
    let env = [("GRIDBOOK_KEY_FILE", key.as_path())];
    ok(&gridbook(&store, &env, &["init", "--grid", "第一网格", "--village", "幸福村"]));

    // What `rekey` leaves when killed between rewriting the store and replacing the key file.
    let old = StoreKey::from_file_contents(&std::fs::read(&key).unwrap()).unwrap();
    let new = StoreKey::generate();
    let mut config = StoreConfig::new("刘敏", "village-pc");
    config.key = Some(old);
    Store::open(&store, config).unwrap().rekey(Some(new.clone())).unwrap();
    std::fs::write(dir.path().join("village.key.next"), hex::encode(new.as_bytes())).unwrap();

    assert_eq!(ok(&gridbook(&store, &env, &["grid", "list"]))[0]["name"], "第一网格");
    assert_eq!(StoreKey::from_file_contents(&std::fs::read(&key).unwrap()).unwrap().as_bytes(), new.as_bytes());
    assert!(!dir.path().join("village.key.next").exists());
}

#[test]
fn a_passphrase_opens_its_store_and_rekey_takes_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("village");
    let (first, second, wrong) = (Path::new("第一个口令"), Path::new("第二个口令"), Path::new("不对"));
    let pass = |p: &'static Path| [("GRIDBOOK_PASSPHRASE", p)];
    ok(&gridbook(&store, &pass(first), &["init", "--grid", "第一网格", "--village", "幸福村"]));
    assert_eq!(error_kind(&gridbook(&store, &pass(wrong), &["grid", "list"])), "locked");

    ok(&gridbook(&store, &[("GRIDBOOK_PASSPHRASE", first), ("GRIDBOOK_NEW_PASSPHRASE", second)], &["rekey"]));
    assert_eq!(error_kind(&gridbook(&store, &pass(first), &["grid", "list"])), "locked");
    assert_eq!(ok(&gridbook(&store, &pass(second), &["grid", "list"]))[0]["name"], "第一网格");
    // Without the new passphrase a rekey is refused, and changes nothing.
    assert_eq!(error_kind(&gridbook(&store, &pass(second), &["rekey"])), "usage");
    ok(&gridbook(&store, &pass(second), &["grid", "list"]));
}

#[test]
fn a_wiped_store_reports_it_and_its_key_file_goes_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, keys) = (dir.path().join("village"), dir.path().join("keys"));
    let env = [("GRIDBOOK_KEY_DIR", keys.as_path())];
    ok(&gridbook(&store, &env, &["init", "--grid", "欧阳网格", "--village", "幸福村"]));
    let key_file = std::fs::read_dir(&keys).unwrap().next().unwrap().unwrap().path();
    let mut config = StoreConfig::new("刘敏", "village-pc");
    config.key = Some(StoreKey::from_file_contents(&std::fs::read(&key_file).unwrap()).unwrap());
    // As a sync does on the server's order; the key file is the CLI's to delete.
    Store::open(&store, config).unwrap().wipe().unwrap();
    assert!(key_file.exists());

    assert_eq!(error_kind(&gridbook(&store, &env, &["sync", "--status"])), "wiped");
    assert!(!key_file.exists(), "the key of a wiped store is deleted");
    assert_eq!(error_kind(&gridbook(&store, &env, &["sync"])), "wiped", "and stays refused");
}
