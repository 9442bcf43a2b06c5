#!/usr/bin/env bash
# Fuzzes every target for MINUTES each, one per core at a time, then
# prints the table of fuzz/RESULTS.md.
#
#   fuzz/run-all.sh MINUTES [--execs N] [--update-corpus] [TARGET...]
#
# Options pass on to fuzz/run.sh; naming targets runs only those. JOBS
# sets how many run at once (default: the number of cores).
set -euo pipefail
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
minutes=${1:?usage: fuzz/run-all.sh MINUTES [--execs N] [--update-corpus] [TARGET...]}
shift
options=()
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --execs) options+=("$1" "${2:?--execs needs a number}"); shift 2 ;;
        --update-corpus) options+=("$1"); shift ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz_dir/Cargo.toml" | grep -v '^postamt-fuzz$')
fi
jobs=${JOBS:-$(nproc)}

# One build of every target first, so the runs do not each wait on cargo.
(cd "$fuzz_dir" && cargo afl build --release --locked)

results=$(mktemp -d)
running=0
for target in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    "$fuzz_dir/run.sh" "$target" "$minutes" "${options[@]}" >"$results/$target" 2>"$results/$target.log" &
    running=$((running + 1))
done
wait || true

echo "| target | executions | execs/s | bitmap_cvg | edges | crashes | hangs |"
echo "|---|---|---|---|---|---|---|"
for target in "${targets[@]}"; do
    if [ -s "$results/$target" ]; then
        cat "$results/$target"
    else
        echo "| $target | failed: see below | | | | | |"
        tail -5 "$results/$target.log" | sed 's/^/    /' >&2
    fi
done
rm -rf "$results"
