#!/usr/bin/env bash
# End-to-end benchmark of mailvault on a generated mox installation.
#
#   scripts/bench-mox.sh [ACCOUNTS] [MESSAGES] [SEED]      (default 20 5000 1)
#
# Generates the installation once (kept under $BENCH_DIR, default target/bench), then on a
# working copy: first backup, unchanged backup, a 1 % night and the backup after it, and a
# restore; reports wall time and peak memory of each step and the repository size.
# Environment: MAILVAULT (binary, default target/release/mailvault), BENCH_DIR, NIGHT_PCT (1),
# RESTORE_ARGS (extra arguments for restore, e.g. --link).
set -euo pipefail

accounts=${1:-20}
messages=${2:-5000}
seed=${3:-1}
night=${NIGHT_PCT:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-$root/target/bench}
mailvault=${MAILVAULT:-$root/target/release/mailvault}
gen=$root/target/release/examples/gen

if [[ -z ${MAILVAULT:-} ]]; then
    (cd "$root" && cargo build --release --bin mailvault --example gen)
else
    (cd "$root" && cargo build --release --example gen)
fi

pristine=$bench/mox-${accounts}x${messages}-s${seed}
if [[ ! -d $pristine/data ]]; then
    mkdir -p "$bench"
    rm -rf "$pristine.tmp"
    echo "generating $accounts accounts x $messages messages (seed $seed)"
    "$gen" --accounts "$accounts" --messages "$messages" --seed "$seed" --out "$pristine.tmp"
    mv "$pristine.tmp" "$pristine"
fi

work=$bench/run
rm -rf "$work"
mkdir -p "$work"
# Message files never change: hardlink them. Databases and bloom filters are written in place by
# the night, so they get copies of their own.
cp -al "$pristine" "$work/inst"
find "$work/inst" -type f \( -name '*.db' -o -name '*.bloom' \) -exec sh -c \
    'for f; do cp --remove-destination "$f" "$f.copy" && mv "$f.copy" "$f"; done' sh {} +

repo=$work/repo
results=()

# step NAME COMMAND...: runs it under GNU time, records wall seconds and peak RSS.
step() {
    local name=$1
    shift
    local log=$work/$name.time
    /usr/bin/time -f '%e %M' -o "$log" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
        local code=$?
        # Exit code 3 (incomplete snapshot) still measured, but said.
        if [[ $code -ne 3 ]]; then
            echo "$name failed (exit $code):" >&2
            tail -n 20 "$work/$name.err" >&2
            exit 1
        fi
        name="$name (incomplete)"
    }
    read -r secs kib <"$log"
    results+=("$(printf '%-22s %9.2f s %9.1f MiB' "$name" "$secs" "$(awk "BEGIN{print $kib/1024}")")")
}

step init "$mailvault" init "$repo"
step first-backup "$mailvault" --repo "$repo" backup "$work/inst"
step unchanged-backup "$mailvault" --repo "$repo" backup "$work/inst"
"$gen" --out "$work/inst" --mutate "$night" --seed $((seed + 1)) >"$work/night.out"
step night-backup "$mailvault" --repo "$repo" backup "$work/inst"
# shellcheck disable=SC2086
step restore "$mailvault" --repo "$repo" restore latest --target "$work/restore" ${RESTORE_ARGS:-}

echo
echo "installation: $(du -sh "$pristine" | cut -f1) ($accounts accounts x $messages messages)"
echo "night:        $(tail -n 1 "$work/night.out")"
printf '%s\n' "${results[@]}"
echo "repository:   $(du -sh "$repo" | cut -f1) (du, hardlinked files counted once)"
