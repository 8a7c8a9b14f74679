//! Two phones without signal sync with each other over an in-memory pipe. Each shows the
//! certificate the district's server signed at enrolment and proves it holds its key; what they
//! share converges, nothing outside the grids both certificates cover crosses, a change crosses only
//! with a proof of its author, and what one phone relays for the other reaches the server as the
//! other's, verified.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use ed25519_dalek::{Signer, SigningKey};
use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::{self, Certificate, PeerChanges, PeerIntro, PeerOffer, Proof, enrolment_statement};
use gridbook_core::{DocChanges, Error, Grid, HouseholdEdit, NewHousehold};
use gridbook_e2e::{Device, TestServer, grid};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

async fn exchange(a: &Device, a_grids: &[gridbook_core::GridId], b: &Device, b_grids: &[gridbook_core::GridId]) {
    // A small pipe: the exchange must not depend on buffering a whole message.
    let (left, right) = tokio::io::duplex(512);
    let (ra, rb) = tokio::join!(a.store.exchange_with_peer(left, a_grids), b.store.exchange_with_peer(right, b_grids));
    ra.expect("side A completes");
    rb.expect("side B completes");
}

/// A district with two grids the centre made and synced, and two grid members enrolled: A for both
/// grids, B for the first.
struct District {
    server: TestServer,
    g1: Grid,
    g2: Grid,
    a: Device,
    b: Device,
    b_token: String,
}

async fn district() -> District {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g1 = centre.store.create_grid(grid("第一网格", "幸福村")).expect("grid");
    let g2 = centre.store.create_grid(grid("第二网格", "幸福村")).expect("grid");
    let centre_token = server.centre("centre-pc");
    centre.store.sync(&server.remote(&centre_token), &SyncOptions::default()).await.expect("the centre syncs");
    let a = Device::new("王芳", "phone-a");
    let a_token = server.grid_member("phone-a", &[&g1, &g2]);
    a.store.sync(&server.remote(&a_token), &SyncOptions::default()).await.expect("A enrols and syncs");
    let b = Device::new("李强", "phone-b");
    let b_token = server.grid_member("phone-b", &[&g1]);
    b.store.sync(&server.remote(&b_token), &SyncOptions::default()).await.expect("B enrols and syncs");
    District { server, g1, g2, a, b, b_token }
}

#[tokio::test]
async fn peers_share_only_the_grids_both_certificates_cover_and_relay_with_proof() {
    let District { server, g1, g2, a, b, b_token, .. } = district().await;
    let home = a
        .store
        .add_household(
            g1.id,
            NewHousehold { address: "幸福村一组3号".into(), head_name: "张德顺".into(), ..Default::default() },
        )
        .expect("household");
    let other = a
        .store
        .add_household(
            g2.id,
            NewHousehold { address: "幸福村二组8号".into(), head_name: "赵秀英".into(), ..Default::default() },
        )
        .expect("household");

    // B asks for both grids; its certificate covers the first only.
    exchange(&a, &[g1.id, g2.id], &b, &[g1.id, g2.id]).await;
    assert_eq!(b.store.household(home.id).expect("relayed"), home);
    assert!(b.store.household(other.id).is_err(), "grid 2 is not on B's certificate");
    // B holds the key of grid 1's household from A, and relays it to the server; none of grid 2's.
    let relayed: Vec<[u8; 16]> =
        b.store.prepare_sync(1 << 20).expect("request").request.keys.iter().map(|k| k.id).collect();
    assert!(relayed.contains(&home.id.0.into_bytes()));
    assert!(!relayed.contains(&other.id.0.into_bytes()), "no key of a grid B's certificate does not cover");

    // Both edit the same household offline, different fields.
    a.store
        .edit_household(home.id, HouseholdEdit { phone: Some(Some("13812345678".into())), ..Default::default() })
        .expect("edit");
    b.store
        .edit_household(home.id, HouseholdEdit { notes: Some("独居老人，左耳听力差".into()), ..Default::default() })
        .expect("edit");
    exchange(&a, &[g1.id, g2.id], &b, &[g1.id]).await;
    let on_a = a.store.household(home.id).expect("household");
    assert_eq!(on_a, b.store.household(home.id).expect("household"));
    assert_eq!(on_a.phone.as_deref(), Some("138****5678"));

    // A never syncs again; B carries A's work to the server, with A's signature.
    b.store.sync(&server.remote(&b_token), &SyncOptions::default()).await.expect("B syncs");
    let centre_token = server.centre("centre-3");
    let reader = Device::new("中心", "centre-pc-2");
    reader.store.sync(&server.remote(&centre_token), &SyncOptions::default()).await.expect("the centre syncs");
    let seen = reader.store.household(home.id).expect("A's household reached the server through B");
    assert_eq!(seen.phone.as_deref(), Some("138****5678"));
    let history = reader.store.household_history(home.id).expect("history");
    let phone = history.iter().find(|e| e.field == "phone").expect("the phone edit");
    assert!(phone.verified, "the server vouches for the author");
    assert_eq!(phone.device, "phone-a", "A's edit is A's, not B's who relayed it");
}

/// A rogue phone's side of the exchange, message by message.
struct Rogue {
    pipe: DuplexStream,
}

impl Rogue {
    async fn send(&mut self, message: &[u8]) {
        let body = wire::compress(message);
        self.pipe.write_all(&(body.len() as u32).to_be_bytes()).await.expect("write");
        self.pipe.write_all(&body).await.expect("write");
    }

    /// Shows `certificate` and proves holding `key` for it (truly or not), and reads B's offer.
    async fn introduce(&mut self, certificate: &[u8], key: &SigningKey) {
        let nonce = [9; 32];
        self.send(&PeerIntro { certificate: certificate.to_vec(), nonce }.encode()).await;
        let theirs =
            PeerIntro::decode(&self.receive().await.expect("B's intro"), &wire::Limits::default()).expect("intro");
        let statement = PeerOffer::possession_statement(certificate, &theirs.certificate, &theirs.nonce, &nonce);
        self.send(&PeerOffer { possession: key.sign(&statement).to_bytes(), heads: vec![] }.encode()).await;
    }

    /// Sends `message` after an introduction as the rogue itself, and reads until B hangs up.
    async fn send_changes(mut self, certificate: &[u8], key: &SigningKey, message: &PeerChanges) {
        self.introduce(certificate, key).await;
        self.receive().await.expect("B's offer");
        self.send(&message.encode()).await;
        while self.receive().await.is_some() {}
    }

    async fn receive(&mut self) -> Option<Vec<u8>> {
        let mut len = [0; 4];
        self.pipe.read_exact(&mut len).await.ok()?;
        let mut body = vec![0; u32::from_be_bytes(len) as usize];
        self.pipe.read_exact(&mut body).await.ok()?;
        wire::decompress(&body, &wire::Limits::default()).ok()
    }
}

/// A key of the rogue's own, enrolled for a store actor of its own with `token`.
async fn rogue_identity(server: &TestServer, token: &str) -> (SigningKey, Vec<u8>, Vec<u8>) {
    let key = SigningKey::from_bytes(&rand::random());
    let actor = uuid::Uuid::now_v7().as_bytes().to_vec();
    let public = key.verifying_key().to_bytes();
    let signature = key.sign(&enrolment_statement(&actor, &public)).to_bytes();
    let (certificate, _) = server.raw_enrol(token, &actor, &public, &signature).await;
    (key, actor, certificate)
}

/// Runs `rogue` against B's honest side and returns B's result. B must refuse, not wait: a side
/// that accepted what the rogue said would wait for a message the rogue never sends.
async fn against_b<F>(b: &Device, grids: &[gridbook_core::GridId], rogue: F) -> Result<(), Error>
where
    F: AsyncFnOnce(Rogue),
{
    let (left, right) = tokio::io::duplex(1 << 16);
    let exchange = async {
        let (result, ()) = tokio::join!(b.store.exchange_with_peer(left, grids), rogue(Rogue { pipe: right }));
        result.map(|_| ())
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), exchange).await.expect("B answers the rogue at once")
}

#[tokio::test]
async fn a_certificate_shown_without_its_key_is_refused() {
    let District { server, g1, a, b, .. } = district().await;
    let stolen = a.store.enrolment().expect("read").expect("A is enrolled").certificate_bytes;
    let rogue_token = server.grid_member("phone-x", &[&g1]);
    let (rogue_key, _, _) = rogue_identity(&server, &rogue_token).await;
    let result = against_b(&b, &[g1.id], async |mut rogue: Rogue| {
        rogue.introduce(&stolen, &rogue_key).await;
        while rogue.receive().await.is_some() {}
    })
    .await;
    assert!(matches!(&result, Err(Error::Forbidden(m)) if m.contains("key")), "got {result:?}");
}

#[tokio::test]
async fn a_change_in_another_devices_name_is_refused_and_nothing_applies() {
    let District { server, g1, a, b, .. } = district().await;
    let victim = a.store.enrolment().expect("read").expect("A is enrolled");
    let rogue_token = server.grid_member("phone-x", &[&g1]);
    let (rogue_key, rogue_actor, rogue_cert) = rogue_identity(&server, &rogue_token).await;

    // A household "by A", made with A's actor, in a grid both hold.
    let household = uuid::Uuid::now_v7();
    let mut doc = AutoCommit::new().with_actor(ActorId::from(victim.certificate.actor.clone()));
    doc.put(ROOT, "forged", "by A").expect("put");
    doc.commit();
    let change = doc.get_last_local_change().expect("a change").raw_bytes().to_vec();
    let hash = wire::change_hash(&change).expect("hash");
    let docs = vec![DocChanges { doc: format!("h/{}/{household}", g1.id), changes: vec![change] }];

    // Signed with the rogue's own key, once naming its own actor and once naming A's.
    for (proof, certificates) in [
        (Proof::sign(&rogue_key, &rogue_actor, [hash]), vec![]),
        (Proof::sign(&rogue_key, &victim.certificate.actor, [hash]), vec![victim.certificate_bytes.clone()]),
    ] {
        let message = PeerChanges { docs: docs.clone(), proofs: vec![proof], certificates, keys: vec![] };
        let result =
            against_b(&b, &[g1.id], async |rogue: Rogue| rogue.send_changes(&rogue_cert, &rogue_key, &message).await)
                .await;
        assert!(
            matches!(&result, Err(Error::Forbidden(m)) if m.contains("prove") || m.contains("proof")),
            "got {result:?}"
        );
        assert!(b.store.heads().expect("heads").0.keys().all(|d| !d.contains(&household.to_string())));
    }
}

#[tokio::test]
async fn a_document_outside_the_shared_grids_is_refused() {
    let District { server, g1, g2, b, .. } = district().await;
    let rogue_token = server.grid_member("phone-x", &[&g1, &g2]);
    let (rogue_key, rogue_actor, rogue_cert) = rogue_identity(&server, &rogue_token).await;
    let mut doc = AutoCommit::new().with_actor(ActorId::from(rogue_actor.clone()));
    doc.put(ROOT, "note", "grid 2").expect("put");
    doc.commit();
    let change = doc.get_last_local_change().expect("a change").raw_bytes().to_vec();
    let hash = wire::change_hash(&change).expect("hash");
    let message = PeerChanges {
        docs: vec![DocChanges { doc: format!("h/{}/{}", g2.id, uuid::Uuid::now_v7()), changes: vec![change] }],
        proofs: vec![Proof::sign(&rogue_key, &rogue_actor, [hash])],
        certificates: vec![],
        keys: vec![],
    };
    let result =
        against_b(&b, &[g1.id], async |rogue: Rogue| rogue.send_changes(&rogue_cert, &rogue_key, &message).await).await;
    assert!(matches!(&result, Err(Error::Forbidden(m)) if m.contains("grid")), "got {result:?}");

    // Nor a key of a grid outside them, even with nothing else.
    let household = uuid::Uuid::now_v7();
    let key = wire::WireKey {
        id: household.into_bytes(),
        doc: format!("h/{}/{household}", g2.id),
        key: zeroize::Zeroizing::new([7; 32]),
    };
    let message = PeerChanges { keys: vec![key], ..Default::default() };
    let result =
        against_b(&b, &[g1.id], async |rogue: Rogue| rogue.send_changes(&rogue_cert, &rogue_key, &message).await).await;
    assert!(matches!(&result, Err(Error::Forbidden(m)) if m.contains("key")), "got {result:?}");
}

#[tokio::test]
async fn a_certificate_the_server_did_not_sign_is_refused() {
    let District { g1, b, .. } = district().await;
    let forger = SigningKey::from_bytes(&[5; 32]);
    let forged = Certificate {
        device_id: "x".into(),
        device: "phone-x".into(),
        holder: "某人".into(),
        role: "centre".into(),
        grids: vec![*g1.id.0.as_bytes()],
        actor: vec![1; 16],
        public_key: forger.verifying_key().to_bytes(),
        issued_at: 0,
        expires_at: i64::from(u32::MAX),
    }
    .sign(&forger);
    let result = against_b(&b, &[g1.id], async |mut rogue: Rogue| {
        rogue.send(&PeerIntro { certificate: forged.clone(), nonce: [1; 32] }.encode()).await;
        while rogue.receive().await.is_some() {}
    })
    .await;
    assert!(matches!(&result, Err(Error::Forbidden(m)) if m.contains("certificate")), "got {result:?}");
}

#[tokio::test]
async fn an_unenrolled_store_cannot_exchange_and_a_cut_pipe_is_an_error() {
    let District { g1, a, b, .. } = district().await;
    let fresh = Device::new("某人", "phone-new");
    let (left, _right) = tokio::io::duplex(64);
    let result = fresh.store.exchange_with_peer(left, &[g1.id]).await;
    assert!(matches!(result, Err(Error::Forbidden(_))), "got {result:?}");

    let (left, right) = tokio::io::duplex(64);
    drop(right);
    let cut = a.store.exchange_with_peer(left, &[g1.id]).await;
    assert!(matches!(cut, Err(Error::Network(_))), "got {cut:?}");
    exchange(&a, &[g1.id], &b, &[g1.id]).await;
    assert_eq!(b.store.grid(g1.id).expect("grid"), a.store.grid(g1.id).expect("grid"));
}
