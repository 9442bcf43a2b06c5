#!/usr/bin/env bash
# Runs one fuzz target under afl.rs on stable Rust, then keeps what it found.
#
#   fuzz/run.sh TARGET [MINUTES] [--execs N] [--update-corpus]
#
# - Builds the target instrumented (`cargo afl build --release`) and fuzzs
#   it from fuzz/corpus/TARGET with the target's dictionary from
#   fuzz/dict/, for MINUTES (default 10) or until N executions, whichever
#   comes first. A second run of the same target resumes where the last
#   one stopped (the state is in fuzz/out/TARGET, which git ignores).
# - Every crash and hang is minimised (`cargo afl tmin`) and copied into
#   fuzz/regressions/TARGET/, one per place a panic comes from, where
#   `cargo test` replays it: the test fails until the bug is fixed.
# - --update-corpus folds the inputs afl found into fuzz/corpus/TARGET,
#   minimised to the smallest set with the same coverage (afl-cmin), so
#   `cargo test` replays them too.
# - Last, it prints the run's figures as a line for fuzz/RESULTS.md.
#
# Needs cargo-afl: `cargo install cargo-afl --locked` (it builds AFL++ on
# first use; make, gcc and python3 are all it needs).
set -euo pipefail

usage() {
    echo "usage: fuzz/run.sh TARGET [MINUTES] [--execs N] [--update-corpus]" >&2
    echo "targets: $(targets | tr '\n' ' ')" >&2
    exit 2
}

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
targets() { sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz_dir/Cargo.toml" | grep -v '^postamt-fuzz$'; }

# The dictionary of each target: the grammar its input is written in.
dictionary() {
    case "$1" in
        smtp_* | xtext) echo smtp ;;
        imap_*) echo imap ;;
        pop3_*) echo pop3 ;;
        imf_* | auth_results | dsn | tls_report) echo mime ;;
        auth_records | mta_sts | srs) echo auth ;;
        sasl) echo smtp ;;
        deflate) echo imap ;;
        config) echo config ;;
        sieve_*) echo sieve ;;
        managesieve_*) echo managesieve ;;
        *) echo "fuzz/run.sh: no dictionary for $1; add it to dictionary() in fuzz/run.sh" >&2; exit 2 ;;
    esac
}

target=${1:-}
[ -n "$target" ] || usage
shift
minutes=10
execs=
update_corpus=
while [ $# -gt 0 ]; do
    case "$1" in
        --execs) execs=${2:?--execs needs a number}; shift 2 ;;
        --update-corpus) update_corpus=1; shift ;;
        [0-9]*) minutes=$1; shift ;;
        *) usage ;;
    esac
done
targets | grep -qx "$target" || { echo "fuzz/run.sh: no target $target" >&2; usage; }
if ! cargo afl --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-afl is missing; install it with: cargo install cargo-afl --locked" >&2
    exit 1
fi

cd "$fuzz_dir"
cargo afl build --release --locked --bin "$target" >&2
binary=target/release/$target
out=out/$target
mkdir -p "$out"

# No UI (a log instead), resume an earlier run, run beside other
# instances (run-all.sh starts one per core), and do not insist on a CPU
# frequency governor or a core_pattern that a container cannot change.
export AFL_NO_UI=1 AFL_AUTORESUME=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# -m: an input that makes the target take more than 2 GiB of address
# space is a crash (the codecs bound what they hold; this catches the
# bound that is missing).
limits=(-m 2048 -V $((minutes * 60)))
[ -n "$execs" ] && limits+=(-E "$execs")
echo "fuzzing $target for $minutes min${execs:+ or $execs executions}; log in fuzz/$out/afl.log" >&2
cargo afl fuzz -i "corpus/$target" -o "$out" -x "dict/$(dictionary "$target").dict" "${limits[@]}" \
    -- "$binary" >"$out/afl.log" 2>&1 || {
    echo "fuzz/run.sh: afl-fuzz failed; the end of fuzz/$out/afl.log:" >&2
    tail -20 "$out/afl.log" >&2
    exit 1
}

# Crashes and hangs become regression inputs, each as small as afl can
# make it while it still fails the same way, and one per bug: a crash is
# known by where it panicked, a hang by its content.
found=0
mkdir -p "regressions/$target"
for input in "$out"/default/crashes/id:* "$out"/default/hangs/id:*; do
    [ -f "$input" ] || continue
    small=$(mktemp)
    cargo afl tmin -i "$input" -o "$small" -- "$binary" >/dev/null 2>&1 || cp "$input" "$small"
    kind=$(basename "$(dirname "$input")")
    where=$("$binary" <"$small" 2>&1 | grep -m1 -o 'panicked at [^ ]*' || true)
    if [ "$kind" = crashes ] && [ -n "$where" ]; then
        name=crash-$(echo "$where" | sha1sum | cut -c1-12)
    else
        name=${kind%s}-$(sha1sum "$small" | cut -c1-12)
    fi
    if [ -e "regressions/$target/$name" ]; then
        rm -f "$small"
    else
        mv "$small" "regressions/$target/$name"
        echo "regressions/$target/$name: ${where:-$kind}" >&2
        found=$((found + 1))
    fi
done
rmdir "regressions/$target" 2>/dev/null || true

if [ -n "$update_corpus" ]; then
    # afl-cmin keeps the smallest set of inputs with the coverage of all.
    afl_bin=$(dirname "$(find "${XDG_DATA_HOME:-$HOME/.local/share}/afl.rs" -name afl-cmin.bash | sort | tail -1)")
    merged=$(mktemp -d)
    cp "corpus/$target"/* "$out"/default/queue/id:* "$merged"/ 2>/dev/null || true
    minimal=$(mktemp -d)
    rmdir "$minimal"
    AFL_PATH=$afl_bin "$afl_bin/afl-cmin.bash" -i "$merged" -o "$minimal" -- "$binary" >/dev/null
    rm -rf "$merged"
    for input in "$minimal"/*; do
        cp "$input" "corpus/$target/$(sha1sum "$input" | cut -c1-16)"
    done
    rm -rf "$minimal"
    echo "corpus/$target: $(find "corpus/$target" -type f | wc -l) inputs" >&2
fi

echo "new regression inputs: $found (in fuzz/regressions/$target)" >&2
# The figures afl keeps for this target (over all its runs).
"$fuzz_dir/stats.sh" "$target"
