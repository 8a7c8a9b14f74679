#!/usr/bin/env bash
# The FFI overhead benchmark's Kotlin side, on the release build (run.sh's kotlinc setup applies).
# Compare its median with `cargo bench -p gridbook-ffi --bench overhead`. JAVA_OPTS is passed to the JVM,
# e.g. JAVA_OPTS=-XX:StartFlightRecording:settings=profile,filename=bench.jfr for a profile.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir=${CARGO_TARGET_DIR:-target}
build=android/jvm-test/build
kotlinc=${KOTLINC:-$(command -v kotlinc || echo "$build/kotlin/package/bin/kotlinc")}
kotlin_lib=$(cd "$(dirname "$(readlink -f "$kotlinc")")/../lib" && pwd)
cargo build --quiet --release -p gridbook-ffi
cp=/usr/share/java/jna.jar:$kotlin_lib/kotlinx-coroutines-core-jvm.jar
"$kotlinc" -nowarn -jvm-target 17 -cp "$cp" -d "$build/bench" \
    android/src/main/kotlin/org/gridbook/ffi/gridbook_ffi.kt android/src/main/kotlin/org/gridbook/core/gridbook_core.kt \
    android/jvm-test/bench/Bench.kt
java ${JAVA_OPTS:-} -Djava.io.tmpdir="${TMPDIR:-/tmp}" -Djna.library.path="$target_dir/release" -cp "$build/bench:$cp:$kotlin_lib/kotlin-stdlib.jar" org.gridbook.bench.BenchKt
