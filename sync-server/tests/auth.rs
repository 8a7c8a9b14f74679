//! Who may talk to the server at all: a token it issued, of its district, not revoked. And what it
//! says about itself without a token: health and metrics, with no personal data.

mod common;

use common::{Harness, Phone, grid};
use gridbook_core::sync::wire::SyncRequest;
use gridbook_server::{Revocation, Server, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_valid_token_is_unauthorized() {
    let h = Harness::start().await;
    let body = gridbook_core::sync::wire::compress(&SyncRequest::default().encode());
    let missing = h.post(None, Some("0a"), body.clone()).await.unwrap_err();
    assert_eq!((missing.status, missing.kind.as_str()), (401, "unauthorized"));
    let unknown =
        h.post(Some(&format!("gbt_default_{}", "ab".repeat(32))), Some("0a"), body.clone()).await.unwrap_err();
    assert_eq!(unknown.status, 401);
    let garbage = h.post(Some("hello"), Some("0a"), body.clone()).await.unwrap_err();
    assert_eq!(garbage.status, 401);

    let elsewhere = tempfile::tempdir().unwrap();
    let other = Server::open(elsewhere.path(), ServerConfig { district: "hilltop".into(), ..ServerConfig::default() })
        .unwrap()
        .add_device(gridbook_server::NewDevice {
            name: "centre".into(),
            role: gridbook_server::Role::Centre,
            grids: vec![],
            village: None,
            department: None,
            holder: String::new(),
        })
        .unwrap()
        .1;
    let foreign = h.post(Some(&other), Some("0a"), body).await.unwrap_err();
    assert_eq!(foreign.status, 401);
    assert!(foreign.message.contains("hilltop"), "says the token is another district's: {}", foreign.message);
    assert!(!foreign.message.contains(&other[12..]), "never echoes the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_on_its_next_request() {
    let h = Harness::start().await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    h.sync(&token, &phone).await.unwrap();
    // Revoked through a second handle on the same data, as `gridbook-server device revoke` would.
    Server::open(h.data_dir(), ServerConfig::default()).unwrap().revoke_device("phone", Revocation::Lost).unwrap();
    let refused = h.sync(&token, &phone).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (401, "wipe"), "refused, and told to wipe");
    let listed = h.server.list_devices().unwrap();
    assert_eq!((listed[0].revoked_at.is_some(), listed[0].revoked_as), (true, Some(Revocation::Lost)));
    assert!(h.server.revoke_device("nobody", Revocation::Lost).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_stored_only_as_hashes() {
    let h = Harness::start().await;
    let token = h.centre("centre");
    assert!(token.starts_with("gbt_default_") && token.len() == "gbt_default_".len() + 64);
    drop(h.server.list_devices().unwrap());
    let db = std::fs::read(h.data_dir().join("server.sqlite3")).unwrap();
    let wal = std::fs::read(h.data_dir().join("server.sqlite3-wal")).unwrap_or_default();
    let secret = &token.as_bytes()["gbt_default_".len()..];
    for file in [db, wal] {
        assert!(!file.windows(secret.len()).any(|w| w == secret), "the token itself is not on disk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_need_no_token_and_carry_no_personal_data() {
    let h = Harness::start().await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    h.sync(&token, &phone).await.unwrap();
    let _ = h.post(Some("gbt_default_00"), Some("0a"), b"x".to_vec()).await;

    let health = h.http.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!((health.status().as_u16(), health.text().await.unwrap().as_str()), (200, "ok"));
    let metrics = h.metrics().await;
    for line in [
        "gridbook_syncs_total 1",
        "gridbook_changes_stored_total 1",
        "gridbook_sync_errors_total{kind=\"unauthorized\"} 1",
        "gridbook_sync_duration_seconds_count 1",
        "gridbook_relayed_changes_skipped_total 0",
        "gridbook_documents_refused_total 0",
        "gridbook_photo_bytes_in_total 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("gridbook_bytes_in_total ") && metrics.contains("gridbook_bytes_out_total "));
    assert!(!metrics.contains("第一网格") && !metrics.contains("幸福村"), "no personal data in metrics");
}
