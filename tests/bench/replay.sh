#!/usr/bin/env bash
# verdict replay's speed: a daemon logs RECORDS signup decisions (the load generator's events),
# then the shipped policy replays the log with one thread per CPU and with one thread.
# Usage: tests/bench/replay.sh BUILD_DIR POLICY_DIR [RECORDS]
set -euo pipefail
build=$1 policies=$2 records=${3:-200000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-replay.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$root/tests/bench/record_log.sh" "$build" "$policies" "$work/decisions.jsonl" "$records"
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
