#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), coverage-guided, on the stable toolchain:
# the same SanitizerCoverage instrumentation cargo-fuzz asks for, without its nightly-only address
# sanitizer. A crash input lands in fuzz/artifacts/<target>/ and must become a regression test.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(server_request sync_response changes photo)
triple=$(rustc -vV | sed -n 's/^host: //p')
# --target keeps the instrumentation off build scripts and proc-macros, which cannot link it.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo build --release --bins --target "$triple" --target-dir target/sancov
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t (${seconds}s)"
    # The seeds (kept in the repository) are inputs in the current version's framing, from which a
    # fresh corpus reaches the message decoder rather than stopping at the compression framing.
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    "target/sancov/$triple/release/$t" "corpus/$t" "${seeds[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 | grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+== ERROR)' || true
done
