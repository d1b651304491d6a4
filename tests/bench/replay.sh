#!/usr/bin/env bash
# verdict replay's speed: a daemon logs RECORDS signup decisions (the load generator's events),
# then the shipped policy replays the log with one thread per CPU and with one thread.
# Usage: tests/bench/replay.sh BUILD_DIR POLICY_DIR [RECORDS]
set -euo pipefail
build=$1 policies=$2 records=${3:-200000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-replay.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
"$build/bin/verdictd" --socket "$work/v.sock" --policies "$policies" --data-dir "$root/data" \
  --plugin-dir "$build/plugins" --log-level warn --decision-log "$work/decisions.jsonl" \
  --decision-log-max-mb 0 &
pid=$!
for _ in $(seq 100); do
  "$build/bin/verdict" --socket "$work/v.sock" ping >/dev/null 2>&1 && break
  sleep 0.1
done
"$build/bin/verdict-bench" --socket "$work/v.sock" --pipeline signup --conns 2 --depth 32 \
  --count "$records" --seconds 600 >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
bytes=$(stat -c %s "$work/decisions.jsonl")
echo "verdict replay: $records signup records, $((bytes / records)) bytes each, the shipped policy:"
for threads in 0 1; do
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$build/bin/verdict" replay --policies "$policies" \
    --data-dir "$root/data" --plugin-dir "$build/plugins" --threads "$threads" \
    "$work/decisions.jsonl" >/dev/null 2>&1
  read -r wall user sys < "$work/time"
  /usr/bin/python3 -c "
import sys
records, wall, cpu, threads = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]) + float(sys.argv[4]), sys.argv[5]
print('  threads %-9s %6.2f s  %8.0f decisions/s  cpu %5.2f us/decision' % (
    'one/CPU' if threads == '0' else threads, wall, records / wall, cpu * 1e6 / records))
" "$records" "$wall" "$user" "$sys" "$threads"
done
