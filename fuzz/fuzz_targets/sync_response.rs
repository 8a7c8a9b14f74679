//! The device's decoding of what a server (or whatever answers in its place) sends back, and of a
//! peer's hello: bounded, never a panic, whatever the bytes.
#![no_main]

use gridbook_core::sync::wire::{Limits, PeerHello, SyncResponse, decompress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_message_bytes: 1 << 20, ..Limits::default() };
    let _ = SyncResponse::decode(data, &limits);
    let _ = PeerHello::decode(data, &limits);
    if let Ok(inflated) = decompress(data, &limits) {
        let _ = SyncResponse::decode(&inflated, &limits);
    }
});
