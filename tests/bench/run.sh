#!/usr/bin/env bash
# make bench: throughput and latency of verdictd on this machine, load generator included.
# Usage: tests/bench/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-bench.XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

# The shipped policies plus an empty pipeline that measures the engine's own overhead.
cp -r "$root/policies" "$work/policies"
echo 'pipeline "empty" { stages = {} }' > "$work/policies/zz_bench_empty.lua"

"$build/bin/verdictd" --socket "$work/v.sock" --policies "$work/policies" --log-level warn &
pid=$!
for _ in $(seq 100); do
  "$build/bin/verdict" --socket "$work/v.sock" ping >/dev/null 2>&1 && break
  sleep 0.1
done

echo "verdictd bench: $(nproc) CPUs, ${seconds}s per run, load generator on the same machine"
for pipeline in signup empty; do
  "$build/bin/verdict-bench" --socket "$work/v.sock" --pipeline $pipeline --conns 4 --depth 64 --seconds "$seconds"
  "$build/bin/verdict-bench" --socket "$work/v.sock" --pipeline $pipeline --conns 8 --depth 1 --seconds "$seconds"
done
