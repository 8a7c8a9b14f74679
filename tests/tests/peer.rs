//! Two phones without signal sync with each other over an in-memory pipe: what they share
//! converges, nothing outside the grids both hold crosses, and a peer that sends more is refused.

use gridbook_core::sync::wire::{self, PeerHello, SyncRequest};
use gridbook_core::{Error, HouseholdEdit, NewHousehold};
use gridbook_e2e::{Device, grid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn exchange(a: &Device, a_grids: &[gridbook_core::GridId], b: &Device, b_grids: &[gridbook_core::GridId]) {
    // A small pipe: the exchange must not depend on buffering a whole message.
    let (left, right) = tokio::io::duplex(512);
    let (ra, rb) = tokio::join!(a.store.exchange_with_peer(left, a_grids), b.store.exchange_with_peer(right, b_grids));
    ra.expect("side A completes");
    rb.expect("side B completes");
}

#[tokio::test]
async fn peers_share_only_the_grids_both_hold_and_converge() {
    let a = Device::new("王芳", "phone-a");
    let b = Device::new("李强", "phone-b");
    let g1 = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let g2 = a.store.create_grid(grid("第二网格", "幸福村")).unwrap();
    let home = a
        .store
        .add_household(
            g1.id,
            NewHousehold { address: "幸福村一组3号".into(), head_name: "张德顺".into(), ..Default::default() },
        )
        .unwrap();
    a.store
        .add_household(
            g2.id,
            NewHousehold { address: "幸福村二组8号".into(), head_name: "赵秀英".into(), ..Default::default() },
        )
        .unwrap();

    exchange(&a, &[g1.id, g2.id], &b, &[g1.id]).await;
    assert_eq!(b.store.grids().unwrap(), vec![g1.clone()], "B holds grid 1 only");
    assert_eq!(b.store.household(home.id).unwrap(), home);

    // Both edit the same household offline, different fields.
    a.store
        .edit_household(home.id, HouseholdEdit { phone: Some(Some("13812345678".into())), ..Default::default() })
        .unwrap();
    b.store
        .edit_household(home.id, HouseholdEdit { notes: Some("独居老人，左耳听力差".into()), ..Default::default() })
        .unwrap();
    exchange(&a, &[g1.id, g2.id], &b, &[g1.id]).await;

    let on_a = a.store.household(home.id).unwrap();
    assert_eq!(on_a, b.store.household(home.id).unwrap());
    assert_eq!(on_a.phone.as_deref(), Some("13812345678"));
    assert_eq!(on_a.notes, "独居老人，左耳听力差");
    // What B received goes on to the server with B's next sync.
    assert!(b.store.sync_status().unwrap().pending_changes > 0);
}

#[tokio::test]
async fn a_peer_sending_a_grid_not_shared_is_refused_and_nothing_applies() {
    let honest = Device::new("王芳", "phone-a");
    let g1 = honest.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let rogue = Device::new("某人", "phone-x");
    let g9 = rogue.store.create_grid(grid("第九网格", "别的村")).unwrap();
    let smuggled = rogue.store.changes_since(&Default::default()).unwrap();

    let (left, mut right) = tokio::io::duplex(1 << 16);
    let rogue_side = async move {
        // Claims grid 1, then sends grid 9's documents anyway.
        let hello = PeerHello { grids: vec![*g1.id.0.as_bytes()], heads: vec![] }.encode();
        let changes = SyncRequest { cursor: vec![], docs: smuggled.docs }.encode();
        for message in [hello, changes] {
            let body = wire::compress(&message);
            right.write_all(&(body.len() as u32).to_be_bytes()).await.unwrap();
            right.write_all(&body).await.unwrap();
        }
        let mut drain = Vec::new();
        let _ = right.read_to_end(&mut drain).await;
    };
    let shared = [g1.id];
    let (result, ()) = tokio::join!(honest.store.exchange_with_peer(left, &shared), rogue_side);
    assert!(matches!(result, Err(Error::Forbidden(_))), "got {result:?}");
    assert!(honest.store.grid(g9.id).is_err(), "nothing of grid 9 was applied");
}

#[tokio::test]
async fn a_pipe_cut_mid_exchange_is_an_error_and_the_next_exchange_completes() {
    let a = Device::new("王芳", "phone-a");
    let b = Device::new("李强", "phone-b");
    let g1 = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let (left, right) = tokio::io::duplex(64);
    drop(right);
    let cut = a.store.exchange_with_peer(left, &[g1.id]).await;
    assert!(matches!(cut, Err(Error::Network(_))), "got {cut:?}");
    exchange(&a, &[g1.id], &b, &[g1.id]).await;
    assert_eq!(b.store.grid(g1.id).unwrap(), g1);
}
