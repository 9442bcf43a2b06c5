#!/usr/bin/env bash
# CI's check that the benchmark still builds and completes: a tiny run.
set -euo pipefail
exec "$(dirname "$0")/run-postamt.sh" 40 1
