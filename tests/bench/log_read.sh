#!/usr/bin/env bash
# How fast `verdict log` reads: a decision log of RECORDS decisions that the daemon made on the
# shipped policies (70% signup, 30% login, from verdict-bench), then `verdict log` over it in
# each mode, and over a gzip copy. Prints MB/s and records/s from the command's CPU time (user
# + system, which other load on the machine does not inflate) and from the wall clock, the
# best of 3 runs each, output to /dev/null. The readable view (jansson and rendering for every
# record shown) is timed on the first 100,000 records.
# Usage: tests/bench/log_read.sh BUILD_DIR POLICY_DIR [RECORDS]
set -euo pipefail
build=$1 policies=$2 records=${3:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/verdict-logread.XXXXXX)
trap 'rm -rf "$work"' EXIT

log=$work/decisions.jsonl
signups=$((records * 7 / 10))
"$root/tests/bench/record_log.sh" "$build" "$policies" "$log" "$signups" $((records - signups))
head -n 100000 "$log" > "$work/first.jsonl"
gzip -1 -c "$log" > "$log.gz"

/usr/bin/python3 - "$build/bin/verdict" "$work" <<'PY'
import os, subprocess, sys, time
verdict, work = sys.argv[1], sys.argv[2]
log = os.path.join(work, "decisions.jsonl")
first = os.path.join(work, "first.jsonl")

def lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)

def run(args):
    """Best CPU and wall seconds of 3 runs."""
    cpu = wall = float("inf")
    for _ in range(3):
        with open(os.devnull, "w") as null:
            t0 = time.monotonic()
            p = subprocess.Popen([verdict, "log"] + args, stdout=null)
            _, status, ru = os.wait4(p.pid, 0)
            wall = min(wall, time.monotonic() - t0)
        assert os.waitstatus_to_exitcode(status) == 0, args
        cpu = min(cpu, ru.ru_utime + ru.ru_stime)
    return cpu, wall

n, size = lines(log), os.path.getsize(log)
n_first, size_first = lines(first), os.path.getsize(first)
print("verdict log: %d records, %.0f MB (%.0f bytes each); best of 3, CPU time (wall):"
      % (n, size / 1e6, size / n))
for title, args, recs, mb in [
        ("--count", ["--count", log], n, size),
        ("--json --rule disposable_email", ["--json", "--rule", "disposable_email", log], n, size),
        ("--json (every line out)", ["--json", log], n, size),
        ("--count on the .gz (%.0f MB)" % (os.path.getsize(log + ".gz") / 1e6),
         ["--count", log + ".gz"], n, size),
        ("readable view, 100,000 records", [first], n_first, size_first)]:
    cpu, wall = run(args)
    print("  %-36s %7.0f MB/s %9.0f records/s  (wall: %6.0f MB/s %9.0f records/s)"
          % (title, mb / 1e6 / cpu, recs / cpu, mb / 1e6 / wall, recs / wall))
PY
