//! An event travels through sync: a grid member reports it with photos, the centre dispatches it,
//! the department's device accepts and resolves it, and the grid member evaluates it. The
//! department sees the event and its photos, never the ledger behind it.

use gridbook_core::sync::SyncOptions;
use gridbook_core::{Error, Evaluation, EventState, Location, NewEvent, NewHousehold, StepAction, Urgency};
use gridbook_e2e::{Device, TestServer, grid, photo_file};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_reported_dispatched_handled_and_evaluated_through_sync() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let g = centre.store.create_grid(grid("幸福村第一网格", "幸福村")).unwrap();
    centre
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组3号".into(), head_name: "张德顺".into(), ..Default::default() },
        )
        .unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    let member = Device::new("王芳", "phone-wang");
    let member_remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    member.store.sync(&member_remote, &options).await.unwrap();
    let event = member
        .store
        .report_event(
            g.id,
            NewEvent {
                category: "市政设施".into(),
                title: "村口路灯不亮".into(),
                description: "连续三晚不亮，老人夜里出门看不见".into(),
                location: Some(Location { lat: 30.2741, lon: 120.1551, accuracy_m: 12.0 }),
                household_id: None,
                urgency: Urgency::Routine,
            },
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut shas = Vec::new();
    for (i, size) in [(2000, 1500), (1200, 1600)].into_iter().enumerate() {
        let file = photo_file(dir.path(), &format!("lamp{i}.jpg"), size.0, size.1);
        shas.push(member.store.attach_photo(event.id, &file, None, None).unwrap().sha256);
    }
    let first = member.store.sync(&member_remote, &options).await.unwrap();
    assert_eq!(first.photos_uploaded, 2);
    assert_eq!(member.store.sync_status().unwrap().pending_photo_bytes, 0);
    let again = member.store.sync(&member_remote, &options).await.unwrap();
    assert_eq!((again.photos_uploaded, again.photo_bytes_uploaded), (0, 0), "a photo is never sent twice");

    centre.store.sync(&centre_remote, &options).await.unwrap();
    assert_eq!(centre.store.event(event.id).unwrap().photos.len(), 2);
    centre.store.event_step(event.id, StepAction::Dispatch { department: "市政维修".into() }, "请尽快修复").unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    let department = Device::new("市政维修李工", "dept-repair");
    let department_remote = server.remote(&server.department("dept-repair", "市政维修"));
    department.store.sync(&department_remote, &options).await.unwrap();
    let seen = department.store.event(event.id).unwrap();
    assert_eq!(seen.state, EventState::Dispatched);
    assert!(department.store.grids().unwrap().is_empty(), "no grid record for a department");
    assert!(department.store.households(g.id, true, gridbook_core::Page::ALL).unwrap().is_empty(), "no ledger");
    let fetched = department.store.fetch_photo(&department_remote, &shas[0]).await.unwrap();
    assert_eq!(fetched, member.store.photo(&shas[0]).unwrap().unwrap());
    department.store.event_step(event.id, StepAction::Accept, "已派人").unwrap();
    department.store.event_step(event.id, StepAction::Resolve, "更换灯泡").unwrap();
    department.store.sync(&department_remote, &options).await.unwrap();

    member.store.sync(&member_remote, &options).await.unwrap();
    assert_eq!(member.store.event(event.id).unwrap().state, EventState::Resolved);
    let evaluation =
        Evaluation {
            response_speed: 5, performance: 4, completion: 5, feedback: 4, comment: "第二天就修好了".into()
        };
    member.store.event_step(event.id, StepAction::Evaluate(evaluation), "").unwrap();
    member.store.sync(&member_remote, &options).await.unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    centre.store.event_step(event.id, StepAction::Close, "办结").unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    member.store.sync(&member_remote, &options).await.unwrap();
    department.store.sync(&department_remote, &options).await.unwrap();

    let done = member.store.event(event.id).unwrap();
    assert_eq!(done.state, EventState::Closed);
    let by: Vec<&str> = done.steps.iter().map(|s| s.by.as_str()).collect();
    assert_eq!(by, ["街道中心张伟", "市政维修李工", "市政维修李工", "王芳", "街道中心张伟"]);
    assert_eq!(department.store.event(event.id).unwrap(), done, "the department sees the event closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_its_reporter_has_not_uploaded_yet_is_not_found_and_comes_once_it_is() {
    let server = TestServer::start().await;
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let g = centre.store.create_grid(grid("幸福村第一网格", "幸福村")).unwrap();
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let member = Device::new("王芳", "phone-wang");
    let member_remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    let records_only = SyncOptions { photos: false, ..SyncOptions::default() };
    member.store.sync(&member_remote, &records_only).await.unwrap();
    let event = member
        .store
        .report_event(
            g.id,
            NewEvent {
                category: "环境卫生".into(),
                title: "垃圾堆积".into(),
                description: String::new(),
                location: None,
                household_id: None,
                urgency: Urgency::Routine,
            },
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = photo_file(dir.path(), "rubbish.jpg", 1600, 1200);
    let sha = member.store.attach_photo(event.id, &file, None, None).unwrap().sha256;
    member.store.sync(&member_remote, &records_only).await.unwrap();

    centre.store.sync(&centre_remote, &records_only).await.unwrap();
    let early = centre.store.fetch_photo(&centre_remote, &sha).await;
    assert!(matches!(early, Err(Error::NotFound { .. })), "got {early:?}");

    member.store.sync(&member_remote, &SyncOptions::default()).await.unwrap();
    let fetched = centre.store.fetch_photo(&centre_remote, &sha).await.unwrap();
    assert_eq!(fetched, member.store.photo(&sha).unwrap().unwrap());
}
