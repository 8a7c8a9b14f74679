//! The canary: after an erasure and one sync of every store, not one byte of the erased person's
//! name, ID number or phone is left in any file of any store or of the server — databases, WAL,
//! shared memory, photos, logs — in any encoding the code writes. The stores are plaintext
//! (opened without a key) and the server runs without `--key-file`, so that a byte scan means
//! something; a positive control, another resident's name and ID number, is found by the same
//! scan, and everyone else's data is intact.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use gridbook_core::sync::SyncOptions;
use gridbook_core::{
    CareTag, HouseholdEdit, NewEvent, NewHousehold, NewResident, Registration, Relation, ResidentEdit, Urgency,
};
use gridbook_e2e::{Device, TestServer, grid, id_number, photo_file};

const NAME: &str = "司马翠花";
const NEW_NAME: &str = "司马翠芳";
const PHONE: &str = "13977553311";
const OLD_PHONE: &str = "13966442200";
const KEPT_NAME: &str = "诸葛建国";

/// Every encoding of `secret` the code writes: UTF-8, JSON's `\uXXXX` escapes (either case),
/// UTF-16LE, and base64 of the UTF-8 at each of the three alignments it can take inside a longer
/// run (padded and not).
fn encodings(secret: &str) -> Vec<Vec<u8>> {
    let mut out = vec![secret.as_bytes().to_vec()];
    let escaped: String = secret.encode_utf16().map(|u| format!("\\u{u:04x}")).collect();
    if escaped != secret {
        out.push(escaped.clone().into_bytes());
        out.push(escaped.to_uppercase().replace("\\U", "\\u").into_bytes());
    }
    out.push(secret.encode_utf16().flat_map(u16::to_le_bytes).collect());
    let b64 = base64::engine::general_purpose::STANDARD;
    out.push(b64.encode(secret).into_bytes());
    out.push(b64.encode(secret).trim_end_matches('=').as_bytes().to_vec());
    for shift in 1..3 {
        let mut shifted = vec![b'x'; shift];
        shifted.extend_from_slice(secret.as_bytes());
        let text = b64.encode(&shifted);
        // The first group mixes in the prefix and the last may be padded: the rest is the secret's alone.
        out.push(text.as_bytes()[4..text.len() - 4].to_vec());
    }
    out
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Where any encoding of any of `secrets` occurs in the files under `dirs`.
fn scan(dirs: &[&Path], secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for path in dirs.iter().flat_map(|d| files(d)) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for secret in secrets {
            for needle in encodings(secret) {
                if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                    found.push(format!("{secret} in {}", path.display()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn person(name: &str, number: &str, phone: &str) -> NewResident {
    NewResident {
        name: name.into(),
        id_number: Some(number.into()),
        gender: None,
        birth_date: None,
        relation: Relation::Head,
        phone: Some(phone.into()),
        registration: Registration::Registered,
        care_tags: [CareTag::Elderly].into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_an_erased_person_is_left_in_any_file() {
    let server = TestServer::start().await;
    let log = std::fs::File::create(server.data_dir().join("server.log")).unwrap();
    tracing_subscriber::fmt()
        .with_writer(Mutex::new(log))
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_ansi(false)
        .init();
    let options = SyncOptions::default();
    let a = Device::new("王芳", "phone-wang");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let a_remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    let b = Device::new("刘敏", "village-pc");
    let b_remote = server.remote(&server.secretary("village-pc", "幸福村"));
    let c = Device::new("中心", "centre-pc");
    let c_remote = server.remote(&server.centre("centre-pc"));

    let number = id_number("110105", "19470823", 24);
    let kept_number = id_number("110105", "19520101", 13);
    let home =
        NewHousehold { address: "幸福村二组8号".into(), head_name: "诸葛老爷".into(), ..Default::default() };
    let home = a.store.add_household(g.id, home).unwrap();
    let erased = a.store.add_resident(home.id, person(NAME, &number, OLD_PHONE)).unwrap();
    let kept = a.store.add_resident(home.id, person(KEPT_NAME, &kept_number, "13711112222")).unwrap();
    let event = NewEvent {
        category: "安全隐患".into(),
        title: "楼道堆物".into(),
        description: String::new(),
        location: None,
        household_id: Some(home.id),
        urgency: Urgency::Routine,
    };
    let event = a.store.report_event(g.id, event).unwrap();
    let pictures = tempfile::tempdir().unwrap();
    let sha =
        a.store.attach_photo(event.id, &photo_file(pictures.path(), "p.jpg", 800, 600), None, None).unwrap().sha256;
    a.store.sync(&a_remote, &options).await.unwrap();
    b.store.sync(&b_remote, &options).await.unwrap();
    c.store.sync(&c_remote, &options).await.unwrap();
    b.store.fetch_photo(&b_remote, &sha).await.unwrap();
    c.store.fetch_photo(&c_remote, &sha).await.unwrap();
    // Edited on A: the old values are in the history and the WAL of every store.
    let edit = ResidentEdit { name: Some(NEW_NAME.into()), phone: Some(Some(PHONE.into())), ..Default::default() };
    a.store.edit_resident(erased.id, edit).unwrap();
    a.store.edit_household(home.id, HouseholdEdit { notes: Some("老人独居".into()), ..Default::default() }).unwrap();
    for (d, remote) in [(&a, &a_remote), (&b, &b_remote), (&c, &c_remote)] {
        d.store.sync(remote, &options).await.unwrap();
        assert_eq!(d.store.resident(erased.id).unwrap().name, NEW_NAME);
    }
    let dirs = [a.store.dir(), b.store.dir(), c.store.dir()];
    let secrets = [NAME, NEW_NAME, number.as_str(), PHONE, OLD_PHONE];
    assert!(!scan(&dirs, &secrets).is_empty(), "before the erasure the scan finds the person");

    b.store.erase_resident(erased.id, "本人申请删除").unwrap();
    for (d, remote) in [(&b, &b_remote), (&a, &a_remote), (&c, &c_remote)] {
        assert_eq!(d.store.sync(remote, &options).await.unwrap().erasure.erased, 1);
    }

    let data = server.data_dir();
    let everywhere = [a.store.dir(), b.store.dir(), c.store.dir(), data.as_path()];
    assert_eq!(scan(&everywhere, &secrets), Vec::<String>::new(), "nothing of the erased person");
    let control = scan(&everywhere, &[KEPT_NAME, &kept_number]);
    assert!(
        control.iter().any(|f| f.starts_with(KEPT_NAME)) && control.iter().any(|f| f.starts_with(&kept_number)),
        "the scan sees plaintext: {control:?}"
    );
    assert!(files(&data).iter().any(|f| f.ends_with("server.log")));
    for d in [&a, &b, &c] {
        assert_eq!(d.store.resident(kept.id).unwrap().name, KEPT_NAME);
        assert_eq!(d.store.household(home.id).unwrap().notes, "老人独居");
        assert_eq!(d.store.event(event.id).unwrap().photos.len(), 1);
        assert!(d.store.photo(&sha).unwrap().is_some());
    }
}
