//! Issue #16: a store takes a relayed change on its author's signature, not on the server's word. A
//! phone's changes reach another phone with the batch their author signed, and go on from there to
//! a third by peer exchange with that same proof; a compromised server that writes a change in an
//! enrolled phone's name (into its own database, where no request's checks apply) or names another
//! key for that phone gets the document refused by the stores that pinned the phone's key, while
//! the rest of its reply applies.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::Change;
use ed25519_dalek::SigningKey;
use gridbook_core::sync::wire::{Proof, change_hash};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{Grid, HouseholdId, NewHousehold, Store};
use gridbook_e2e::{Device, TestServer, forged_change, grid};

/// A district's grid, the centre's, and three enrolled grid members of it.
struct District {
    server: TestServer,
    g: Grid,
    phones: [(Device, String); 3],
}

async fn district() -> District {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    centre.store.sync(&server.remote(&server.centre("centre-pc")), &SyncOptions::default()).await.unwrap();
    let phones = ["phone-a", "phone-b", "phone-c"].map(|name| {
        let token = server.grid_member(name, &[&g]);
        (Device::new(name, name), token)
    });
    let district = District { server, g, phones };
    for n in 0..3 {
        district.sync(n).await;
    }
    district
}

impl District {
    fn store(&self, n: usize) -> &Store {
        &self.phones[n].0.store
    }

    async fn sync(&self, n: usize) {
        let remote = self.server.remote(&self.phones[n].1);
        self.store(n).sync(&remote, &SyncOptions::default()).await.unwrap();
    }

    fn add_household(&self, n: usize, address: &str) -> HouseholdId {
        let new = NewHousehold { address: address.into(), head_name: "张三".into(), ..Default::default() };
        self.store(n).add_household(self.g.id, new).unwrap().id
    }

    fn doc(&self, id: HouseholdId) -> String {
        format!("h/{}/{id}", self.g.id)
    }

    /// A household of A's that B received, signed, from the server (B pinned A's key and saw A
    /// sign); its document, and a change to it in A's name that A never made, with its hash.
    async fn forge_after_b_pinned_a(&self) -> (String, Vec<u8>, [u8; 32]) {
        let home = self.add_household(0, "幸福村一组1号");
        self.sync(0).await;
        self.sync(1).await;
        let doc = self.doc(home);
        let forged = forged_change(self.store(0), &doc, "forged");
        let hash = change_hash(&forged).unwrap();
        (doc, forged, hash)
    }

    /// What the server's database would hold if whoever controls it wrote `change` into `doc`,
    /// stored under the author's device, with `proof` if any: no request, so no check of the server's.
    fn write_into_the_servers_log(&self, doc: &str, change: &[u8], proof: Option<&Proof>) {
        let db = rusqlite::Connection::open(self.server.data_dir().join("server.sqlite3")).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        let parsed = Change::from_bytes(change.to_vec()).unwrap();
        let actor = parsed.actor_id().to_bytes().to_vec();
        let device: String =
            db.query_row("SELECT device FROM actors WHERE actor = ?1", [&actor], |r| r.get(0)).unwrap();
        let proof_id = proof.map(|p| {
            db.execute(
                "INSERT INTO proofs (actor, signature, hashes) VALUES (?1, ?2, ?3)",
                rusqlite::params![p.actor, &p.signature[..], p.hashes_blob()],
            )
            .unwrap();
            db.last_insert_rowid()
        });
        db.execute(
            "INSERT INTO changes (hash, doc, grid, author, actor, actor_seq, bytes, proof)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                &parsed.hash().0[..],
                doc,
                self.g.id.to_string(),
                device,
                actor,
                parsed.seq() as i64,
                change,
                proof_id
            ],
        )
        .unwrap();
    }

    /// Has the server name `key` as the enrolled key of `store`'s actor from now on.
    fn rekey_on_the_server(&self, store: &Store, key: &SigningKey) {
        let db = rusqlite::Connection::open(self.server.data_dir().join("server.sqlite3")).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        let actor = hex::decode(store.actor()).unwrap();
        let public = key.verifying_key().to_bytes();
        let n = db.execute("UPDATE actors SET public_key = ?1 WHERE actor = ?2", rusqlite::params![&public[..], actor]);
        assert_eq!(n.unwrap(), 1);
    }
}

/// Whether `store` holds the change of `hash` in `doc`.
fn holds(store: &Store, doc: &str, hash: [u8; 32]) -> bool {
    let set = store.changes_since(&Default::default()).unwrap();
    set.docs.iter().filter(|d| d.doc == doc).flat_map(|d| &d.changes).any(|c| change_hash(c) == Some(hash))
}

fn refusal(store: &Store, doc: &str) -> Option<RefusalReason> {
    store.sync_status().unwrap().refused.into_iter().find(|r| r.doc == doc).map(|r| r.reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_other_stores_signed_by_its_author_through_the_server_and_a_peer() {
    let d = district().await;
    // B holds A's certificate from an earlier exchange, so it can pass A's proofs on.
    let (left, right) = tokio::io::duplex(4096);
    let grids = [d.g.id];
    let (ra, rb) =
        tokio::join!(d.store(0).exchange_with_peer(left, &grids), d.store(1).exchange_with_peer(right, &grids));
    ra.unwrap();
    rb.unwrap();

    let home = d.add_household(0, "幸福村一组1号");
    d.sync(0).await;
    d.sync(1).await;
    let history = d.store(1).household_history(home).unwrap();
    assert!(!history.is_empty());
    assert!(history.iter().all(|e| e.verified && e.signed && e.device == "phone-a"), "{history:?}");

    // C has not synced since: it gets the household from B, with A's own proof.
    let (left, right) = tokio::io::duplex(4096);
    let (rb, rc) =
        tokio::join!(d.store(1).exchange_with_peer(left, &grids), d.store(2).exchange_with_peer(right, &grids));
    rb.unwrap();
    rc.unwrap();
    let history = d.store(2).household_history(home).unwrap();
    assert!(!history.is_empty());
    assert!(history.iter().all(|e| e.verified && e.signed && e.device == "phone-a"), "{history:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_a_compromised_server_writes_in_a_phones_name_is_refused_and_the_rest_applies() {
    let d = district().await;
    let (doc, forged, hash) = d.forge_after_b_pinned_a().await;
    d.write_into_the_servers_log(&doc, &forged, None);
    let next = d.add_household(0, "幸福村一组2号");
    d.sync(0).await;

    d.sync(1).await;
    assert!(!holds(d.store(1), &doc, hash), "the forged change is not applied");
    assert_eq!(refusal(d.store(1), &doc), Some(RefusalReason::NotSigned));
    assert_eq!(d.store(1).household(next).unwrap().address, "幸福村一组2号", "the rest of the reply applies");
    // The store moved past it: the next sync is not stuck on it.
    d.sync(1).await;
    assert!(!holds(d.store(1), &doc, hash));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_naming_another_key_for_a_pinned_author_is_refused() {
    let d = district().await;
    let (doc, forged, hash) = d.forge_after_b_pinned_a().await;
    // The server names a key of its own for A, and signs the change in A's name with it.
    let key = SigningKey::from_bytes(&rand::random());
    let actor = hex::decode(d.store(0).actor()).unwrap();
    d.write_into_the_servers_log(&doc, &forged, Some(&Proof::sign(&key, &actor, [hash])));
    d.rekey_on_the_server(d.store(0), &key);

    d.sync(1).await;
    assert!(!holds(d.store(1), &doc, hash), "the change signed by the other key is not applied");
    assert_eq!(refusal(d.store(1), &doc), Some(RefusalReason::NotSigned));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_sent_again_without_their_proofs_by_a_restored_server_are_not_refused_where_held() {
    let mut d = district().await;
    let home = d.add_household(0, "幸福村一组1号");
    d.sync(0).await;
    // B has seen A sign: from now on, a change of A's it lacks must come with A's proof.
    d.sync(1).await;

    // The server is restored from a backup made before servers kept proofs: a database of its own
    // (another instance id, so every cursor counts as from the start) whose changes have none.
    {
        let db = rusqlite::Connection::open(d.server.data_dir().join("server.sqlite3")).unwrap();
        db.execute("UPDATE changes SET proof = NULL", []).unwrap();
        db.execute("UPDATE meta SET value = ?1 WHERE key = 'instance'", [hex::encode(rand::random::<[u8; 8]>())])
            .unwrap();
    }
    d.server.restart().await;

    d.sync(1).await;
    let doc = d.doc(home);
    assert_eq!(refusal(d.store(1), &doc), None, "what B already holds is not refused again");
    assert_eq!(d.store(1).household(home).unwrap().address, "幸福村一组1号");
}
