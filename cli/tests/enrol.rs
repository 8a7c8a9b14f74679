//! `gridbook enrol` and `gridbook sync` against a real server on a loopback port: the centre's
//! one-time code enrols the store, which then works as its holder on its device with no `--as` or
//! `--device`, syncs with no `--server` or `--token`, and its history names the enrolled device and
//! holder.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use gridbook_server::{NewDevice, Role, Server, ServerConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn gridbook(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(store)
        .arg("--json")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(store: &Path, args: &[&str]) -> Value {
    let out = gridbook(store, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e})"))
}

fn error_kind(store: &Path, args: &[&str]) -> String {
    let out = gridbook(store, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let v: Value = serde_json::from_slice(&out.stderr).expect("a JSON error on stderr");
    v["error"]["kind"].as_str().unwrap().to_string()
}

/// A server serving `data` on a loopback port, in a thread of its own, for the test's lifetime.
fn serve(data: &Path) -> String {
    let server = Server::open(data, ServerConfig::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || runtime.block_on(server.serve(listener, std::future::pending())));
    url
}

#[test]
fn a_store_enrols_with_the_centres_code_and_then_syncs_as_its_device() {
    let data = tempfile::tempdir().unwrap();
    let admin = Server::open(data.path(), ServerConfig::default()).unwrap();
    let secretary = NewDevice {
        name: "village-pc".into(),
        role: Role::Secretary,
        grids: vec![],
        village: Some("幸福村".into()),
        department: None,
        holder: "刘敏".into(),
    };
    let (_, code) = admin.add_device_with_code(secretary).unwrap();
    drop(admin);
    let url = serve(data.path());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();

    assert_eq!(error_kind(store, &["sync"]), "usage", "not enrolled: it says how to enrol");
    assert_eq!(error_kind(store, &["enrol", "--server", &url, "--code", "AAAAA-AAAAA"]), "unauthorized");
    let enrolled = ok(store, &["enrol", "--server", &url, "--code", &code.to_lowercase()]);
    assert_eq!((enrolled["device"].as_str(), enrolled["holder"].as_str()), (Some("village-pc"), Some("刘敏")));
    assert_eq!(enrolled["role"], "secretary");

    // The store works as its holder on its device, with no --as or --device, and refuses others.
    assert_eq!(error_kind(store, &["--as", "某人", "grid", "add", "第二网格", "--village", "幸福村"]), "not_allowed");
    assert_eq!(error_kind(store, &["--device", "pc", "grid", "add", "第二网格", "--village", "幸福村"]), "not_allowed");
    let grid = ok(store, &["grid", "add", "幸福村第一网格", "--village", "幸福村"])["id"].as_str().unwrap().to_string();
    let home = ok(store, &["household", "add", "--grid", &grid, "--address", "幸福村一组1号", "--head", "张三"]);
    let synced = ok(store, &["sync"]);
    assert!(synced["changes_sent"].as_u64().unwrap() >= 2, "{synced}");
    assert_eq!(ok(store, &["sync", "--status"])["pending_changes"], 0);

    let history = ok(store, &["history", "household", home["id"].as_str().unwrap()]);
    let first = &history.as_array().unwrap()[0];
    assert_eq!(
        (first["by"].as_str(), first["device"].as_str(), first["verified"].as_bool()),
        (Some("刘敏"), Some("village-pc"), Some(true))
    );
}

#[test]
fn the_centre_fetches_the_photo_of_an_event_it_did_not_report() {
    let data = tempfile::tempdir().unwrap();
    let admin = Server::open(data.path(), ServerConfig::default()).unwrap();
    let device = |name: &str, role: Role, village: Option<&str>, holder: &str| NewDevice {
        name: name.into(),
        role,
        grids: vec![],
        village: village.map(Into::into),
        department: None,
        holder: holder.into(),
    };
    let (_, secretary_code) =
        admin.add_device_with_code(device("village-pc", Role::Secretary, Some("幸福村"), "刘敏")).unwrap();
    let (_, centre_code) = admin.add_device_with_code(device("centre-pc", Role::Centre, None, "张伟")).unwrap();
    drop(admin);
    let url = serve(data.path());
    let (village, centre) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    ok(village.path(), &["enrol", "--server", &url, "--code", &secretary_code]);
    ok(centre.path(), &["enrol", "--server", &url, "--code", &centre_code]);

    let grid = ok(village.path(), &["grid", "add", "幸福村第一网格", "--village", "幸福村"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let event =
        ok(village.path(), &["event", "report", "--grid", &grid, "--category", "市政设施", "--title", "路灯不亮"]);
    let event = event["id"].as_str().unwrap().to_string();
    let photo = village.path().join("lamp.png");
    image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])).save(&photo).unwrap();
    let sha = ok(village.path(), &["event", "photo", &event, photo.to_str().unwrap()])["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    ok(village.path(), &["sync"]);
    ok(centre.path(), &["sync"]);

    let out = tempfile::tempdir().unwrap();
    let fetched = ok(centre.path(), &["event", "photo", "get", &event, "--out", out.path().to_str().unwrap()]);
    assert_eq!(fetched[0]["sha256"].as_str(), Some(sha.as_str()));
    let copy = std::fs::read(out.path().join(format!("{sha}.jpg"))).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&copy)), sha, "the file is the photo the event names");
    let kept = std::fs::read(centre.path().join("photos").join(&sha[..2]).join(format!("{sha}.jpg"))).unwrap();
    assert!(kept.starts_with(b"GBPHOTO1"), "the store's own copy is sealed");
    // Fetched once: the next time it is read from the store, with no server to ask, and written
    // into the current directory.
    let here = tempfile::tempdir().unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .current_dir(here.path())
        .args(["--store", centre.path().to_str().unwrap(), "--json", "event", "photo", "get", &event])
        .args(["--server", "http://127.0.0.1:9", "--token", "x"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again[0]["sha256"].as_str(), Some(sha.as_str()));
    assert_eq!(std::fs::read(here.path().join(format!("{sha}.jpg"))).unwrap(), copy);
}

#[test]
fn a_person_added_on_two_devices_offline_is_listed_as_a_duplicate_once_both_synced() {
    let data = tempfile::tempdir().unwrap();
    let admin = Server::open(data.path(), ServerConfig::default()).unwrap();
    let secretary = |name: &str, holder: &str| NewDevice {
        name: name.into(),
        role: Role::Secretary,
        grids: vec![],
        village: Some("幸福村".into()),
        department: None,
        holder: holder.into(),
    };
    let (_, pc_code) = admin.add_device_with_code(secretary("village-pc", "刘敏")).unwrap();
    let (_, laptop_code) = admin.add_device_with_code(secretary("village-laptop", "陈静")).unwrap();
    drop(admin);
    let url = serve(data.path());
    let (pc, laptop) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    ok(pc.path(), &["enrol", "--server", &url, "--code", &pc_code]);
    ok(laptop.path(), &["enrol", "--server", &url, "--code", &laptop_code]);
    let grid =
        ok(pc.path(), &["grid", "add", "幸福村第一网格", "--village", "幸福村"])["id"].as_str().unwrap().to_string();
    let home = ok(pc.path(), &["household", "add", "--grid", &grid, "--address", "一组1号", "--head", "张德顺"]);
    let home = home["id"].as_str().unwrap().to_string();
    ok(pc.path(), &["sync"]);
    ok(laptop.path(), &["sync"]);
    assert_eq!(ok(laptop.path(), &["resident", "duplicates"]), serde_json::json!([]));

    // Both add 张德顺, each with his one number, before either syncs again.
    let number = "330106194803050131";
    let add = ["resident", "add", "--household", &home, "--name", "张德顺", "--id-number", number];
    ok(pc.path(), &add);
    ok(laptop.path(), &add);
    for store in [pc.path(), laptop.path(), pc.path()] {
        ok(store, &["sync"]);
    }
    for store in [pc.path(), laptop.path()] {
        let duplicates = ok(store, &["resident", "duplicates"]);
        assert_eq!(duplicates.as_array().unwrap().len(), 1, "{duplicates}");
        assert_eq!(duplicates[0]["id_number_masked"], "3301**********0131");
        assert_eq!(duplicates[0]["residents"].as_array().unwrap().len(), 2);
    }
}

#[test]
fn a_secretary_merges_a_person_added_twice_and_every_store_follows_the_one_kept() {
    let data = tempfile::tempdir().unwrap();
    let admin = Server::open(data.path(), ServerConfig::default()).unwrap();
    let grid =
        gridbook_core::NewGrid {
            name: "幸福村第一网格".into(), village: "幸福村".into(), township: String::new()
        };
    admin.add_grid(grid).unwrap();
    let device = |name: &str, role: Role, grids: Vec<String>, holder: &str| NewDevice {
        name: name.into(),
        role,
        grids,
        village: Some("幸福村".into()),
        department: None,
        holder: holder.into(),
    };
    let (_, pc_code) = admin.add_device_with_code(device("village-pc", Role::Secretary, vec![], "刘敏")).unwrap();
    let (_, laptop_code) =
        admin.add_device_with_code(device("village-laptop", Role::Secretary, vec![], "陈静")).unwrap();
    let member = device("phone-wang", Role::GridMember, vec!["幸福村第一网格".into()], "王芳");
    let (_, phone_code) = admin.add_device_with_code(member).unwrap();
    drop(admin);
    let url = serve(data.path());
    let (pc, laptop, phone) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let stores = [pc.path(), laptop.path(), phone.path()];
    for (store, code) in stores.iter().zip([&pc_code, &laptop_code, &phone_code]) {
        ok(store, &["enrol", "--server", &url, "--code", code]);
        ok(store, &["sync"]);
    }
    let sync_all = || {
        for store in [pc.path(), laptop.path(), phone.path(), pc.path(), laptop.path()] {
            ok(store, &["sync"]);
        }
    };
    let grid = ok(pc.path(), &["grid", "list"])[0]["id"].as_str().unwrap().to_string();
    let home = ok(pc.path(), &["household", "add", "--grid", &grid, "--address", "一组1号", "--head", "张德顺"]);
    let home = home["id"].as_str().unwrap().to_string();
    sync_all();

    // The office and the grid member, each offline, add 张德顺; the member also his phone, his
    // curtain check and a visit.
    let number = "330106194803050131";
    let add = ["resident", "add", "--household", &home, "--name", "张德顺", "--id-number", number];
    let keep = ok(pc.path(), &add)["id"].as_str().unwrap().to_string();
    let other = ok(phone.path(), &[&add[..], &["--phone", "13912345678"]].concat())["id"].as_str().unwrap().to_string();
    ok(phone.path(), &["routine", "add", "--resident", &other, "--deadline", "07:30"]);
    ok(phone.path(), &["visit", "add", "--household", &home, "--notes", "上门看望"]);
    sync_all();
    assert_eq!(ok(laptop.path(), &["resident", "duplicates"])[0]["residents"].as_array().unwrap().len(), 2);

    // Only the secretary resolves it, and only for one person.
    assert_eq!(error_kind(phone.path(), &["resident", "merge", &keep, &other]), "not_allowed");
    assert_eq!(error_kind(laptop.path(), &["resident", "merge", &keep, &keep]), "invalid_input");
    let kept = ok(laptop.path(), &["resident", "merge", &keep, &other]);
    assert_eq!((kept["id"].as_str(), kept["phone"].as_str()), (Some(keep.as_str()), Some("139****5678")));
    assert_eq!(error_kind(laptop.path(), &["resident", "merge", &keep, &other]), "invalid_input", "merged once");
    sync_all();

    for store in stores {
        assert_eq!(ok(store, &["resident", "duplicates"]), serde_json::json!([]));
        let found = ok(store, &["resident", "search", "张德顺"]);
        assert_eq!(found.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [&keep]);
        assert_eq!(ok(store, &["resident", "show", &other])["merged_into"].as_str(), Some(keep.as_str()));
        let routines = ok(store, &["routine", "list", "--resident", &keep]);
        assert_eq!(routines[0]["resident_id"].as_str(), Some(keep.as_str()), "the member's check follows");
        assert_eq!(ok(store, &["visit", "list", "--resident", &keep])[0]["notes"], "上门看望");
        let history = ok(store, &["history", "resident", &keep]);
        let merged = format!("resident:{other}");
        assert!(
            history.as_array().unwrap().iter().any(|h| h["record"] == merged.as_str() && h["by"] == "陈静"),
            "{history}"
        );
    }
}
