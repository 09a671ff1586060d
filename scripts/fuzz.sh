#!/usr/bin/env bash
# Fuzzes every parser of outside data with cargo-fuzz (libFuzzer): README "Testing the tests",
# docs/testing.md "Fuzzing".
#
#   bash scripts/fuzz.sh [MINUTES] [TARGET...]     # default: 10 minutes, every target
#   JOBS=2 bash scripts/fuzz.sh 10                 # two targets at a time
#   SANITIZER=address bash scripts/fuzz.sh 10 proof
#
# Needs the nightly toolchain and `cargo install cargo-fuzz`. Writes the seed corpus
# (`fuzz/corpus/<target>/seed-*`, from `crates/undersign-fuzz`'s fixture and the conformance
# vectors; what the fuzzer adds beside them is kept), runs each target for MINUTES, and prints
# one summary line per target. A panic, a hang (10 s per input) or a process past 2 GiB of
# memory stops that target with its input in `fuzz/artifacts/<target>/`; keep it in
# `fuzz/regressions/<target>/` with the fix, where `cargo test -p undersign-fuzz` runs it on
# stable. Logs: `fuzz/logs/<target>.log`. Exits non-zero if any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
shift || true
all=(signature bundle_line bundle registry csv registrar_key petition schema checkpoint keys ceremony ptau identity http proof)
targets=("${@:-${all[@]}}")
jobs=${JOBS:-1}
sanitizer=${SANITIZER:-none}

cargo run -p undersign-fuzz --bin fuzz-seeds -- fuzz/corpus
(cd fuzz && cargo +nightly fuzz build -s "$sanitizer")
mkdir -p fuzz/logs

run_one() {
    local target=$1
    mkdir -p "fuzz/artifacts/$target" "fuzz/corpus/$target"
    local status=0
    (cd fuzz && cargo +nightly fuzz run -s "$sanitizer" "$target" "corpus/$target" -- \
        -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 \
        >"logs/$target.log" 2>&1) || status=$?
    local runs cov
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$target.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "fuzz/logs/$target.log" | tail -1 | grep -o '[0-9]*' || echo "?")
    if [ "$status" -eq 0 ]; then
        echo "$target: ok, ${minutes} min, ${runs} runs, coverage ${cov}"
    else
        echo "$target: FINDING (exit $status): see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        return 1
    fi
}

export -f run_one
export minutes sanitizer
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
