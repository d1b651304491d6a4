#!/usr/bin/env bash
# make bench: throughput and latency of verdictd on this machine, load generator included.
# Usage: tests/bench/run.sh BUILD_DIR [SECONDS]
# With VD_BENCH_BASELINE=OTHER_BUILD_DIR (and VD_BENCH_BASELINE_POLICIES, its policy directory,
# by default the same shipped ones), the CPU figures of both builds come from the same rounds.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-bench.XXXXXX)
pid= rpid= redis_pid=
stop_all() {
  for p in $pid $rpid $redis_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_all EXIT

wait_ping() {
  for _ in $(seq 100); do
    "$build/bin/verdict" --socket "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# The shipped policies plus an empty pipeline that measures the engine's own overhead.
cp -r "$root/policies" "$work/policies"
echo 'pipeline "empty" { stages = {} }' > "$work/policies/zz_bench_empty.lua"

"$build/bin/verdictd" --socket "$work/v.sock" --policies "$work/policies" --log-level warn &
pid=$!
wait_ping "$work/v.sock"

echo "verdictd bench: $(nproc) CPUs, ${seconds}s per run, load generator on the same machine"
# The daemon's CPU per decision: the figure to compare across machines (as ratios).
baseline_policies=
if [ -n "${VD_BENCH_BASELINE:-}" ]; then
  baseline_policies="$work/baseline-policies"
  cp -r "${VD_BENCH_BASELINE_POLICIES:-$root/policies}" "$baseline_policies"
  echo 'pipeline "empty" { stages = {} }' > "$baseline_policies/zz_bench_empty.lua"
fi
"$root/tests/bench/cpu.sh" "$build" "$work/policies" 3 ${VD_BENCH_BASELINE:+"$VD_BENCH_BASELINE"} \
  ${baseline_policies:+"$baseline_policies"}
# The decision log's cost: every signup decision logged against none, in many short rounds
# (the machine's speed drifts between rounds more than logging moves it; the middle of 12
# paired rounds is steadier than that of 3 long ones).
VD_BENCH_ROUNDS=${VD_BENCH_ROUNDS:-12} "$root/tests/bench/dlog.sh" "$build" "$work/policies" 2
# Replaying a decision log through a policy, offline.
"$root/tests/bench/replay.sh" "$build" "$work/policies"
echo "throughput and latency (all workers):"
for pipeline in signup login mail empty; do
  "$build/bin/verdict-bench" --socket "$work/v.sock" --pid $pid --pipeline $pipeline --conns 4 --depth 64 --seconds "$seconds"
  "$build/bin/verdict-bench" --socket "$work/v.sock" --pid $pid --pipeline $pipeline --conns 8 --depth 1 --seconds "$seconds"
done

# The same signup pipeline with its state (velocity counters, distinct counts, the lockstep
# rule's campaigns) in Redis: a private redis-server on a Unix socket, sharing the two CPUs
# with the daemon and the load.
redis-server --port 0 --unixsocket "$work/redis.sock" --save "" --appendonly no \
  --dir "$work" --loglevel warning >/dev/null &
redis_pid=$!
"$build/bin/verdictd" --socket "$work/r.sock" --policies "$work/policies" --log-level warn \
  --redis "unix:$work/redis.sock" &
rpid=$!
wait_ping "$work/r.sock"
sleep 0.5 # the workers' first connections
echo "signup with state in Redis:"
"$build/bin/verdict-bench" --socket "$work/r.sock" --pipeline signup --conns 4 --depth 64 --seconds "$seconds"
"$build/bin/verdict-bench" --socket "$work/r.sock" --pipeline signup --conns 8 --depth 1 --seconds "$seconds"
redis-cli -s "$work/redis.sock" info commandstats > "$work/redis-stats.txt"
"$build/bin/verdict" --socket "$work/r.sock" stats | /usr/bin/python3 -c '
import json, re, sys
st = json.load(sys.stdin)
r, decisions = st["state"]["redis"], st["pipelines"]["signup"]["requests"]
text = open(sys.argv[1]).read()
usec = sum(int(m) for m in re.findall(r"usec=(\d+),", text))
print("  redis: ops=%d fallbacks=%d timeouts=%d; Redis CPU per decision %.1f us" %
      (r["ops"], r["fallbacks"], r["timeouts"], usec / max(decisions, 1)))
# The lockstep rule's campaign lookup: one function call (a script on servers before Redis 7).
calls = re.search(r"cmdstat_(fcall|evalsha):calls=(\d+),usec=(\d+)", text)
if calls:
    print("  campaign lookups in Redis: %s calls, Redis CPU %.1f us each" %
          (calls.group(2), int(calls.group(3)) / max(int(calls.group(2)), 1)))
' "$work/redis-stats.txt"
kill $rpid $redis_pid; wait $rpid $redis_pid 2>/dev/null || true; rpid= redis_pid=

# Where the time goes inside the daemon: per-stage latency of the signup pipeline, from the
# daemon's own histograms (all the runs above).
"$build/bin/verdict" --socket "$work/v.sock" stats | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)["pipelines"]["signup"]
print("signup in-daemon: p50_us=%.1f p99_us=%.1f" % (p["latency_us"]["p50"], p["latency_us"]["p99"]))
for name, s in p["stages"].items():
    print("  stage %-9s runs=%-8d p50_us=%.2f p99_us=%.2f" % (name, s["runs"], s["latency_us"]["p50"], s["latency_us"]["p99"]))
'

# The embedded state store's own cost, single-threaded.
"$build/bin/verdict-state-bench"
# The anomaly models of series: time and instructions per value, memory per series.
"$root/tests/bench/anomaly.sh" "$build"
# The campaign index: a 5 KB message sketched, looked up and filed; a lockstep lookup; memory
# per campaign; then the same items as instructions (callgrind), the noise-free figure.
"$build/bin/verdict-campaign-bench"
if command -v valgrind >/dev/null; then "$root/tests/bench/campaign_instr.sh" "$build"; fi
# List files of a million entries: load time, memory, lookups.
"$build/bin/verdict-list-bench"
# State snapshots of 1.2 million entries: writing, reading, and decisions meanwhile.
"$root/tests/bench/snapshot.sh" "$build" "$work/policies" "$seconds"

# The ML plugins' own cost, single-threaded (no daemon): textclf on a 5 KB spam message,
# gbdt with 300 trees of depth 4.
models="$work/models"
mkdir -p "$models"
PYTHONPATH="$root/sdk/python" /usr/bin/python3 -m verdict_train textclf "$root/data/spam-assassin" "$models/textclf.bin" >/dev/null
/usr/bin/python3 "$root/tests/bench/gbdt_bench_model.py" "$models/gbdt.json" "$models/rows.csv"
"$build/bin/verdict-ml-bench" "$models/textclf.bin" "$root"/data/spam-assassin/spam-2/00032.*.txt \
  "$models/gbdt.json" "$models/rows.csv"

# Start and restart: process start to answering ping, and a crash to serving again under a
# supervisor that restarts like the systemd unit (packaging/systemd/verdictd.service).
kill $pid; wait $pid 2>/dev/null || true; pid=
/usr/bin/python3 "$root/tests/bench/restart_time.py" "$build" "$root/policies" "$root/data" 9

# `verdict log` reading a decision log of a million records, plain and gzip.
"$root/tests/bench/log_read.sh" "$build" "$root/policies"
