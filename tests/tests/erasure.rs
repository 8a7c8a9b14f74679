//! Issue 17 part 3, end to end: a person's erasure reaches every store. A secretary asks, the
//! server carries it out, and after one sync each the grid member who entered the person, the
//! secretary and the centre hold neither the key nor the rows; everyone else stays and still
//! merges. A household's erasure takes the household everywhere, with the unsent edits a store
//! had made to it (reported), and nothing else of that store's is held back. A grid member's
//! request is refused and changes nothing. A store that missed notices the server pruned asks the
//! server for every key again and erases what the server refuses as erased, its own work kept.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use gridbook_core::sync::{RefusalReason, SyncOptions, SyncReport};
use gridbook_core::{
    ErasureState, Error, Grid, Household, HouseholdEdit, NewHousehold, NewResident, Registration, Relation, Resident,
    ResidentEdit, Store,
};
use gridbook_e2e::{Device, TestServer, grid, id_number};

struct Village {
    server: TestServer,
    grid: Grid,
    home: Household,
    other_home: Household,
    erased: Resident,
    kept: Resident,
    member: (Device, String),
    secretary: (Device, String),
    centre: (Device, String),
}

async fn sync(device: &(Device, String), server: &TestServer) -> SyncReport {
    device.0.store.sync(&server.remote(&device.1), &SyncOptions::default()).await.unwrap()
}

fn person(name: &str, number: &str, phone: &str) -> NewResident {
    NewResident {
        name: name.into(),
        id_number: Some(number.into()),
        gender: None,
        birth_date: None,
        relation: Relation::Spouse,
        phone: Some(phone.into()),
        registration: Registration::Registered,
        care_tags: Default::default(),
    }
}

/// A grid member's household of two, and a neighbour's, on every store of the village.
async fn village() -> Village {
    let server = TestServer::start().await;
    let member = Device::new("王芳", "phone-wang");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home =
        NewHousehold { address: "幸福村一组1号".into(), head_name: "李建国".into(), ..Default::default() };
    let home = member.store.add_household(g.id, home).unwrap();
    let erased = member
        .store
        .add_resident(home.id, person("欧阳娜娜", &id_number("370102", "19560312", 2), "13912345678"))
        .unwrap();
    let kept = member
        .store
        .add_resident(home.id, person("李建国", &id_number("370102", "19500101", 1), "13700001111"))
        .unwrap();
    let other_home =
        NewHousehold { address: "幸福村一组2号".into(), head_name: "赵四".into(), ..Default::default() };
    let other_home = member.store.add_household(g.id, other_home).unwrap();
    let member = (member, server.grid_member("phone-wang", &[&g]));
    let secretary = (Device::new("刘敏", "village-pc"), server.secretary("village-pc", "幸福村"));
    let centre = (Device::new("中心", "centre-pc"), server.centre("centre-pc"));
    let v = Village { server, grid: g, home, other_home, erased, kept, member, secretary, centre };
    for d in v.stores() {
        sync(d, &v.server).await;
    }
    assert_eq!(v.centre.0.store.resident(v.erased.id).unwrap().name, "欧阳娜娜");
    v
}

impl Village {
    fn stores(&self) -> [&(Device, String); 3] {
        [&self.member, &self.secretary, &self.centre]
    }
}

fn gone(store: &Store, r: &Resident) {
    let keys = store.changes_since(&Default::default()).unwrap().keys;
    assert!(keys.iter().all(|k| k.id != r.id.0.into_bytes()), "the store holds no key of theirs");
    assert!(matches!(store.resident(r.id), Err(Error::Erased { .. })));
    assert!(matches!(store.resident_history(r.id), Err(Error::Erased { .. })));
    assert_eq!(store.erasure_state(r.id.0).unwrap(), ErasureState::Erased);
    assert!(store.search_residents(&r.name, None, 10).unwrap().is_empty());
    assert!(store.residents_with_phone("13912345678").unwrap().is_empty());
    let dump = store.dump_query_tables().unwrap();
    assert!(!dump.contains(&r.id.to_string()) && !dump.contains(&r.name), "no row names it");
    assert!(store.reveal_roster(r.grid_id, "核对名册").unwrap().iter().all(|x| x.id != r.id), "nor does an export");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secretarys_erasure_reaches_every_store_and_the_rest_still_merges() {
    let v = village().await;
    // Offline edits to the resident who stays, on two stores, before they hear of the erasure.
    let phone = ResidentEdit { phone: Some(Some("13800002222".into())), ..Default::default() };
    v.member.0.store.edit_resident(v.kept.id, phone).unwrap();
    let name = ResidentEdit { name: Some("李建國".into()), ..Default::default() };
    v.centre.0.store.edit_resident(v.kept.id, name).unwrap();
    // And the grid member's own edit of the person about to be erased: sealed under the key about
    // to be destroyed, it is taken and harms no one.
    let late = ResidentEdit { phone: Some(Some("13911112222".into())), ..Default::default() };
    v.member.0.store.edit_resident(v.erased.id, late).unwrap();

    v.secretary.0.store.erase_resident(v.erased.id, "本人申请删除").unwrap();
    assert_eq!(v.secretary.0.store.erasure_state(v.erased.id.0).unwrap(), ErasureState::Requested);
    let report = sync(&v.secretary, &v.server).await;
    assert_eq!(report.erasure.erased, 1);
    for d in [&v.member, &v.centre] {
        let report = sync(d, &v.server).await;
        assert_eq!(report.erasure.erased, 1);
        assert_eq!(report.erasure.discarded_changes, 0);
    }
    for d in v.stores() {
        gone(&d.0.store, &v.erased);
        let history = d.0.store.household_history(v.home.id).unwrap();
        assert!(history.iter().all(|e| e.record != format!("resident:{}", v.erased.id)));
        assert!(matches!(d.0.store.edit_resident(v.erased.id, ResidentEdit::default()), Err(Error::Erased { .. })));
    }
    // The offline edits of the resident who stays merge everywhere.
    for d in v.stores() {
        sync(d, &v.server).await;
    }
    for d in v.stores() {
        let kept = d.0.store.resident(v.kept.id).unwrap();
        assert_eq!((kept.name.as_str(), kept.phone.as_deref()), ("李建國", Some("138****2222")));
        assert_eq!(d.0.store.residents_of(v.home.id).unwrap().len(), 1);
        assert_eq!(d.0.store.sync_status().unwrap().pending_changes, 0);
        assert!(d.0.store.sync_status().unwrap().refused.is_empty());
    }
    // A store that starts now never sees the person, and asks for no key of theirs again.
    let fresh = (Device::new("李娜", "phone-li"), v.server.grid_member("phone-li", &[&v.grid]));
    sync(&fresh, &v.server).await;
    assert!(fresh.0.store.resident(v.erased.id).is_err());
    assert_eq!(fresh.0.store.resident(v.kept.id).unwrap().name, "李建國");
    assert!(fresh.0.store.prepare_sync(1 << 20).unwrap().request.wants.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_erasure_removes_it_everywhere_and_discards_only_its_own_unsent_edits() {
    let v = village().await;
    let edit = HouseholdEdit { notes: Some("门牌已换".into()), ..Default::default() };
    v.member.0.store.edit_household(v.home.id, edit.clone()).unwrap();
    v.member.0.store.edit_household(v.other_home.id, edit).unwrap();

    v.secretary.0.store.erase_household(v.home.id, "整户申请删除").unwrap();
    assert_eq!(sync(&v.secretary, &v.server).await.erasure.erased, 1);
    let report = sync(&v.member, &v.server).await;
    assert_eq!(report.erasure.erased, 1);
    assert_eq!(report.erasure.discarded_changes, 1, "the edit of the erased household, and it alone");
    sync(&v.centre, &v.server).await;
    for d in v.stores() {
        let s = &d.0.store;
        assert_eq!(s.sync_status().unwrap().pending_changes, 0);
        assert!(s.sync_status().unwrap().refused.is_empty(), "nothing of the grid member's is held back");
        assert!(matches!(s.household(v.home.id), Err(Error::Erased { .. })));
        assert_eq!(s.erasure_state(v.home.id.0).unwrap(), ErasureState::Erased);
        gone(s, &v.erased);
        assert!(matches!(s.resident(v.kept.id), Err(Error::Erased { .. })));
        assert_eq!(s.households(v.grid.id, true, gridbook_core::Page::ALL).unwrap().len(), 1);
        assert!(!s.heads().unwrap().0.keys().any(|doc| doc.ends_with(&v.home.id.to_string())));
    }
    assert_eq!(v.centre.0.store.household(v.other_home.id).unwrap().notes, "门牌已换");
    let add =
        v.member.0.store.add_resident(v.home.id, person("新人", &id_number("370102", "19900101", 3), "13600001111"));
    assert!(matches!(add, Err(Error::Erased { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_members_erasure_is_refused_and_changes_nothing() {
    let v = village().await;
    v.member.0.store.erase_resident(v.erased.id, "网格员想删除").unwrap();
    let report = sync(&v.member, &v.server).await;
    assert_eq!(report.erasure.erased, 0);
    assert_eq!(
        v.member.0.store.erasure_state(v.erased.id.0).unwrap(),
        ErasureState::Refused { reason: RefusalReason::NotAllowed }
    );
    for d in v.stores() {
        sync(d, &v.server).await;
        assert_eq!(d.0.store.resident(v.erased.id).unwrap().name, "欧阳娜娜");
    }
    assert!(v.member.0.store.prepare_sync(1 << 20).unwrap().request.erase.is_empty(), "not asked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_missed_pruned_notices_asks_for_every_key_again_and_keeps_its_work() {
    let v = village().await;
    // The centre carries out an earlier notice, then stays away.
    v.secretary.0.store.erase_household(v.other_home.id, "整户申请删除").unwrap();
    sync(&v.secretary, &v.server).await;
    sync(&v.centre, &v.server).await;
    let edit = HouseholdEdit { notes: Some("中心离线时写的".into()), ..Default::default() };
    v.centre.0.store.edit_household(v.home.id, edit).unwrap();

    v.secretary.0.store.erase_resident(v.erased.id, "本人申请删除").unwrap();
    sync(&v.secretary, &v.server).await;
    let config = gridbook_server::ServerConfig { erasure_notice_days: 0, ..Default::default() };
    gridbook_server::Server::open(&v.server.data_dir(), config).unwrap().prune_erasure_notices().unwrap();

    assert_eq!(v.centre.0.store.resident(v.erased.id).unwrap().name, "欧阳娜娜", "not heard of yet");
    let report = sync(&v.centre, &v.server).await;
    assert!(report.erasure.resynced);
    assert!(!report.incomplete);
    let s = &v.centre.0.store;
    assert!(s.resident(v.erased.id).is_err());
    assert_eq!(s.erasure_state(v.erased.id.0).unwrap(), ErasureState::Erased, "learnt from the refused key");
    assert!(s.search_residents("欧阳", None, 10).unwrap().is_empty());
    assert_eq!(s.household(v.home.id).unwrap().notes, "中心离线时写的", "its unsent edit went up first");
    assert_eq!(s.resident(v.kept.id).unwrap().name, "李建国");
    // It holds what the server holds, and the next sync starts nothing over again.
    sync(&v.member, &v.server).await;
    assert_eq!(s.dump_query_tables().unwrap(), v.member.0.store.dump_query_tables().unwrap());
    let again = sync(&v.centre, &v.server).await;
    assert!(!again.erasure.resynced);
    assert_eq!(v.member.0.store.household(v.home.id).unwrap().notes, "中心离线时写的");
}
