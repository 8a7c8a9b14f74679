//! The contract of devices: one device per name, found by its token, and a revocation that stays,
//! with its reason.

use super::{Fixture, commit, device, register};
use crate::storage::{Revocation, Role, Storage, StorageError};

pub(crate) fn a_device_is_registered_once_by_name_and_found_by_its_token<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let mut secretary = device(1);
    secretary.role = Role::Secretary;
    secretary.grids = Vec::new();
    secretary.village = Some("v1".into());
    s.add_device(&secretary, Some(&[1; 32])).expect("device 1");
    let first = register(s, 0);
    let mut same_name = device(2);
    same_name.name = first.name.clone();
    assert!(matches!(s.add_device(&same_name, Some(&[2; 32])), Err(StorageError::NameTaken)));

    // Oldest first, each as it was registered.
    assert_eq!(s.devices().expect("devices"), [first.clone(), secretary.clone()]);
    assert_eq!(s.device_by_token(&[1; 32]).expect("by token"), Some(secretary));
    assert_eq!(s.device_by_token(&[0; 32]).expect("by token"), Some(first));
    assert_eq!(s.device_by_token(&[2; 32]).expect("by token"), None, "a refused device has no token");
}

pub(crate) fn a_revoked_device_stays_listed_as_revoked_and_its_actors_say_so<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let phone = register(s, 0);
    let other = register(s, 1);
    let mut bind = commit(0, Vec::new());
    bind.bind_actor = Some(vec![7]);
    s.commit(bind).expect("bind");

    s.revoke_device(&phone.name, 1_000, Revocation::Lost).expect("revoke by name");
    s.revoke_device(&phone.id, 2_000, Revocation::Lost).expect("revoke again, by id");
    s.revoke_device(&other.id, 3_000, Revocation::Retired).expect("revoke by id");
    assert!(matches!(s.revoke_device("nobody", 4_000, Revocation::Lost), Err(StorageError::NoSuchDevice)));

    let listed = s.devices().expect("devices");
    let revoked: Vec<_> = listed.iter().map(|d| (d.id.as_str(), d.revoked_at)).collect();
    assert_eq!(revoked, [("device-0", Some(1_000)), ("device-1", Some(3_000))], "the first revocation's time");
    let by_token = s.device_by_token(&[0; 32]).expect("by token").expect("still found");
    assert_eq!(by_token.revoked_at, Some(1_000), "found by its token, and seen to be revoked");
    assert_eq!(s.actor_owner(&[7]).expect("owner"), Some(("device-0".into(), true)));
}

pub(crate) fn a_revocation_keeps_its_reason_and_a_lost_device_stays_lost<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    let (left, lost, active) = (register(s, 0), register(s, 1), register(s, 2));
    s.revoke_device(&left.id, 1_000, Revocation::Retired).expect("retired");
    s.revoke_device(&lost.id, 1_000, Revocation::Lost).expect("lost");
    let reasons = |s: &F::Storage| -> Vec<_> {
        s.devices().expect("devices").into_iter().map(|d| (d.id, d.revoked_at, d.revoked_as)).collect()
    };
    assert_eq!(
        reasons(s),
        [
            (left.id.clone(), Some(1_000), Some(Revocation::Retired)),
            (lost.id.clone(), Some(1_000), Some(Revocation::Lost)),
            (active.id.clone(), None, None),
        ]
    );
    // The retired phone turned out lost: its uploads stop. A lost one never uploads again.
    s.revoke_device(&left.id, 2_000, Revocation::Lost).expect("now lost");
    s.revoke_device(&lost.id, 2_000, Revocation::Retired).expect("asked to retire");
    let by_token = s.device_by_token(&[1; 32]).expect("by token").expect("found");
    assert_eq!((by_token.revoked_at, by_token.revoked_as), (Some(1_000), Some(Revocation::Lost)));
    assert_eq!(reasons(s)[0], (left.id, Some(1_000), Some(Revocation::Lost)), "the first time, the later reason");
}
