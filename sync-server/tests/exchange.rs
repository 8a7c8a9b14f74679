//! The exchange itself: actors belong to one device, relayed changes are accepted only with their
//! authors' proof (the end-to-end peer tests relay with one), a retried request is harmless, and a
//! big backlog comes in pages that end.

mod common;

use common::{Harness, Phone, event, grid};
use gridbook_core::sync::wire::{self, Codec, Limits, SyncRequest, SyncResponse};
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
async fn an_actor_belongs_to_the_device_that_first_presented_it() {
    let h = Harness::start().await;
    let a = Phone::new("王芳", "phone-a");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token_a = h.member("phone-a", &[&g]);
    let token_b = h.member("phone-b", &[&g]);
    h.sync(&token_a, &a).await.unwrap();
    let stolen = h.exchange(&token_b, &a.store.actor(), &SyncRequest::default()).await.unwrap_err();
    assert_eq!((stolen.status, stolen.kind.as_str()), (403, "forbidden"));
    let missing = h.post(Some(&token_b), None, gridbook_core::sync::wire::compress(&SyncRequest::default().encode()));
    assert_eq!(missing.await.unwrap_err().status, 400, "the actor header is required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_answered_in_the_codec_it_asked_in() {
    let h = Harness::start().await;
    let a = Phone::new("王芳", "phone-a");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone-a", &[&g]);
    let actor = a.store.actor();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let body = wire::compress_as(codec, &a.outbox().encode());
        let reply = h.post(Some(&token), Some(&actor), body).await.unwrap();
        assert_eq!(Codec::of(&reply), Some(codec));
        let message = wire::decompress(&reply, &Limits::default()).unwrap();
        assert!(SyncResponse::decode(&message, &Limits::default()).is_ok());
    }
    assert_eq!(h.changes(), 1, "the same change sent in both codecs is stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_changes_without_their_authors_proof_are_skipped() {
    let h = Harness::start().await;
    let a = Phone::new("王芳", "phone-a");
    let b = Phone::new("李强", "phone-b");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let (token_a, token_b) = (h.member("phone-a", &[&g]), h.member("phone-b", &[&g]));
    h.sync(&token_a, &a).await.unwrap();
    h.sync(&token_b, &b).await.unwrap();
    let before = h.changes();

    // B's new work, carried to the server by A with A's own, but without B's signature.
    let e = b.store.report_event(g.id, event("井盖缺失")).unwrap();
    let mut relay = b.outbox();
    let ghost = Phone::new("赵六", "never-synced");
    ghost.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let mut ghost_docs = ghost.outbox().docs;
    ghost_docs[0].doc = format!("g/{}", g.id);
    relay.docs.extend(ghost_docs);
    a.store.add_household(g.id, household("1号")).unwrap();
    relay.docs.extend(a.outbox().docs);
    relay.cursor = a.outbox().cursor;
    h.exchange(&token_a, &a.store.actor(), &relay).await.unwrap();
    assert_eq!(h.changes(), before + 1, "A's own; B's and the stranger's are skipped");
    assert!(h.metrics().await.contains("gridbook_relayed_changes_skipped_total 2"));

    // B uploads its change itself. The centre sees it as B's report.
    h.sync(&token_b, &b).await.unwrap();
    assert_eq!(h.changes(), before + 2);
    let centre = Phone::new("中心", "centre");
    h.sync(&h.centre("centre"), &centre).await.unwrap();
    assert_eq!(centre.store.event(e.id).unwrap().reported_by, "李强");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_stores_nothing_twice_and_gets_the_same_answer() {
    let h = Harness::start().await;
    let a = Phone::new("王芳", "phone-a");
    let b = Phone::new("李强", "phone-b");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let (token_a, token_b) = (h.member("phone-a", &[&g]), h.member("phone-b", &[&g]));
    h.sync(&token_a, &a).await.unwrap();
    h.sync(&token_b, &b).await.unwrap();
    a.store.add_household(g.id, household("1号")).unwrap();
    h.sync(&token_a, &a).await.unwrap();
    b.store.add_household(g.id, household("2号")).unwrap();
    let request = b.outbox();
    // The first reply is lost on the way back.
    let first = h.exchange(&token_b, &b.store.actor(), &request).await.unwrap();
    let count = h.changes();
    let second = h.exchange(&token_b, &b.store.actor(), &request).await.unwrap();
    assert_eq!(h.changes(), count, "no duplicates");
    assert_eq!(first, second, "same request, same answer");
    assert_eq!(first.docs.len(), 1, "A's household, not B's own echoed back");
    h.sync(&token_b, &b).await.unwrap();
    h.sync(&token_a, &a).await.unwrap();
    assert_eq!(a.store.households(g.id, false, gridbook_core::Page::first(10)).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_comes_in_pages_with_a_forward_cursor() {
    let h = Harness::with_config(ServerConfig { reply_max_changes: 3, ..ServerConfig::default() }).await;
    let a = Phone::new("王芳", "phone-a");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    for i in 0..10 {
        a.store.add_household(g.id, household(&format!("{i}号"))).unwrap();
    }
    let e = a.store.report_event(g.id, event("积水")).unwrap();
    a.store.event_step(e.id, StepAction::SolveOnSpot, "").unwrap();
    let token_a = h.member("phone-a", &[&g]);
    h.sync(&token_a, &a).await.unwrap();
    let total = h.changes();

    let b = Phone::new("李强", "phone-b");
    let token_b = h.member("phone-b", &[&g]);
    let mut request = SyncRequest::default();
    let (mut received, mut pages) = (0, 0);
    loop {
        let reply = h.exchange(&token_b, &b.store.actor(), &request).await.unwrap();
        let n: usize = reply.docs.iter().map(|d| d.changes.len()).sum();
        assert!(n <= 3);
        received += n;
        pages += 1;
        assert_ne!(reply.cursor, request.cursor, "the cursor moves");
        request.cursor = reply.cursor;
        if !reply.more {
            break;
        }
    }
    assert_eq!((received as u64, pages), (total, total.div_ceil(3) as usize));
    h.sync(&token_b, &b).await.unwrap();
    assert_eq!(b.store.households(g.id, false, gridbook_core::Page::first(20)).unwrap().len(), 10);

    // A device with nothing in scope still advances to the end of the log.
    let idle = Phone::new("赵六", "idle");
    let token_idle = h.register(
        "idle",
        gridbook_server::Role::GridMember,
        &[gridbook_core::GridId(uuid_v4())],
        Some("幸福村"),
        None,
    );
    let reply = h.exchange(&token_idle, &idle.store.actor(), &SyncRequest::default()).await.unwrap();
    assert!(reply.docs.is_empty() && !reply.more && !reply.cursor.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_from_another_server_starts_from_the_beginning() {
    let h = Harness::start().await;
    let a = Phone::new("王芳", "phone-a");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    h.sync(&h.member("phone-a", &[&g]), &a).await.unwrap();
    let b = Phone::new("李强", "phone-b");
    let token_b = h.member("phone-b", &[&g]);
    let mut foreign = SyncRequest { cursor: vec![7; 16], ..Default::default() };
    let reply = h.exchange(&token_b, &b.store.actor(), &foreign).await.unwrap();
    assert_eq!(reply.docs.len(), 1, "everything again; duplicates are harmless, gaps are not");
    foreign.cursor = vec![1, 2, 3];
    assert_eq!(h.exchange(&token_b, &b.store.actor(), &foreign).await.unwrap_err().status, 400);
}

fn uuid_v4() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x1234_5678_9abc_4def_8123_4567_89ab_cdef)
}
