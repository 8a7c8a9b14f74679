//! Enrolment as a store meets it over HTTP: a one-time code (or the device's token) and a signature
//! by the store's key, traded for the device's token and the server's certificate of the key.

mod common;

use common::{Harness, Phone, Refused, answer, grid};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use gridbook_core::sync::wire::{Certificate, enrolment_statement};
use gridbook_server::{Device, NewDevice, NewGrid, Revocation, Role, SqliteStorage, Storage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A store's key.
fn store_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random())
}

/// The enrolment a store sends: its actor and key, signed with `signer` (the key itself, unless a
/// test forges it).
fn request(code: Option<&str>, actor: &[u8], key: &SigningKey, signer: &SigningKey) -> Value {
    let public_key = key.verifying_key().to_bytes();
    let signature = signer.sign(&enrolment_statement(actor, &public_key)).to_bytes();
    let mut body = json!({ "actor": hex::encode(actor), "public_key": hex::encode(public_key), "signature": hex::encode(signature) });
    if let Some(code) = code {
        body["code"] = code.into();
    }
    body
}

/// POSTs `body` to `/v1/enrol`, with the device's token if given.
async fn enrol(h: &Harness, token: Option<&str>, body: &Value) -> Result<Value, Refused> {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let mut post = h.http.post(h.url("/v1/enrol")).header("content-type", "application/json").body(bytes);
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    let reply = answer(post.send().await.expect("the server answers")).await?;
    Ok(serde_json::from_slice(&reply).expect("a JSON answer"))
}

/// The certificate of an answer, verified with the server key the answer names.
fn certificate(answer: &Value) -> Certificate {
    let field = |name: &str| hex::decode(answer[name].as_str().expect("a hex field")).expect("hex");
    let server_key: [u8; 32] = field("server_key").try_into().expect("32 bytes");
    let server_key = VerifyingKey::from_bytes(&server_key).expect("an Ed25519 key");
    Certificate::verify(&field("certificate"), &server_key, chrono::Utc::now().timestamp()).expect("it verifies")
}

fn new_device(name: &str, role: Role, grids: Vec<String>, village: Option<&str>, holder: &str) -> NewDevice {
    NewDevice {
        name: name.into(),
        role,
        grids,
        village: village.map(Into::into),
        department: (role == Role::Department).then(|| "市政维修".into()),
        holder: holder.into(),
    }
}

fn grid_bytes(id: &str) -> [u8; 16] {
    uuid::Uuid::parse_str(id).expect("a UUID").into_bytes()
}

/// A second handle on the server's storage, as a test reaches what the API does not show.
fn storage(h: &Harness) -> SqliteStorage {
    SqliteStorage::open(h.data_dir(), "default", None).expect("the storage opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_enrols_the_store_once_and_brings_a_token_that_syncs() {
    let h = Harness::start().await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let new = new_device("phone", Role::GridMember, vec![g.id.to_string()], Some("幸福村"), " 王芳 ");
    let (device, code) = h.server.add_device_with_code(new).unwrap();
    // A hand-made key for an actor of its own: the phone's store syncs by the token under its
    // actor, which has no key, as a store of the previous version does.
    let actor = uuid::Uuid::now_v7().as_bytes().to_vec();
    let key = store_key();

    let answer = enrol(&h, None, &request(Some(&code), &actor, &key, &key)).await.unwrap();
    let token = answer["token"].as_str().unwrap().to_string();
    h.sync(&token, &phone).await.unwrap();
    assert_eq!(h.changes(), 1, "the token syncs");

    let cert = certificate(&answer);
    assert_eq!((cert.device_id.as_str(), cert.device.as_str()), (device.id.as_str(), "phone"));
    assert_eq!((cert.holder.as_str(), cert.role.as_str()), ("王芳", "grid-member"));
    assert_eq!(cert.grids, [grid_bytes(&g.id.to_string())]);
    assert_eq!((cert.actor, cert.public_key), (actor.clone(), key.verifying_key().to_bytes()));
    assert_eq!(cert.expires_at - cert.issued_at, 30 * 24 * 60 * 60);
    assert_eq!(storage(&h).actor_key(&actor).unwrap(), Some(key.verifying_key().to_bytes()));

    // The same store asking again, its answer lost on the way, is answered again.
    let again = enrol(&h, None, &request(Some(&code), &actor, &key, &key)).await.unwrap();
    assert_ne!(again["token"], answer["token"], "with a new token, the lost one replaced");
    h.sync(again["token"].as_str().unwrap(), &phone).await.unwrap();

    // Any other store is refused: a code is used once.
    let (other, other_actor) = (store_key(), uuid::Uuid::now_v7().as_bytes().to_vec());
    let stolen = enrol(&h, None, &request(Some(&code), &other_actor, &other, &other)).await.unwrap_err();
    assert_eq!((stolen.status, stolen.kind.as_str()), (401, "unauthorized"), "a code is used once");
    assert!(stolen.message.contains("new one") && !stolen.message.contains(&code[..5]), "{}", stolen.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_is_certified_with_the_grids_it_may_read() {
    let h = Harness::start().await;
    let new_grid = |name: &str, village: &str| {
        let new = NewGrid { name: name.into(), village: village.into(), township: String::new() };
        h.server.add_grid(new).unwrap().id
    };
    let (first, second, elsewhere) = (new_grid("一", "幸福村"), new_grid("二", "幸福村"), new_grid("三", "光明村"));
    let certified = |grids: &[&String]| {
        let mut grids: Vec<[u8; 16]> = grids.iter().map(|g| grid_bytes(g)).collect();
        grids.sort_unstable();
        grids
    };
    let cases = [
        (
            new_device("secretary", Role::Secretary, vec![elsewhere.clone()], Some("幸福村"), ""),
            vec![&first, &second, &elsewhere],
        ),
        (new_device("centre", Role::Centre, vec![], None, "刘敏"), vec![&first, &second, &elsewhere]),
        (new_device("department", Role::Department, vec![], None, ""), vec![]),
    ];
    for (new, grids) in cases {
        let role = new.role;
        let (_, code) = h.server.add_device_with_code(new).unwrap();
        let key = store_key();
        let actor: [u8; 16] = rand::random();
        let cert = certificate(&enrol(&h, None, &request(Some(&code), &actor, &key, &key)).await.unwrap());
        assert_eq!(cert.role, role.as_str());
        assert_eq!(cert.grids, certified(&grids), "{role:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_refused_once_expired_and_for_a_revoked_device_but_read_as_typed() {
    let h = Harness::start().await;
    let (device, _) = h.server.add_device_with_code(new_device("centre", Role::Centre, vec![], None, "")).unwrap();
    let stored = |code: &str, expires_at: i64| {
        let hash: [u8; 32] = Sha256::digest(code).into();
        storage(&h).add_enrolment_code(&device.id, &hash, expires_at).unwrap();
    };
    let key = store_key();
    let now = chrono::Utc::now().timestamp_millis();

    stored("ABCDE12345", now - 1);
    let expired = enrol(&h, None, &request(Some("ABCDE-12345"), &[1], &key, &key)).await.unwrap_err();
    assert_eq!((expired.status, expired.kind.as_str()), (401, "unauthorized"));

    stored("ABCDE12345", now + 60_000);
    let typed = enrol(&h, None, &request(Some(" abcde l2345 "), &[1], &key, &key)).await.unwrap();
    assert!(typed["token"].as_str().is_some(), "case, spaces and an l for a 1 do not matter");

    let code = h.server.new_code("centre").unwrap();
    h.server.revoke_device("centre", Revocation::Retired).unwrap();
    let revoked = enrol(&h, None, &request(Some(&code), &[2], &key, &key)).await.unwrap_err();
    assert_eq!((revoked.status, revoked.kind.as_str()), (401, "unauthorized"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_by_another_key_or_a_request_out_of_shape_is_malformed() {
    let h = Harness::start().await;
    let (_, code) = h.server.add_device_with_code(new_device("centre", Role::Centre, vec![], None, "")).unwrap();
    let (key, other) = (store_key(), store_key());
    let mut tampered = request(Some(&code), &[1], &key, &key);
    tampered["actor"] = "02".into();
    let mut bad_code = request(Some(&code), &[1], &key, &key);
    bad_code["code"] = "ABCDE".into();
    let cases = [
        ("signed by another key", request(Some(&code), &[1], &key, &other)),
        ("signed for another actor", tampered),
        ("an actor of 33 bytes", request(Some(&code), &[1; 33], &key, &key)),
        ("a code of five characters", bad_code),
        ("not an enrolment", json!({ "code": code })),
    ];
    for (what, body) in cases {
        let refused = enrol(&h, None, &body).await.unwrap_err();
        assert_eq!((refused.status, refused.kind.as_str()), (400, "malformed"), "{what}: {}", refused.message);
    }
    let big = json!({ "code": "x".repeat(9 << 10) });
    assert_eq!(enrol(&h, None, &big).await.unwrap_err().status, 413);
    enrol(&h, None, &request(Some(&code), &[1], &key, &key)).await.expect("a refused request does not use the code");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_is_enrolled_for_one_device_with_one_key() {
    let h = Harness::start().await;
    let centre = |name: &str| h.server.add_device_with_code(new_device(name, Role::Centre, vec![], None, "")).unwrap();
    let ((_, first), (_, second), (_, third)) = (centre("first"), centre("second"), centre("third"));
    let key = store_key();
    enrol(&h, None, &request(Some(&first), &[7], &key, &key)).await.unwrap();
    let taken = enrol(&h, None, &request(Some(&second), &[7], &key, &key)).await.unwrap_err();
    assert_eq!((taken.status, taken.kind.as_str()), (403, "forbidden"));
    assert!(taken.message.contains("another device"), "{}", taken.message);

    // The same device's store presenting its actor with another key.
    let token = enrol(&h, None, &request(Some(&third), &[8], &key, &key)).await.unwrap()["token"].clone();
    let other = store_key();
    let refused = enrol(&h, token.as_str(), &request(None, &[8], &other, &other)).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (403, "forbidden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_with_a_token_enrols_its_key_by_it() {
    let h = Harness::start().await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    h.sync(&token, &phone).await.unwrap();
    let actor = hex::decode(phone.store.actor()).unwrap();
    assert_eq!(storage(&h).actor_key(&actor).unwrap(), None, "synced by token, before keys");

    let key = store_key();
    let missing = enrol(&h, None, &request(None, &actor, &key, &key)).await.unwrap_err();
    assert_eq!((missing.status, missing.kind.as_str()), (401, "unauthorized"), "neither a code nor a token");
    let answer = enrol(&h, Some(&token), &request(None, &actor, &key, &key)).await.unwrap();
    assert!(answer.get("token").is_none(), "the store keeps its token: {answer}");
    assert_eq!(certificate(&answer).grids, [grid_bytes(&g.id.to_string())]);
    assert_eq!(storage(&h).actor_key(&actor).unwrap(), Some(key.verifying_key().to_bytes()));
    enrol(&h, Some(&token), &request(None, &actor, &key, &key)).await.expect("enrolling again changes nothing");
    h.sync(&token, &phone).await.unwrap();

    // Whoever else holds the token cannot turn it into a key of their own: another store enrols
    // with a code from the centre.
    let (other, other_actor) = (store_key(), uuid::Uuid::now_v7().as_bytes().to_vec());
    let refused = enrol(&h, Some(&token), &request(None, &other_actor, &other, &other)).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (403, "forbidden"));
    assert!(refused.message.contains("code"), "{}", refused.message);
    assert_eq!(storage(&h).actor_key(&other_actor).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_phone_enrols_with_a_fresh_code_and_the_lost_ones_token_stops_working() {
    let h = Harness::start().await;
    let lost = h.centre("centre");
    let code = h.server.new_code("centre").unwrap();
    let key = store_key();
    let answer = enrol(&h, None, &request(Some(&code), &[9], &key, &key)).await.unwrap();
    let phone = Phone::new("刘敏", "centre");
    let refused = h.sync(&lost, &phone).await.unwrap_err();
    assert_eq!(refused.status, 401, "the lost phone's token is replaced");
    h.sync(answer["token"].as_str().unwrap(), &phone).await.unwrap();
    let listed: Vec<Device> = h.server.list_devices().unwrap();
    assert_eq!(h.server.enrolled_keys().unwrap().get(&listed[0].id), Some(&1));
}
