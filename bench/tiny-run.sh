#!/usr/bin/env bash
# CI's check that the benchmark still builds and completes: a tiny run.
set -euo pipefail
"$(dirname "$0")/run-postamt.sh" 40 1
# The checks on and off with DKIM-signed mail (verified to pass), and the
# signing cost.
exec "$(dirname "$0")/auth-checks.sh" 20 1
