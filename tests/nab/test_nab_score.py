#!/usr/bin/env python3
"""The NAB scorer on a hand-made corpus whose scores are worked out here from NAB's definitions:
the null detector scores 0, the perfect one 100, and a detection in the middle of a window with
a false positive far after it scores what the scaled sigmoid and the profiles' weights say."""
import datetime
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
N, LEFT, RIGHT = 1000, 400, 499  # one series, one window of 100 points (probation: 150)


def stamp(i):
    t = datetime.datetime(2014, 4, 1) + datetime.timedelta(minutes=5 * i)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def write_corpus(root, scores):
    os.makedirs(os.path.join(root, "results", "cat"))
    with open(os.path.join(root, "results", "cat", "verdict_s.csv"), "w") as f:
        f.write("timestamp,value,anomaly_score,label\n")
        for i in range(N):
            f.write("%s,1,%s,%d\n" % (stamp(i), scores.get(i, 0.0), LEFT <= i <= RIGHT))
    windows = {"cat/s.csv": [[stamp(LEFT) + ".000000", stamp(RIGHT) + ".000000"]]}
    path = os.path.join(root, "windows.json")
    with open(path, "w") as f:
        json.dump(windows, f)
    return path


def scores_of(scores):
    with tempfile.TemporaryDirectory() as root:
        windows = write_corpus(root, scores)
        out = subprocess.run([sys.executable, os.path.join(HERE, "nab_score.py"),
                              os.path.join(root, "results"), windows],
                             check=True, capture_output=True, text=True).stdout
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines()[1:]}


def sigmoid_value(position):
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def main():
    failures = 0

    def expect(label, got, want):
        nonlocal failures
        ok = abs(got - want) < 0.05
        failures += not ok
        print("%-40s %7.2f (expected %.2f)%s" % (label, got, want, "" if ok else "  FAIL"))

    for profile, value in scores_of({}).items():
        expect("null, " + profile, value, 0.0)
    for profile, value in scores_of({LEFT: 1.0}).items():
        expect("perfect, " + profile, value, 100.0)
    # detected at point 450 (score 0.9), a false positive at 800, three window widths past it
    # (score 1.0): the best threshold keeps both
    tp = sigmoid_value(-(RIGHT - 450 + 1) / (RIGHT - LEFT + 1)) / sigmoid_value(-1.0)
    got = scores_of({450: 0.9, 800: 1.0})
    for profile, fp_w, fn_w in (("standard", 0.11, 1.0), ("reward_low_FP_rate", 0.22, 1.0),
                                ("reward_low_FN_rate", 0.11, 2.0)):
        raw = tp - fp_w
        expect("middle and far FP, " + profile, got[profile], 100 * (raw + fn_w) / (1 + fn_w))
    # a false positive just after the window costs less than a far one
    near = sigmoid_value((510 - RIGHT) / (RIGHT - LEFT))
    got = scores_of({450: 1.0, 510: 1.0})
    expect("middle and near FP, standard", got["standard"], 100 * (tp + 0.11 * near + 1) / 2)
    failures += check_runner()
    return 1 if failures else 0


def check_runner():
    """nab-run (NAB_RUN) on a daily rhythm with one spike inside the window: results files in
    NAB's format, one row per value, and the spike found."""
    runner = os.environ.get("NAB_RUN")
    if not runner:
        return 0
    with tempfile.TemporaryDirectory() as root:
        windows = write_corpus(root, {})
        os.makedirs(os.path.join(root, "data", "cat"))
        with open(os.path.join(root, "data", "cat", "s.csv"), "w") as f:
            f.write("timestamp,value\n")
            for i in range(N):
                v = 50 + 20 * math.sin(2 * math.pi * i / 288) + (i * 7919 % 13) / 13.0
                f.write("%s,%.4f\n" % (stamp(i), v + (80 if i == 450 else 0)))
        subprocess.run([runner, os.path.join(root, "data"), windows, os.path.join(root, "out")],
                       check=True, capture_output=True)
        with open(os.path.join(root, "out", "cat", "verdict_s.csv")) as f:
            rows = f.read().splitlines()
        ok = rows[0] == "timestamp,value,anomaly_score,label" and len(rows) == N + 1
        ok = ok and rows[451].split(",")[3] == "1" and float(rows[451].split(",")[2]) >= 0.5
        print("nab-run on a spike in a window: %s" % ("ok" if ok else "FAIL"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
