#!/usr/bin/env bash
# Runs the chaos smoke test (test/jepsen-like/smoke.test.ts) N times in a row and stops at the
# first failure: a check that a rare interleaving does not slip through one lucky run.
# Usage: bash scripts/repeat-smoke.sh [N]   (default 20)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
for ((i = 1; i <= runs; i++)); do
  start=$(date +%s)
  if ! npx vitest run test/jepsen-like/smoke.test.ts >"/tmp/tstan-smoke-$i.log" 2>&1; then
    echo "run $i of $runs failed; log: /tmp/tstan-smoke-$i.log"
    exit 1
  fi
  echo "run $i of $runs passed in $(( $(date +%s) - start )) s"
done
echo "$runs of $runs runs passed"
