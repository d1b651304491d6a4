#!/usr/bin/env bash
# State snapshots (--state-snapshot): what writing and reading 1.2 million entries costs, alone
# (verdict-snapshot-bench), then inside the daemon: verdictd loads that file at start and serves
# the signup pipeline (8 connections, 1 request in flight each) once without snapshots and once
# writing one every second, so the two latency lines compare.
# Usage: tests/bench/snapshot.sh BUILD_DIR POLICY_DIR SECONDS
set -euo pipefail
build=$1 policies=$2 seconds=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-snapshot.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build/bin/verdict-snapshot-bench" "$work/state.snap"
cp "$work/state.snap" "$work/loaded.snap"

for interval in 0 1; do
  cp "$work/loaded.snap" "$work/daemon.snap"
  "$build/bin/verdictd" --socket "$work/v.sock" --policies "$policies" --data-dir "$root/data" \
    --plugin-dir "$build/plugins" --log-level warn --state-memory-mb 1024 \
    --state-snapshot "$work/daemon.snap" --state-snapshot-interval $interval &
  pid=$!
  for _ in $(seq 300); do
    "$build/bin/verdict" --socket "$work/v.sock" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  if [ $interval = 0 ]; then echo "  daemon, no snapshot while serving:"; else
    echo "  daemon, a snapshot every second while serving:"; fi
  "$build/bin/verdict-bench" --socket "$work/v.sock" --pipeline signup --conns 8 --depth 1 \
    --seconds "$seconds" | sed 's/^/    /'
  "$build/bin/verdict" --socket "$work/v.sock" stats | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)["state"]["snapshot"]
print("    loaded %d entries at start; %d snapshots written, the last: %.0f ms, %.1f MB, "
      "longest shard lock %d us" % (s["loaded"], s["writes"], s["last_seconds"] * 1000,
                                    s["last_bytes"] / 1e6, s["last_longest_lock_us"]))'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
done
