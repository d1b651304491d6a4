#!/usr/bin/env bash
# The decision log's cost: two daemons on the shipped policies, one logging every decision to a
# file, one not, driven in alternating rounds with signup load, pipelined (4 connections x 64
# in flight) and one request at a time (8 connections x 1), all workers. Prints the medians of
# decisions/s, of the daemon's CPU per decision (its writer thread included) and of p99, the
# ratios logged/unlogged, and what the log wrote and dropped.
# Usage: tests/bench/dlog.sh BUILD_DIR POLICY_DIR SECONDS
set -euo pipefail
build=$1 policies=$2 seconds=$3
rounds=${VD_BENCH_ROUNDS:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-dlog.XXXXXX)
. "$root/tests/bench/daemon.sh" # start_daemon; stops them and removes $work at exit

start_daemon "$build" off "$policies"
off_pid=${pids[-1]}
start_daemon "$build" on "$policies" --decision-log "$work/decisions.jsonl"
on_pid=${pids[-1]}
for round in $(seq "$rounds"); do
  for load in "4 64" "8 1"; do
    set -- $load
    for who in off on; do
      pid_var=${who}_pid
      "$build/bin/verdict-bench" --socket "$work/$who.sock" --pid "${!pid_var}" \
        --pipeline signup --conns "$1" --depth "$2" --seconds "$seconds" |
        sed "s/^/$who /" >> "$work/runs"
    done
  done
done
"$build/bin/verdict" --socket "$work/on.sock" stats > "$work/stats.json"
/usr/bin/python3 - "$work/runs" "$rounds" "$work/stats.json" <<'PY'
import json, re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = dict(re.findall(r"(\S+)=(\S+)", line))
    runs.setdefault((line.split()[0], f["conns"] + "x" + f["depth"]), []).append(f)
def med(who, load, key):
    return statistics.median(float(f[key]) for f in runs[(who, load)])
log = json.load(open(sys.argv[3]))["decision_log"]
print("decision log, signup, every decision logged (all workers; median of %s rounds):"
      % sys.argv[2])
for load, what in (("4x64", "pipelined"), ("8x1", "one at a time")):
    print("  %s (%s):" % (load, what))
    for who in ("off", "on"):
        print("    log %-3s decisions/s=%8.0f  cpu_us/decision=%6.2f  p99_us=%7.1f"
              % (who, med(who, load, "decisions/s"), med(who, load, "cpu_us/decision"),
                 med(who, load, "p99_us")))
    print("    on/off: throughput %.3f, CPU per decision %.3f, p99 %.2f"
          % (med("on", load, "decisions/s") / med("off", load, "decisions/s"),
             med("on", load, "cpu_us/decision") / med("off", load, "cpu_us/decision"),
             med("on", load, "p99_us") / med("off", load, "p99_us")))
    # Each round's on next to the off run just before it: the machine's speed drifts between
    # rounds more than it does within one, so the middle of these ratios is the steadier.
    pairs = [float(a["decisions/s"]) / float(b["decisions/s"])
             for a, b in zip(runs[("on", load)], runs[("off", load)])]
    print("    on/off round by round: throughput %.3f in the middle (%.3f to %.3f)"
          % (statistics.median(pairs), min(pairs), max(pairs)))
print("  records %d (%.0f bytes each), dropped %d"
      % (log["records"], log["bytes"] / max(log["records"], 1),
         log["dropped_full"] + log["dropped_sink"]))
PY
# The same cost counted in instructions by callgrind (one worker, its writer thread included):
# the figure that does not move with what else the machine runs.
if command -v valgrind >/dev/null; then
  export PIPELINES=signup VD_INSTR_N1=500 VD_INSTR_N2=2500
  off=$(VD_INSTR_ARGS= "$root/tests/bench/instructions.sh" "$build" "$policies" | grep -o '[0-9]*$')
  on=$(VD_INSTR_ARGS="--decision-log @WORK@/decisions.jsonl" \
    "$root/tests/bench/instructions.sh" "$build" "$policies" | grep -o '[0-9]*$')
  echo "  instructions per signup decision: log off $off, on $on (x$(/usr/bin/python3 -c \
    "print('%.3f' % ($on / $off))"))"
fi
