//! The device's decoding of what a server (or whatever answers in its place) sends back, and of
//! what a peer sends (its introduction, its offer, its changes with their proofs, a certificate):
//! bounded, never a panic, whatever the bytes.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use gridbook_core::sync::wire::{
    Certificate, Limits, PeerChanges, PeerIntro, PeerOffer, SyncResponse, decompress,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_message_bytes: 1 << 20, ..Limits::default() };
    let _ = SyncResponse::decode(data, &limits);
    let _ = PeerIntro::decode(data, &limits);
    let _ = PeerOffer::decode(data, &limits);
    let _ = PeerChanges::decode(data, &limits);
    // Signed here, so that the fuzzer's bytes reach the certificate's decoder behind the signature.
    let server = SigningKey::from_bytes(&[7; 32]);
    let signed = [data, &server.sign(data).to_bytes()].concat();
    let _ = Certificate::verify(&signed, &server.verifying_key(), 0);
    if let Ok(inflated) = decompress(data, &limits) {
        let _ = SyncResponse::decode(&inflated, &limits);
        let _ = PeerChanges::decode(&inflated, &limits);
    }
});
