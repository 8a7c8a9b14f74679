#!/usr/bin/env bash
# Checks here, without Swift, that the C side of the Swift package agrees with the Rust library:
# compiles ios/header-check/main.c against ios/Sources/GridbookFFI/GridbookFFI.h and the core records'
# ios/Sources/GridbookCoreFFI/GridbookCoreFFI.h, links it to the host
# build of gridbook-ffi and runs it (see main.c for what it proves). Build the library first
# (`cargo build -p gridbook-ffi`); this script does not, so that it never races another build.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
lib_dir="$target_dir/debug"
header_dir=ios/Sources/GridbookFFI
core_header_dir=ios/Sources/GridbookCoreFFI
swift=ios/Sources/Gridbook/Gridbook.swift
core_swift=ios/Sources/Gridbook/GridbookCore.swift

fail() {
    echo "header check FAILED: $*"
    exit 1
}
[ -f "$lib_dir/libgridbook_ffi.so" ] || fail "no $lib_dir/libgridbook_ffi.so (run: cargo build -p gridbook-ffi)"
[ -f "$header_dir/GridbookFFI.h" ] && [ -f "$core_header_dir/GridbookCoreFFI.h" ] && [ -f "$swift" ] &&
    [ -f "$core_swift" ] || fail "no generated bindings (run: scripts/bindings.sh generate)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every function the headers declare, and what the Swift files expect of the library when it loads.
grep -ohE '\b(uniffi|ffi)_gridbook_(ffi|core)_[a-z0-9_]+\(' "$header_dir/GridbookFFI.h" "$core_header_dir/GridbookCoreFFI.h" |
    sort -u | sed 's/($//; s/.*/SYMBOL(&)/' >"$work/symbols.inc"
sed -nE 's/.*\((uniffi_gridbook_(ffi|core)_checksum_[a-z0-9_]+)\(\) != ([0-9]+)\).*/CHECKSUM(\1, \3)/p' "$swift" "$core_swift" \
    >"$work/checksums.inc"
contract=$(sed -nE 's/.*let bindings_contract_version = ([0-9]+).*/\1/p' "$swift")
[ -s "$work/symbols.inc" ] && [ -s "$work/checksums.inc" ] && [ -n "$contract" ] ||
    fail "cannot read the functions from $header_dir/GridbookFFI.h or the checksums from $swift"

# Clang's nullability qualifiers mean nothing to gcc.
${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_Nullable= -D_Nonnull= -DEXPECTED_CONTRACT_VERSION="${contract}u" \
    -I "$header_dir" -I "$core_header_dir" -I "$work" ios/header-check/main.c -L "$lib_dir" -lgridbook_ffi -o "$work/header-check" ||
    fail "GridbookFFI.h or GridbookCoreFFI.h does not compile or link against $lib_dir/libgridbook_ffi.so"
LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/header-check"
