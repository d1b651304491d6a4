#!/usr/bin/env bash
# Writes a decision log to OUT_LOG: a release daemon logs SIGNUPS signup decisions and LOGINS
# login decisions of the load generator's events. For the benchmarks that read logs
# (log_read.sh, replay.sh).
# Usage: tests/bench/record_log.sh BUILD_DIR POLICY_DIR OUT_LOG SIGNUPS [LOGINS]
set -euo pipefail
build=$1 policies=$2 log=$3 signups=$4 logins=${5:-0}
root=$(cd "$(dirname "$0")/../.." && pwd)
sock=$(mktemp -u /tmp/verdict-record.XXXXXX.sock)
"$build/bin/verdictd" --socket "$sock" --policies "$policies" --data-dir "$root/data" \
  --plugin-dir "$build/plugins" --log-level warn --decision-log "$log" \
  --decision-log-max-mb 0 --decision-log-buffer-mb 256 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  "$build/bin/verdict" --socket "$sock" ping >/dev/null 2>&1 && break
  sleep 0.1
done
for run in "signup $signups" "login $logins"; do
  set -- $run
  [ "$2" -gt 0 ] || continue
  "$build/bin/verdict-bench" --socket "$sock" --pipeline "$1" --conns 2 --depth 32 \
    --seconds 3600 --count "$2" >/dev/null
done
