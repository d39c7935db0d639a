#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target listed in fuzz/Cargo.toml, each for a
# bounded time, and reports every target that found a crash or a failed
# assertion.
#
#   scripts/fuzz.sh [seconds-per-target] [name-filter ...]
#
#   scripts/fuzz.sh               # every target, 60 s each
#   scripts/fuzz.sh 10            # every target, 10 s each (smoke run)
#   scripts/fuzz.sh 60 message_   # only targets whose name contains "message_"
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer=address); on a stable
# toolchain RUSTC_BOOTSTRAP=1 unlocks them. The fuzz crate is its own workspace,
# so it builds into fuzz/target (git-ignored), not the shared cache.
#
# Before the protocol-body targets run, their corpora are seeded with real
# encodings (OpenMLS commits, Welcomes, KeyPackages...) written by an ignored
# test in mimi-proto: random bytes alone almost never form a valid MLS object,
# so without seeds the fuzzer would not get past the first MLS field.
#
# Exit status: 0 if every target ran its time without a finding, 1 otherwise.
# Crash inputs are in fuzz/artifacts/<target>/.

set -euo pipefail

seconds="${1:-60}"
shift || true
filters=("$@")

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR_FOR_TESTS="${CARGO_TARGET_DIR:-$HOME/.cache/mimi-target}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz
fi

# Targets in the order fuzz/Cargo.toml lists them.
mapfile -t all_targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^mimi-fuzz$')
targets=()
for t in "${all_targets[@]}"; do
    if [ "${#filters[@]}" -eq 0 ]; then
        targets+=("$t")
        continue
    fi
    for f in "${filters[@]}"; do
        if [[ "$t" == *"$f"* ]]; then
            targets+=("$t")
            break
        fi
    done
done
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz.sh: no target matches: ${filters[*]}" >&2
    exit 1
fi

for t in "${targets[@]}"; do
    if [[ "$t" == message_* ]]; then
        echo "fuzz.sh: seeding fuzz/corpus/message_* from mimi-proto's sample bodies" >&2
        CARGO_TARGET_DIR="$CARGO_TARGET_DIR_FOR_TESTS" MIMI_FUZZ_SEED_DIR="$root/fuzz/corpus" \
            cargo test -q -p mimi-proto --test messages_wire write_fuzz_seeds -- --ignored >/dev/null
        break
    fi
done

echo "fuzz.sh: building ${#targets[@]} target(s)" >&2
for t in "${targets[@]}"; do
    cargo fuzz build --fuzz-dir fuzz "$t"
done

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=()
start=$(date +%s)
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    echo "fuzz.sh: running $t for ${seconds}s" >&2
    if ! cargo fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 2>"$logs/$t.log"; then
        failed+=("$t")
        tail -n 40 "$logs/$t.log" >&2
    else
        grep -E '^(stat::number_of_executed_units|Done)' "$logs/$t.log" | tr '\n' ' ' >&2 || true
        echo >&2
    fi
done
elapsed=$(($(date +%s) - start))

echo "fuzz.sh: ran ${#targets[@]} target(s) in ${elapsed}s" >&2
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz.sh: FINDINGS in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz.sh: no findings" >&2
