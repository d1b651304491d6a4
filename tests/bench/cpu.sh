#!/usr/bin/env bash
# The daemon's CPU time per decision for the shipped pipelines and an empty one, under
# pipelined load (4 connections x 32 requests in flight), median of ROUNDS rounds that take
# the pipelines in turn. With a second build directory (and its policy directory, by default the
# same), its daemon is measured in the same rounds, alternating, and the ratios this/other are
# printed too: a change against the build before it, measured in one run.
# Usage: tests/bench/cpu.sh BUILD_DIR POLICY_DIR SECONDS [OTHER_BUILD_DIR [OTHER_POLICY_DIR]]
set -euo pipefail
build=$1 policies=$2 seconds=$3 other=${4:-} other_policies=${5:-$2}
rounds=${VD_BENCH_ROUNDS:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-cpu.XXXXXX)
. "$root/tests/bench/daemon.sh" # start_daemon; stops them and removes $work at exit

start_daemon "$build" this "$policies" --workers 1
this_pid=${pids[-1]}
if [ -n "$other" ]; then
  start_daemon "$other" other "$other_policies" --workers 1
  other_pid=${pids[-1]}
fi
for round in $(seq "$rounds"); do
  for p in empty signup login mail; do
    "$build/bin/verdict-bench" --socket "$work/this.sock" --pid "$this_pid" --pipeline $p \
      --conns 4 --depth 32 --seconds "$seconds" | sed 's/^/this /' >> "$work/runs"
    if [ -n "$other" ]; then
      "$build/bin/verdict-bench" --socket "$work/other.sock" --pid "$other_pid" --pipeline $p \
        --conns 4 --depth 32 --seconds "$seconds" | sed 's/^/other /' >> "$work/runs"
    fi
  done
done
/usr/bin/python3 - "$work/runs" "$rounds" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who = line.split()[0]
    f = dict(re.findall(r"(\S+)=(\S+)", line))
    runs.setdefault((who, f["pipeline"]), []).append(f)
def med(who, p, key):
    return statistics.median(float(f[key]) for f in runs[(who, p)])
pipes = ["empty", "signup", "login", "mail"]
print("CPU per decision of verdictd (one worker; user+system time / decisions; 4x32 in flight;"
      " median of %s rounds):" % sys.argv[2])
for p in pipes:
    print("  %-7s cpu_us/decision=%6.2f  decisions/s=%8.0f  p50_us=%7.1f  p99_us=%7.1f  x empty=%5.1f"
          % (p, med("this", p, "cpu_us/decision"), med("this", p, "decisions/s"),
             med("this", p, "p50_us"), med("this", p, "p99_us"),
             med("this", p, "cpu_us/decision") / med("this", "empty", "cpu_us/decision")))
if ("other", "empty") in runs:
    print("the other build, same rounds:")
    for p in pipes:
        print("  %-7s cpu_us/decision=%6.2f  x empty=%5.1f  this/other=%.2f"
              % (p, med("other", p, "cpu_us/decision"),
                 med("other", p, "cpu_us/decision") / med("other", "empty", "cpu_us/decision"),
                 med("this", p, "cpu_us/decision") / med("other", p, "cpu_us/decision")))
PY
