#!/usr/bin/env bash
# Builds ios/GridbookFFI.xcframework on a Mac with Xcode: the Rust static library for iPhones and
# for the simulator (Apple silicon and Intel Macs), with the C header and module map the generated
# Swift imports. Run from anywhere; the Swift package in ios/ then builds in Xcode.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" != Darwin ]; then
    echo "build-xcframework.sh: iOS libraries are built on macOS with Xcode; this is $(uname -s)" >&2
    exit 1
fi
if ! command -v xcodebuild >/dev/null 2>&1 || ! xcodebuild -version >/dev/null 2>&1; then
    echo "build-xcframework.sh: xcodebuild not found; install Xcode and run: sudo xcode-select -s /Applications/Xcode.app" >&2
    exit 1
fi

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
target_dir=${CARGO_TARGET_DIR:-target}
output=ios/GridbookFFI.xcframework

# The same minimum as Package.swift, so that the C code in the library (SQLite, aws-lc) and the
# app agree on it and the linker does not warn about objects built for a newer iOS.
export IPHONEOS_DEPLOYMENT_TARGET=15.0

rustup target add "$device" "${simulators[@]}"
for target in "$device" "${simulators[@]}"; do
    cargo build --release -p gridbook-ffi --target "$target"
done

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# An xcframework holds one library per platform, so both simulator architectures share one file.
mkdir -p "$staging/simulator"
lipo -create \
    "$target_dir/aarch64-apple-ios-sim/release/libgridbook_ffi.a" \
    "$target_dir/x86_64-apple-ios/release/libgridbook_ffi.a" \
    -output "$staging/simulator/libgridbook_ffi.a"

# In a subdirectory named for the module: Xcode copies every static xcframework's headers into one
# include directory, where two packages' top-level module.modulemap files would collide; clang
# still finds Headers/GridbookFFI/module.modulemap for `import GridbookFFI`.
mkdir -p "$staging/Headers/GridbookFFI" "$staging/Headers/GridbookCoreFFI"
cp ios/Sources/GridbookFFI/GridbookFFI.h ios/Sources/GridbookFFI/module.modulemap "$staging/Headers/GridbookFFI/"
# The C side of the core's records (GridbookCore.swift imports it), found the same way.
cp ios/Sources/GridbookCoreFFI/GridbookCoreFFI.h ios/Sources/GridbookCoreFFI/module.modulemap \
    "$staging/Headers/GridbookCoreFFI/"

rm -rf "$output"
xcodebuild -create-xcframework \
    -library "$target_dir/$device/release/libgridbook_ffi.a" -headers "$staging/Headers" \
    -library "$staging/simulator/libgridbook_ffi.a" -headers "$staging/Headers" \
    -output "$output"
echo "built $output"
