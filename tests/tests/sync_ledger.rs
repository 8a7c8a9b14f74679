//! Two grid members and the village secretary edit the same grid offline — the same household and
//! the same resident among it — and sync with the district's server in different orders: all three
//! converge, every edit survives, and the audit history says who did what.

use gridbook_core::sync::SyncOptions;
use gridbook_core::{
    CareTag, HouseholdEdit, NewHousehold, NewResident, NewRoutine, NewVisit, Registration, Relation, ResidentEdit,
    VisitKind,
};
use gridbook_e2e::{Device, TestServer, grid, id_number};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_edit_offline_and_converge_through_the_server() {
    let server = TestServer::start().await;
    let secretary = Device::new("村秘书刘敏", "pc-village");
    let g = secretary.store.create_grid(grid("幸福村第一网格", "幸福村")).unwrap();
    let home = secretary
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组3号".into(), head_name: "张德顺".into(), ..Default::default() },
        )
        .unwrap();
    let elder = secretary
        .store
        .add_resident(
            home.id,
            NewResident {
                name: "张德顺".into(),
                id_number: Some(id_number("330102", "19480305", 1)),
                gender: None,
                birth_date: None,
                relation: Relation::Head,
                phone: None,
                registration: Registration::Registered,
                care_tags: Default::default(),
            },
        )
        .unwrap();
    let secretary_remote = server.remote(&server.secretary("pc-village", "幸福村"));
    let options = SyncOptions::default();
    secretary.store.sync(&secretary_remote, &options).await.unwrap();

    let wang = Device::new("王芳", "phone-wang");
    let li = Device::new("李强", "phone-li");
    let wang_remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    let li_remote = server.remote(&server.grid_member("phone-li", &[&g]));
    wang.store.sync(&wang_remote, &options).await.unwrap();
    li.store.sync(&li_remote, &options).await.unwrap();
    assert_eq!(wang.store.resident(elder.id).unwrap(), elder, "the grid member got the ledger");

    // Offline: different fields of one household, the same field of one resident, and new records.
    wang.store
        .edit_household(home.id, HouseholdEdit { phone: Some(Some("13812345678".into())), ..Default::default() })
        .unwrap();
    li.store
        .edit_household(home.id, HouseholdEdit { notes: Some("左耳听力差，敲门要用力".into()), ..Default::default() })
        .unwrap();
    secretary
        .store
        .edit_household(
            home.id,
            HouseholdEdit { care_tags: Some([CareTag::LivingAlone, CareTag::Elderly].into()), ..Default::default() },
        )
        .unwrap();
    wang.store
        .edit_resident(elder.id, ResidentEdit { phone: Some(Some("13900001111".into())), ..Default::default() })
        .unwrap();
    li.store
        .edit_resident(elder.id, ResidentEdit { phone: Some(Some("13722223333".into())), ..Default::default() })
        .unwrap();
    let routine = wang
        .store
        .add_routine(
            elder.id,
            NewRoutine {
                signal: gridbook_core::SignalKind::Curtains,
                deadline: chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
                days: gridbook_core::Day::ALL.into_iter().collect(),
                note: "拉开东面窗帘".into(),
            },
        )
        .unwrap();
    let visit = li
        .store
        .record_visit(
            home.id,
            NewVisit {
                kind: VisitKind::Home,
                at: None,
                purposes: vec!["安全检查".into()],
                notes: "身体还好".into(),
                satisfaction: None,
            },
        )
        .unwrap();

    // Different orders: Li first, then the secretary, then Wang; then everyone once more.
    li.store.sync(&li_remote, &options).await.unwrap();
    secretary.store.sync(&secretary_remote, &options).await.unwrap();
    wang.store.sync(&wang_remote, &options).await.unwrap();
    for (device, remote) in [(&li, &li_remote), (&secretary, &secretary_remote), (&wang, &wang_remote)] {
        device.store.sync(remote, &options).await.unwrap();
    }

    let dump = wang.store.dump_query_tables().unwrap();
    assert_eq!(li.store.dump_query_tables().unwrap(), dump, "Li and Wang converge");
    assert_eq!(secretary.store.dump_query_tables().unwrap(), dump, "the secretary converges");
    wang.store.rebuild_query_tables().unwrap();
    assert_eq!(wang.store.dump_query_tables().unwrap(), dump, "query tables equal a rebuild");

    let merged = secretary.store.household(home.id).unwrap();
    assert_eq!(merged.phone.as_deref(), Some("138****5678"), "shown masked");
    assert_eq!(merged.notes, "左耳听力差，敲门要用力");
    assert!(merged.care_tags.contains(&CareTag::LivingAlone));
    let phone = secretary.store.reveal_resident(elder.id, "核对合并结果").unwrap().phone.unwrap();
    assert!(["13900001111", "13722223333"].contains(&phone.as_str()), "one of the concurrent phones wins");
    assert_eq!(secretary.store.routine(routine.id).unwrap(), routine);
    assert_eq!(secretary.store.visits_of(home.id).unwrap(), vec![visit]);

    // The secretary asks who changed what: each of the three appears, and both phone edits are kept.
    let history = secretary.store.household_history(home.id).unwrap();
    let who: Vec<&str> = history.iter().map(|h| h.by.as_str()).collect();
    for person in ["王芳", "李强", "村秘书刘敏"] {
        assert!(who.contains(&person), "{person} is in the household's history: {who:?}");
    }
    let resident_history = secretary.store.resident_history(elder.id).unwrap();
    let phone_edits: Vec<&str> =
        resident_history.iter().filter(|h| h.field == "phone").map(|h| h.by.as_str()).collect();
    assert!(phone_edits.contains(&"王芳") && phone_edits.contains(&"李强"), "{phone_edits:?}");

    let status = wang.store.sync_status().unwrap();
    assert_eq!(status.pending_changes, 0);
    assert!(status.last_success_at.is_some() && status.last_error.is_none());
}
