#!/usr/bin/env bash
# The Kotlin binding tests on the JVM: the generated Kotlin (android/src/main/kotlin) and the tests
# in src/, compiled with kotlinc and run with JNA against the host build of gridbook-ffi — the same
# C ABI the Android app loads — and a real gridbook-server on a loopback port for sync.
#
# Needs what scripts/prerequisites.sh checks: java (17+), Debian's libjna-java and junit5, and kotlinc
# (KOTLINC, on PATH, or fetched from npm's kotlin-compiler into build/). Prints a last line "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/prerequisites.sh

KOTLIN_VERSION=2.4.20
target_dir=${CARGO_TARGET_DIR:-target}
build=android/jvm-test/build
mkdir -p "$build"

kotlinc=${KOTLINC:-$(command -v kotlinc || true)}
if [ -z "$kotlinc" ]; then
    if [ ! -x "$build/kotlin/package/bin/kotlinc" ]; then
        echo "fetching kotlin-compiler@$KOTLIN_VERSION from npm"
        (cd "$build" && mkdir -p kotlin && cd kotlin && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null \
            && tar xzf "kotlin-compiler-$KOTLIN_VERSION.tgz")
    fi
    kotlinc=$build/kotlin/package/bin/kotlinc
fi
kotlin_lib=$(cd "$(dirname "$(readlink -f "$kotlinc")")/../lib" && pwd)

cargo build --quiet -p gridbook-ffi -p gridbook-server

classpath="$java_lib/jna.jar:$kotlin_lib/kotlinx-coroutines-core-jvm.jar:$kotlin_lib/kotlin-test.jar:$kotlin_lib/kotlin-test-junit5.jar:$java_lib/junit-jupiter-api.jar:$java_lib/apiguardian-api.jar:$java_lib/opentest4j.jar"

# The generated file is large; compiling it is most of the harness's time, so it is compiled once.
echo "compiling the generated bindings and the tests"
rm -rf "$build/classes"
"$kotlinc" -nowarn -jvm-target 17 -cp "$classpath" -d "$build/classes" \
    android/src/main/kotlin/org/gridbook/ffi/gridbook_ffi.kt android/src/main/kotlin/org/gridbook/core/gridbook_core.kt \
    android/jvm-test/src/org/gridbook/test/*.kt

log=$build/junit.log
set +e
java -Djna.library.path="$target_dir/debug" -Dgridbook.server="$target_dir/debug/gridbook-server" \
    -jar "$java_lib/junit-platform-console-standalone.jar" \
    --class-path "$build/classes:$classpath:$kotlin_lib/kotlin-stdlib.jar" \
    --select-package org.gridbook.test --details=tree --disable-banner --disable-ansi-colors 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=$(sed -n 's/.*\[ *\([0-9]*\) tests successful.*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/.*\[ *\([0-9]*\) tests failed.*/\1/p' "$log" | tail -1)
echo "${passed:-0} passed, ${failed:-0} failed"
[ "$status" = 0 ] && [ "${failed:-1}" = 0 ] && [ "${passed:-0}" -gt 0 ]
