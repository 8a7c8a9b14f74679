#!/usr/bin/env bash
# The one way the Kotlin and Swift bindings are made, locally and in CI, from one bindgen run over the
# host build of gridbook-ffi (library mode reads the API from the library itself).
#
#   scripts/bindings.sh generate   write them into android/ and ios/ (commit the result)
#   scripts/bindings.sh check      fail if what is committed differs from what the Rust API generates
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
cargo build --quiet -p gridbook-ffi -p uniffi-bindgen
lib="$target_dir/debug/libgridbook_ffi.so"
[ -f "$lib" ] || lib="$target_dir/debug/libgridbook_ffi.dylib"

generate() {
    local out=$1
    rm -rf "$out" && mkdir -p "$out/kotlin" "$out/swift"
    "$target_dir/debug/uniffi-bindgen" generate --library "$lib" --language kotlin --out-dir "$out/kotlin" --no-format >/dev/null
    "$target_dir/debug/uniffi-bindgen" generate --library "$lib" --language swift --out-dir "$out/swift" --no-format >/dev/null
}

# Where each generated file lives in the tree.
place() {
    local from=$1 to=$2
    mkdir -p "$to/android/src/main/kotlin/org/gridbook/ffi" "$to/android/src/main/kotlin/org/gridbook/core" \
        "$to/ios/Sources/Gridbook" "$to/ios/Sources/GridbookFFI" "$to/ios/Sources/GridbookCoreFFI"
    cp "$from/kotlin/org/gridbook/ffi/gridbook_ffi.kt" "$to/android/src/main/kotlin/org/gridbook/ffi/"
    cp "$from/kotlin/org/gridbook/core/gridbook_core.kt" "$to/android/src/main/kotlin/org/gridbook/core/"
    # The core's records (gridbook-core's `uniffi` feature) go into the same Swift module.
    cp "$from/swift/Gridbook.swift" "$from/swift/GridbookCore.swift" "$to/ios/Sources/Gridbook/"
    cp "$from/swift/GridbookFFI.h" "$to/ios/Sources/GridbookFFI/"
    cp "$from/swift/GridbookFFI.modulemap" "$to/ios/Sources/GridbookFFI/module.modulemap"
    cp "$from/swift/GridbookCoreFFI.h" "$to/ios/Sources/GridbookCoreFFI/"
    cp "$from/swift/GridbookCoreFFI.modulemap" "$to/ios/Sources/GridbookCoreFFI/module.modulemap"
}

files=(
    android/src/main/kotlin/org/gridbook/ffi/gridbook_ffi.kt
    android/src/main/kotlin/org/gridbook/core/gridbook_core.kt
    ios/Sources/Gridbook/Gridbook.swift
    ios/Sources/Gridbook/GridbookCore.swift
    ios/Sources/GridbookFFI/GridbookFFI.h
    ios/Sources/GridbookFFI/module.modulemap
    ios/Sources/GridbookCoreFFI/GridbookCoreFFI.h
    ios/Sources/GridbookCoreFFI/module.modulemap
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
generate "$work/gen"

case "${1:-}" in
generate)
    place "$work/gen" .
    echo "bindings written: ${files[*]}"
    ;;
check)
    place "$work/gen" "$work/tree"
    stale=0
    for f in "${files[@]}"; do
        if ! diff -q "$f" "$work/tree/$f" >/dev/null 2>&1; then
            echo "out of date: $f (run scripts/bindings.sh generate and commit)" >&2
            stale=1
        fi
    done
    [ "$stale" = 0 ] && echo "bindings up to date with the Rust API"
    exit "$stale"
    ;;
*)
    echo "usage: $0 generate|check" >&2
    exit 2
    ;;
esac
