#!/usr/bin/env bash
# What the test command needs that cargo does not fetch itself. Sourced by scripts/test.sh before anything is
# built, so that a fresh machine stops at once with one line naming what is missing and how to install it,
# instead of failing minutes later in kotlinc's classpath errors.
#
# GRIDBOOK_JAVA_LIB overrides where the Debian jars are looked for (android/jvm-test/run.sh reads it too).

java_lib=${GRIDBOOK_JAVA_LIB:-/usr/share/java}
missing_packages=()
missing_other=()

command -v cc >/dev/null || missing_packages+=(gcc)
# SQLCipher (the stores' encryption) is built against the system's OpenSSL.
[ -f /usr/include/openssl/evp.h ] || [ -n "${OPENSSL_DIR:-}" ] || missing_packages+=(libssl-dev)
command -v java >/dev/null || missing_packages+=(openjdk-17-jre-headless)
[ -f "$java_lib/jna.jar" ] || missing_packages+=(libjna-java)
[ -f "$java_lib/junit-platform-console-standalone.jar" ] || missing_packages+=(junit5)
# kotlinc comes from npm's kotlin-compiler unless one is on PATH (or named by KOTLINC).
if [ -z "${KOTLINC:-}" ] && ! command -v kotlinc >/dev/null && ! command -v npm >/dev/null &&
    ! [ -x android/jvm-test/build/kotlin/package/bin/kotlinc ]; then
    missing_other+=("npm (Node.js, https://nodejs.org; on Debian: apt-get install npm)")
fi

if [ ${#missing_packages[@]} -gt 0 ] || [ ${#missing_other[@]} -gt 0 ]; then
    line="the tests cannot run here: missing"
    [ ${#missing_packages[@]} -gt 0 ] &&
        line="$line ${missing_packages[*]} (install: sudo apt-get install ${missing_packages[*]})"
    [ ${#missing_other[@]} -gt 0 ] && line="$line${missing_packages[*]:+;} ${missing_other[*]}"
    echo "$line" >&2
    exit 1
fi
