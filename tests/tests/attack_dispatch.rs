//! Who reads an event comes from the centre's dispatch, not from what a device writes: a grid
//! member who "dispatches" its own event to a department (the app allows any step offline) cannot
//! give that department the event or its photos. The server refuses the change as not allowed; the
//! member undoes it, and the centre's own dispatch reaches the department.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{EventState, NewEvent, StepAction, Urgency};
use gridbook_e2e::{Device, TestServer, grid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_centres_dispatch_gives_a_department_an_event() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("中心调度", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    let member = Device::new("王芳", "phone-wang");
    let member_remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    member.store.sync(&member_remote, &options).await.unwrap();
    let new = NewEvent {
        category: "治安".into(),
        title: "楼道有人逗留".into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    };
    let event = member.store.report_event(g.id, new).unwrap();
    member.store.sync(&member_remote, &options).await.unwrap();

    // The member sends it to the police itself.
    let to_police = StepAction::Dispatch { department: "公安派出所".into() };
    member.store.event_step(event.id, to_police.clone(), "").unwrap();
    member.store.sync(&member_remote, &options).await.unwrap();
    let doc = format!("e/{}/{}", g.id, event.id);
    let refused = member.store.sync_status().unwrap().refused;
    assert_eq!(
        refused.iter().map(|r| (r.doc.as_str(), r.reason)).collect::<Vec<_>>(),
        [(doc.as_str(), RefusalReason::NotAllowed)]
    );
    let police = Device::new("民警", "police-pc");
    let police_remote = server.remote(&server.department("police-pc", "公安派出所"));
    police.store.sync(&police_remote, &options).await.unwrap();
    assert!(police.store.event(event.id).is_err(), "the department was given nothing");

    // Undone on the phone: the event is as the server has it, reported.
    member.store.discard_refused(&doc).unwrap();
    assert_eq!(member.store.event(event.id).unwrap().state, EventState::Reported);

    // The centre dispatches it; the department has it, and so does the member.
    centre.store.sync(&centre_remote, &options).await.unwrap();
    centre.store.event_step(event.id, to_police, "请派员查看").unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    police.store.sync(&police_remote, &options).await.unwrap();
    assert_eq!(police.store.event(event.id).unwrap().state, EventState::Dispatched);
    member.store.sync(&member_remote, &options).await.unwrap();
    assert_eq!(member.store.event(event.id).unwrap().state, EventState::Dispatched);
    assert!(member.store.sync_status().unwrap().refused.is_empty());
}
