//! Any bytes as the body of a sync request, through the server's whole decoding path: zstd (with
//! the dictionary) or gzip within the inflated-size limit, the message, every document name and every automerge change. Refused
//! with a typed error or decoded — never a panic, never unbounded memory.
#![no_main]

use gridbook_core::sync::wire::{self, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // automerge's panics are contained by the code under test (`catch_unwind`), but libFuzzer's
    // hook aborts on any panic, caught or not. Silenced, a panic that escapes the call still
    // aborts (libfuzzer-sys's own guard) and is reported; one that was contained is not.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    // Small limits, so that "over the limit" paths are as reachable as the others.
    let limits = Limits { max_message_bytes: 1 << 20, max_docs: 64, max_changes: 256, max_change_bytes: 64 << 10 };
    let Some((&mode, rest)) = data.split_first() else { return };
    // A third of the inputs as raw bodies (zstd and gzip framing, checksums, bombs); the rest
    // compressed in either codec (checksum included, as devices send them), so the fuzzer spends its
    // effort on the message and the changes inside.
    let body = match mode % 3 {
        0 => rest.to_vec(),
        1 => wire::compress_as(wire::Codec::Zstd, rest),
        _ => wire::compress_as(wire::Codec::Gzip, rest),
    };
    let _ = gridbook_server::decode_request(&body, &limits);
});
