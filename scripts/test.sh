#!/usr/bin/env bash
# Every test, the one command locally and in CI: the Rust workspace (cargo test), the committed
# bindings against the Rust API, the C header the Swift side uses, and the Kotlin tests on the JVM.
set -euo pipefail
cd "$(dirname "$0")/.."
# Stop at once, with one line, if the machine lacks what the Kotlin harness or the header check needs.
source scripts/prerequisites.sh

cargo test --workspace
scripts/bindings.sh check
ios/check-header.sh
android/jvm-test/run.sh
