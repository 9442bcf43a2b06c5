#!/usr/bin/env bash
# Prints the fuzz/RESULTS.md row of each TARGET from what afl keeps in
# fuzz/out/TARGET (over all its runs), without running anything.
#
#   fuzz/stats.sh TARGET...
set -euo pipefail
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
for target in "$@"; do
    stats="$fuzz_dir/out/$target/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        echo "| $target | not run yet | | | | | |"
        continue
    fi
    stat() { sed -n "s/^$1 *: //p" "$stats"; }
    echo "| \`$target\` | $(stat execs_done) | $(stat execs_per_sec | cut -d. -f1) | $(stat bitmap_cvg) | $(stat edges_found)/$(stat total_edges) | $(stat saved_crashes) | $(stat saved_hangs) |"
done
