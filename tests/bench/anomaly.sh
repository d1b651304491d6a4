#!/usr/bin/env bash
# The anomaly models' cost: time per value (verdict-anomaly-bench), then instructions per value
# counted exactly by callgrind (noise-free on a shared machine): two runs feeding N1 and N2
# values to one series, the difference of their totals over N2 - N1 leaving out start and exit.
# Usage: tests/bench/anomaly.sh BUILD_DIR
set -euo pipefail
build=$1
"$build/bin/verdict-anomaly-bench"
command -v valgrind >/dev/null || { echo "anomaly: valgrind not installed, no instruction count"; exit 0; }
work=$(mktemp -d /tmp/verdict-anomaly.XXXXXX)
trap 'rm -rf "$work"' EXIT
n1=${VD_INSTR_N1:-20000} n2=${VD_INSTR_N2:-120000}
total() {
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    "$build/bin/verdict-anomaly-bench" --count "$1" 2>/dev/null
  callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
a=$(total "$n1") z=$(total "$n2")
echo "anomaly: score + update, one series through the store: $(( (z - a) / (n2 - n1) )) instructions per value"
