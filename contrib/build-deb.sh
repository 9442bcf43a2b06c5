#!/usr/bin/env bash
# Builds the Debian package of postamt and prints its path on the last
# line: the release binary (the same build as bench/run-postamt.sh's, so
# in CI it is already there), the manual pages written from the clap
# definition, then cargo-deb without a build of its own. Arguments go to
# cargo deb: contrib/test-package.sh passes --fast (lighter compression,
# 7 s instead of 26).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}

command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --version 3.8.0 --quiet
# The same packages as the benchmark's build: Cargo unifies features over
# the packages named, and a different set would rebuild dependencies.
cargo build --release --locked --quiet -p postamt -p postamt-bench
rm -rf "$target/release/man"
"$target/release/postamt" manpages "$target/release/man" >&2
# Debian policy wants them gzipped; cargo-deb does that only for files
# outside the target directory.
gzip -9n "$target"/release/man/*.1
# --strip: the release profile keeps line tables for perf (bench/), which
# the package does not need (100 MB with them, 15 without).
cargo deb -p postamt --no-build --strip --locked --quiet --output "$target/debian/" "$@" >&2
ls -t "$target"/debian/postamt_*.deb | head -n 1
