#!/usr/bin/env bash
# Instructions per decision, counted exactly by callgrind (noise-free, unlike CPU time on a
# shared machine): a one-worker daemon under valgrind answers N1, then (another run) N2
# decisions of a pipeline; the difference of the two totals over N2 - N1 leaves out start and
# exit. With a second build directory, its figures come from the same policies.
# Usage: tests/bench/instructions.sh BUILD_DIR POLICY_DIR [OTHER_BUILD_DIR] (pipelines: $PIPELINES;
# more options for verdictd: $VD_INSTR_ARGS, where @WORK@ names a scratch directory)
set -euo pipefail
build=$1 policies=$2 other=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
pipelines=${PIPELINES:-empty signup login mail}
n1=${VD_INSTR_N1:-2000} n2=${VD_INSTR_N2:-12000}
extra=${VD_INSTR_ARGS:-}
work=$(mktemp -d /tmp/verdict-instr.XXXXXX)
trap 'rm -rf "$work"' EXIT

total() { # build pipeline count -> instructions of the whole run
  local sock="$work/v.sock" out="$work/cg.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$1/bin/verdictd" --socket "$sock" \
    --policies "$policies" --data-dir "$root/data" --plugin-dir "$1/plugins" --workers 1 \
    --log-level warn ${extra//@WORK@/$work} 2>/dev/null &
  local pid=$!
  for _ in $(seq 600); do "$build/bin/verdict" --socket "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  "$build/bin/verdict-bench" --socket "$sock" --pipeline "$2" --conns 1 --depth 16 \
    --seconds 600 --count "$3" >/dev/null
  kill -TERM $pid
  wait $pid || true
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

for p in $pipelines; do
  for b in "$build" $other; do
    a=$(total "$b" "$p" "$n1") z=$(total "$b" "$p" "$n2")
    echo "$p $b instructions/decision=$(( (z - a) / (n2 - n1) ))"
  done
done
