//! Any bytes offered as a photo: must come back as an image or a typed error, never a panic or an
//! allocation the limits did not allow.
#![no_main]

use gridbook_core::{PhotoOptions, prepare_photo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = PhotoOptions { max_long_edge: 64, max_input_pixels: 4_000_000, ..PhotoOptions::default() };
    let _ = prepare_photo(data, &options);
});
