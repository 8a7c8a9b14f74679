//! What each device may read and write: a grid member its grids, a secretary its village's grids,
//! the centre everything, a department only the events dispatched to it — whole, however late.

mod common;

use common::{Harness, Phone, doc_names, event, grid};
use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::{self, Refusal, SyncRequest, Version};
use gridbook_core::{NewHousehold, StepAction};
use gridbook_server::ServerConfig;

fn household(address: &str) -> NewHousehold {
    NewHousehold {
        address: address.into(),
        head_name: "张三".into(),
        phone: None,
        care_tags: Default::default(),
        notes: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_member_neither_receives_nor_writes_another_grid() {
    let h = Harness::start().await;
    let centre = Phone::new("中心", "centre");
    let ga = centre.store.create_grid(grid("甲网格", "幸福村")).unwrap();
    let gb = centre.store.create_grid(grid("乙网格", "幸福村")).unwrap();
    centre.store.add_household(ga.id, household("1号")).unwrap();
    centre.store.add_household(gb.id, household("2号")).unwrap();
    h.sync(&h.centre("centre"), &centre).await.unwrap();

    let a = Phone::new("王芳", "phone-a");
    let token_a = h.member("phone-a", &[&ga]);
    let reply = h.exchange(&token_a, &a.store.actor(), &SyncRequest::default()).await.unwrap();
    let names = doc_names(&reply);
    assert!(!names.is_empty() && names.iter().all(|d| d.contains(&ga.id.to_string())), "{names:?}");
    h.sync(&token_a, &a).await.unwrap();
    assert!(a.store.grid(gb.id).is_err(), "grid B never reaches A");

    // A request that touches grid B beside A's own grid-A work.
    let before = h.changes();
    a.store.add_household(ga.id, household("3号")).unwrap();
    let mut request = a.outbox();
    let own = request.docs.len();
    let sneaky = Phone::new("王芳", "phone-a");
    sneaky.store.create_grid(grid("乙网格", "幸福村")).unwrap();
    let mut foreign = sneaky.outbox().docs;
    foreign[0].doc = format!("g/{}", gb.id);
    request.docs.extend(foreign);

    // From an app of the version before, which cannot hear of one refused document: refused whole.
    let body = wire::compress(&request.encode_as(Version::V3));
    let refused = h.post(Some(&token_a), Some(&a.store.actor()), body).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (403, "forbidden"));
    assert_eq!(h.changes(), before, "nothing of a refused request is stored");

    // Now: grid B's document is refused and named, and A's work is stored.
    let reply = h.exchange(&token_a, &a.store.actor(), &request).await.unwrap();
    let named = Refusal { doc: format!("g/{}", gb.id), reason: RefusalReason::OutsideScope };
    assert_eq!(reply.refused, vec![named]);
    let stored = h.changes() - before;
    let sent_in_a: usize = request.docs[..own].iter().map(|d| d.changes.len()).sum();
    assert_eq!(stored, sent_in_a as u64, "every change in grid A, none in grid B");
    assert!(h.metrics().await.contains("gridbook_documents_refused_total 1"), "the engineer sees it");
    let watcher = Phone::new("中心", "watcher");
    h.sync(&h.centre("watcher"), &watcher).await.unwrap();
    let homes = watcher.store.households(ga.id, false, gridbook_core::Page::ALL).unwrap();
    assert!(homes.iter().any(|home| home.address == "3号"), "A's household reached the others");
    assert_eq!(watcher.store.grid(gb.id).unwrap().name, "乙网格", "grid B is as the centre made it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secretary_has_the_grids_of_its_village() {
    let h = Harness::start().await;
    let centre = Phone::new("中心", "centre");
    let mine = centre.store.create_grid(grid("一组", "幸福村")).unwrap();
    let theirs = centre.store.create_grid(grid("二组", "平安村")).unwrap();
    h.sync(&h.centre("centre"), &centre).await.unwrap();

    let pc = Phone::new("李书记", "pc");
    let token = h.secretary("pc", "幸福村");
    h.sync(&token, &pc).await.unwrap();
    assert!(pc.store.grid(mine.id).is_ok());
    assert!(pc.store.grid(theirs.id).is_err(), "another village's grid stays away");

    // The secretary creates a grid of its own village and keeps working in it.
    let new = pc.store.create_grid(grid("三组", "幸福村")).unwrap();
    pc.store.add_household(new.id, household("5号")).unwrap();
    h.sync(&token, &pc).await.unwrap();
    let other = Phone::new("李书记", "pc-2");
    h.sync(&h.secretary("pc-2", "幸福村"), &other).await.unwrap();
    assert!(other.store.grid(new.id).is_ok(), "the new grid is in the village's scope");

    // A grid of another village: refused, and so is a new grid that names another village.
    let stray = Phone::new("李书记", "pc");
    stray.store.create_grid(grid("四组", "平安村")).unwrap();
    let reply = h.exchange(&token, &pc.store.actor(), &stray.outbox()).await.unwrap();
    assert_eq!(reply.refused.iter().map(|r| r.reason).collect::<Vec<_>>(), [RefusalReason::OutsideScope]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_sees_only_its_dispatched_events_never_the_ledger() {
    let h = Harness::start().await;
    let centre = Phone::new("中心", "centre");
    let centre_token = h.centre("centre");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    centre.store.add_household(g.id, household("1号")).unwrap();
    let mine = centre.store.report_event(g.id, event("电线老化")).unwrap();
    let other = centre.store.report_event(g.id, event("路灯")).unwrap();
    centre.store.event_step(mine.id, StepAction::Dispatch { department: "供电所".into() }, "").unwrap();
    h.sync(&centre_token, &centre).await.unwrap();

    let dept = Phone::new("供电所", "dept");
    let token = h.department("dept", "供电所");
    let reply = h.exchange(&token, &dept.store.actor(), &SyncRequest::default()).await.unwrap();
    assert_eq!(doc_names(&reply), vec![format!("e/{}/{}", g.id, mine.id)], "its event, no g/, h/ or j/");
    h.sync(&token, &dept).await.unwrap();
    assert!(dept.store.event(mine.id).is_ok());
    assert!(dept.store.event(other.id).is_err());

    // It may act on its event; a push into another event is refused.
    dept.store.event_step(mine.id, StepAction::Accept, "").unwrap();
    h.sync(&token, &dept).await.unwrap();
    centre.store.event_step(other.id, StepAction::SolveOnSpot, "").unwrap();
    let before = h.changes();
    let reply = h.exchange(&token, &dept.store.actor(), &centre.outbox()).await.unwrap();
    assert_eq!(reply.refused.iter().map(|r| r.doc.clone()).collect::<Vec<_>>(), [format!("e/{}/{}", g.id, other.id)]);
    assert_eq!(h.changes(), before);
    h.sync(&centre_token, &centre).await.unwrap();
    assert_eq!(centre.store.event(mine.id).unwrap().state, gridbook_core::EventState::Accepted);
}

/// The department's cursor passes an event's early changes before the event is dispatched to it; it
/// must still receive the whole event, however small the server's pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_gets_an_event_dispatched_after_its_cursor_whole_even_in_small_pages() {
    for page in [1, 2, 20_000] {
        let h = Harness::with_config(ServerConfig { reply_max_changes: page, ..ServerConfig::default() }).await;
        let centre = Phone::new("中心", "centre");
        let centre_token = h.centre("centre");
        let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
        let late = centre.store.report_event(g.id, event("井盖缺失")).unwrap();
        centre.store.event_step(late.id, StepAction::Escalate, "").unwrap();
        let early = centre.store.report_event(g.id, event("积水")).unwrap();
        centre.store.event_step(early.id, StepAction::Dispatch { department: "水务".into() }, "").unwrap();
        h.sync(&centre_token, &centre).await.unwrap();

        let dept = Phone::new("水务", "dept");
        let token = h.department("dept", "水务");
        h.sync(&token, &dept).await.unwrap();
        assert!(dept.store.event(early.id).is_ok());
        assert!(dept.store.event(late.id).is_err());

        for title in ["甲", "乙", "丙"] {
            centre.store.report_event(g.id, event(title)).unwrap();
        }
        centre.store.event_step(late.id, StepAction::Dispatch { department: "水务".into() }, "").unwrap();
        centre.store.event_step(early.id, StepAction::Accept, "").unwrap();
        h.sync(&centre_token, &centre).await.unwrap();
        let peek = h.exchange(&token, &dept.store.actor(), &dept.outbox()).await.unwrap();
        if page == 1 {
            assert_eq!(peek.cursor.len(), 24, "a page that stops inside the late event's group says where");
        }
        let rounds = h.sync(&token, &dept).await.unwrap();
        let seen = dept.store.event(late.id).unwrap();
        assert_eq!(seen.title, "井盖缺失", "page {page}: the report, from before the cursor, came too");
        assert_eq!(seen.steps.len(), 2, "page {page}: every step");
        assert_eq!(dept.store.event(early.id).unwrap().steps.len(), 2, "page {page}");
        assert!(rounds <= 8, "page {page}: {rounds} rounds; the cursor only moves forward");
        // Nothing is sent twice: the next sync has nothing.
        let reply = h.exchange(&token, &dept.store.actor(), &dept.outbox()).await.unwrap();
        assert!(reply.docs.is_empty() && !reply.more, "page {page}");
    }
}
