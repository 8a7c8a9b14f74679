//! Issue 17 part 2: sensitive fields under per-record data keys, end to end. The documents, the
//! wire and the server's database hold a resident's name, ID number and phone only as ciphertext;
//! stores whose scope covers the household receive its keys and read everything; a department
//! receives the keys of the events dispatched to it and never a household's or resident's.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::{SyncRequest, SyncResponse};
use gridbook_core::{
    CareTag, HouseholdEdit, NewEvent, NewHousehold, NewResident, Registration, Relation, ResidentEdit, StepAction,
    Store, Urgency,
};
use gridbook_e2e::{Device, TestServer, grid, id_number};

const NAME: &str = "欧阳秀兰";
const PHONE: &str = "13912345678";

fn resident(number: &str) -> NewResident {
    NewResident {
        name: NAME.into(),
        id_number: Some(number.into()),
        gender: None,
        birth_date: None,
        relation: Relation::Head,
        phone: Some(PHONE.into()),
        registration: Registration::Registered,
        care_tags: [CareTag::Elderly, CareTag::LivingAlone].into(),
    }
}

/// Every encoding of `secret` that the code writes anywhere: UTF-8, hex, base64.
fn encodings(secret: &str) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let nopad = base64::engine::general_purpose::STANDARD_NO_PAD;
    vec![
        secret.as_bytes().to_vec(),
        hex::encode(secret).into_bytes(),
        b64.encode(secret).into_bytes(),
        nopad.encode(secret).trim_end_matches('=').as_bytes().to_vec(),
    ]
}

fn find(haystack: &[u8], secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in secrets {
        for needle in encodings(secret) {
            if haystack.windows(needle.len()).any(|w| w == needle.as_slice()) {
                found.push(format!("{secret} as {}", String::from_utf8_lossy(&needle)));
            }
        }
    }
    found
}

fn doc_bytes(store: &Store, doc: &str) -> Vec<u8> {
    let set = store.changes_since(&Default::default()).unwrap();
    set.docs.into_iter().filter(|d| d.doc == doc).flat_map(|d| d.changes).flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residents_fields_are_ciphertext_everywhere_but_in_stores_with_the_key() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let centre_remote = server.remote(&server.centre("centre-pc"));
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();

    let phone = Device::new("王芳", "phone-wang");
    let remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    let home = phone
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组7号".into(), head_name: NAME.into(), ..Default::default() },
        )
        .unwrap();
    let number = id_number("330106", "19480305", 11);
    let r = phone.store.add_resident(home.id, resident(&number)).unwrap();
    let secrets = [NAME, number.as_str(), PHONE];

    let doc = format!("h/{}/{}", g.id, home.id);
    let bytes = doc_bytes(&phone.store, &doc);
    assert!(!bytes.is_empty());
    assert_eq!(find(&bytes, &secrets), Vec::<String>::new(), "the household document");
    let request = phone.store.prepare_sync(1 << 20).unwrap().request;
    assert_eq!(request.keys.len(), 2, "the household's key and the resident's go up once");
    assert_eq!(find(&request.encode(), &secrets), Vec::<String>::new(), "the request");
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    assert!(phone.store.prepare_sync(1 << 20).unwrap().request.keys.is_empty(), "acknowledged keys are not sent again");

    // The server's database holds the ciphertext, and the keys only wrapped under its master key
    // (kept in a file of its own).
    let mut server_files = Vec::new();
    for entry in std::fs::read_dir(server.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.file_name().unwrap() != "master.key" {
            server_files.extend(std::fs::read(&path).unwrap());
        }
    }
    assert_eq!(find(&server_files, &secrets), Vec::<String>::new(), "the server's files");
    for key in &request.keys {
        let raw = key.key.as_slice();
        assert!(!server_files.windows(raw.len()).any(|w| w == raw), "a data key in the clear on the server");
    }

    // The centre, whose scope covers the grid, receives the keys and reads everything.
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let read = centre.store.reveal_resident(r.id, "核对户籍").unwrap();
    assert_eq!(
        (read.name.as_str(), read.id_number.as_deref(), read.phone.as_deref()),
        (NAME, Some(number.as_str()), Some(PHONE))
    );
    assert_eq!(read.care_tags, [CareTag::Elderly, CareTag::LivingAlone].into());
    assert_eq!(centre.store.household(home.id).unwrap().head_name, NAME);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_editing_different_sealed_fields_offline_both_keep_their_edits() {
    let server = TestServer::start().await;
    let a = Device::new("王芳", "phone-a");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let centre_remote = server.remote(&server.centre("phone-a"));
    let home = a
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组7号".into(), head_name: "欧阳".into(), ..Default::default() },
        )
        .unwrap();
    let r = a.store.add_resident(home.id, resident(&id_number("330106", "19480305", 11))).unwrap();
    a.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let b = Device::new("李娜", "phone-b");
    let b_remote = server.remote(&server.grid_member("phone-b", &[&g]));
    b.store.sync(&b_remote, &SyncOptions::default()).await.unwrap();

    // Offline, each edits another field of the household and of the resident.
    a.store
        .edit_household(home.id, HouseholdEdit { address: Some("幸福村一组8号".into()), ..Default::default() })
        .unwrap();
    b.store.edit_household(home.id, HouseholdEdit { notes: Some("独居，耳背".into()), ..Default::default() }).unwrap();
    a.store
        .edit_resident(r.id, ResidentEdit { phone: Some(Some("13800001111".into())), ..Default::default() })
        .unwrap();
    b.store
        .edit_resident(
            r.id,
            ResidentEdit { care_tags: Some([CareTag::Elderly, CareTag::LowIncome].into()), ..Default::default() },
        )
        .unwrap();
    for _ in 0..2 {
        a.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
        b.store.sync(&b_remote, &SyncOptions::default()).await.unwrap();
    }
    for store in [&a.store, &b.store] {
        let h = store.household(home.id).unwrap();
        assert_eq!((h.address.as_str(), h.notes.as_str()), ("幸福村一组8号", "独居，耳背"));
        let r = store.reveal_resident(r.id, "核对电话").unwrap();
        assert_eq!(r.phone.as_deref(), Some("13800001111"));
        assert_eq!(r.care_tags, [CareTag::Elderly, CareTag::LowIncome].into());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_reads_its_dispatched_events_but_gets_no_household_or_resident_key() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let centre_token = server.centre("centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home = centre
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组7号".into(), head_name: NAME.into(), ..Default::default() },
        )
        .unwrap();
    centre.store.add_resident(home.id, resident(&id_number("330106", "19480305", 11))).unwrap();
    let event = centre
        .store
        .report_event(
            g.id,
            NewEvent {
                category: "市政设施".into(),
                title: "村口路灯不亮".into(),
                description: "连续三晚不亮".into(),
                location: None,
                household_id: Some(home.id),
                urgency: Urgency::Routine,
            },
        )
        .unwrap();
    centre.store.event_step(event.id, StepAction::Dispatch { department: "市政维修".into() }, "请尽快修复").unwrap();
    centre.store.sync(&server.remote(&centre_token), &SyncOptions::default()).await.unwrap();

    // What the server answers the department, asking for every key it could want.
    let dept_token = server.department("dept-repair", "市政维修");
    let wants = [home.id.0, event.id.0]
        .map(|id| gridbook_core::sync::wire::KeyWant {
            id: id.into_bytes(),
            doc: format!("h/{}/{}", g.id, home.id),
            make: true,
        })
        .to_vec();
    let reply: SyncResponse =
        server.raw_sync(&dept_token, "0a0b", &SyncRequest { wants, ..Default::default() }).await.unwrap();
    let ids: Vec<[u8; 16]> = reply.keys.iter().map(|k| k.id).collect();
    assert_eq!(ids, vec![event.id.0.into_bytes()], "only the event's key: {:?}", reply.keys);

    let department = Device::new("市政维修李工", "dept-repair-2");
    let remote = server.remote(&server.department("dept-repair-2", "市政维修"));
    department.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    let seen = department.store.event(event.id).unwrap();
    assert_eq!((seen.title.as_str(), seen.description.as_str()), ("村口路灯不亮", "连续三晚不亮"));
    assert_eq!(seen.steps[0].note, "请尽快修复");
    assert!(department.store.household(home.id).is_err(), "no ledger");
}
