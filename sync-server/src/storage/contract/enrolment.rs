//! The contract of enrolment: the server's key lasts, a code enrols once, before it expires and
//! never a revoked device, and an actor keeps its device and its first key.

use std::collections::HashMap;

use super::{Fixture, commit, device, register};
use crate::storage::{Revocation, Role, Storage, StorageError};

/// The public keys of two stores enrolling.
const KEY: [u8; 32] = [0xaa; 32];
const OTHER_KEY: [u8; 32] = [0xbb; 32];

pub(crate) fn the_server_keeps_its_key_across_a_restart<F: Fixture>() {
    let mut f = F::new();
    let key = f.storage().server_key().to_bytes();
    assert_eq!(f.storage().server_key().to_bytes(), key, "the same key on every call");
    f.reopen();
    assert_eq!(f.storage().server_key().to_bytes(), key, "and after a restart");
    assert_ne!(F::new().storage().server_key().to_bytes(), key, "each server has a key of its own");
}

pub(crate) fn a_device_added_without_a_token_gets_one_when_it_enrols<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let (first, second) = (device(1), device(2));
    s.add_device(&first, None).expect("a device without a token");
    s.add_device(&second, None).expect("another");
    assert_eq!(s.devices().expect("devices"), [first.clone(), second]);
    s.set_token(&first.id, &[9; 32]).expect("its token");
    assert_eq!(s.device_by_token(&[9; 32]).expect("by token"), Some(first.clone()));
    s.set_token(&first.id, &[8; 32]).expect("a new token");
    assert_eq!(s.device_by_token(&[9; 32]).expect("by token"), None, "the new token replaces the old");
    assert_eq!(s.device_by_token(&[8; 32]).expect("by token"), Some(first));
    assert!(matches!(s.set_token("nobody", &[7; 32]), Err(StorageError::NoSuchDevice)));
}

pub(crate) fn a_code_enrols_once_before_it_expires_and_never_a_revoked_device<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let phone = register(s, 0);
    let lost = register(s, 1);
    s.add_enrolment_code(&phone.id, &[1; 32], 1_000).expect("a code");
    s.add_enrolment_code(&lost.id, &[2; 32], 1_000).expect("a code");
    assert!(matches!(s.add_enrolment_code("nobody", &[3; 32], 1_000), Err(StorageError::NoSuchDevice)));

    assert_eq!(s.redeem_code(&[1; 32], 1_000, &KEY).expect("redeem"), None, "expired at its expiry");
    assert_eq!(s.redeem_code(&[9; 32], 500, &KEY).expect("redeem"), None, "unknown");
    assert_eq!(s.redeem_code(&[1; 32], 999, &KEY).expect("redeem"), Some(phone.clone()));
    assert_eq!(s.redeem_code(&[1; 32], 999, &OTHER_KEY).expect("redeem"), None, "used by another store");
    let again = s.redeem_code(&[1; 32], 999, &KEY).expect("redeem");
    assert_eq!(again.map(|d| d.id), Some(phone.id.clone()), "the same store asks again: its answer was lost");

    // Retired, the mildest revocation: it may still upload, but no new store of it may enrol.
    s.revoke_device(&lost.id, 500, Revocation::Retired).expect("revoke");
    assert_eq!(s.redeem_code(&[2; 32], 600, &KEY).expect("redeem"), None, "a revoked device's code");
}

pub(crate) fn a_new_code_replaces_the_unused_one<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let (phone, other) = (register(s, 0), register(s, 1));
    s.add_enrolment_code(&phone.id, &[1; 32], 1_000).expect("a code");
    s.add_enrolment_code(&other.id, &[2; 32], 1_000).expect("another device's code");
    s.add_enrolment_code(&phone.id, &[3; 32], 1_000).expect("a new code");
    assert_eq!(s.redeem_code(&[1; 32], 0, &KEY).expect("redeem"), None, "replaced");
    assert_eq!(s.redeem_code(&[2; 32], 0, &KEY).expect("redeem"), Some(other), "another device's code stays");
    assert_eq!(s.redeem_code(&[3; 32], 0, &KEY).expect("redeem"), Some(phone.clone()));
    // A used code stays used when the device gets a new one.
    s.add_enrolment_code(&phone.id, &[4; 32], 1_000).expect("a code after enrolment");
    assert_eq!(s.redeem_code(&[3; 32], 0, &OTHER_KEY).expect("redeem"), None);
    assert_eq!(s.redeem_code(&[4; 32], 0, &KEY).expect("redeem"), Some(phone));
}

pub(crate) fn an_actor_keeps_its_device_and_its_first_key<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let (phone, other) = (register(s, 0), register(s, 1));
    s.bind_key(&phone.id, &[7], &[1; 32]).expect("bind");
    s.bind_key(&phone.id, &[7], &[1; 32]).expect("the same again changes nothing");
    assert!(matches!(s.bind_key(&phone.id, &[7], &[2; 32]), Err(StorageError::KeyTaken)));
    assert!(matches!(s.bind_key(&other.id, &[7], &[1; 32]), Err(StorageError::ActorTaken)));
    assert!(matches!(s.bind_key("nobody", &[6], &[1; 32]), Err(StorageError::NoSuchDevice)));
    assert_eq!(s.actor_key(&[7]).expect("key"), Some([1; 32]), "the first key stays");
    assert_eq!(s.actor_owner(&[7]).expect("owner"), Some((phone.id.clone(), false)));

    // An actor that synced by token before keys: its first enrolment gives it its key.
    let mut bind = commit(1, Vec::new());
    bind.bind_actor = Some(vec![8]);
    s.commit(bind).expect("bound by a sync");
    assert_eq!(s.actor_key(&[8]).expect("key"), None);
    assert!(matches!(s.bind_key(&phone.id, &[8], &[3; 32]), Err(StorageError::ActorTaken)));
    s.bind_key(&other.id, &[8], &[3; 32]).expect("its key");
    assert_eq!(s.actor_key(&[8]).expect("key"), Some([3; 32]));
    assert_eq!(s.actor_key(&[9]).expect("key"), None, "an unknown actor");

    s.bind_key(&phone.id, &[9], &[4; 32]).expect("a second store of the same device");
    let counts = HashMap::from([(phone.id, 2), (other.id, 1)]);
    assert_eq!(s.enrolled_keys().expect("counts"), counts);
}

pub(crate) fn authors_name_the_device_of_each_known_actor<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let mut secretary = device(1);
    secretary.role = Role::Secretary;
    s.add_device(&secretary, Some(&[1; 32])).expect("secretary");
    let phone = register(s, 0);
    s.bind_key(&phone.id, &[7], &[1; 32]).expect("bind");
    s.bind_key(&secretary.id, &[8], &[2; 32]).expect("bind");
    s.revoke_device(&phone.id, 5, Revocation::Lost).expect("revoke");

    let authors = s.authors(&[vec![8], vec![6], vec![7], vec![8]]).expect("authors");
    let named: Vec<_> = authors
        .iter()
        .map(|a| (a.actor.clone(), a.device_id.as_str(), a.device.as_str(), a.holder.as_str(), a.role.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            (vec![8], "device-1", "phone 1", "holder 1", "secretary"),
            (vec![7], "device-0", "phone 0", "holder 0", "grid-member"),
        ],
        "in the order given, each once, unknown actors left out, a revoked device still named"
    );
    assert!(s.authors(&[]).expect("none").is_empty());
}
