#!/usr/bin/env bash
# Instructions per campaign item, counted exactly by callgrind (noise-free, unlike time on a
# shared machine): verdict-campaign-bench files N1, then (another run) N2 items after the
# same setup; the difference of the two totals over N2 - N1 leaves the setup out.
# Usage: tests/bench/campaign_instr.sh BUILD_DIR (kinds: $KINDS, default "text fields")
set -euo pipefail
build=$1
work=$(mktemp -d /tmp/verdict-campaign-instr.XXXXXX)
trap 'rm -rf "$work"' EXIT

total() { # kind count -> instructions of the whole run
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    "$build/bin/verdict-campaign-bench" count "$1" "$2" >/dev/null 2>&1
  callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

for kind in ${KINDS:-text fields}; do
  n1=1000 n2=11000
  a=$(total "$kind" $n1) z=$(total "$kind" $n2)
  echo "campaign: $kind instructions/item=$(( (z - a) / (n2 - n1) ))"
done
