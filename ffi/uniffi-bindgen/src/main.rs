//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libgridbook_ffi.so --language kotlin …`:
//! the generator at exactly the uniffi version the library was built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
