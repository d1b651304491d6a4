#!/usr/bin/env python3
"""Scores NAB-format results files the way the Numenta Anomaly Benchmark defines it.

Written from the NAB paper (Lavin and Ahmad, 2015) and its scoring description:

- the first 15% of each series (at most 750 points) is probation: its points are not scored;
- a point inside a labelled window, when detected, is worth the scaled sigmoid of its place in
  the window (1 at the window's left edge, a little above 0 at its right edge), divided by the
  value at the left edge so that an immediate detection earns exactly the TP weight; only the
  best (that is the earliest) detection of a window counts;
- a detection outside every window costs the FP weight times the scaled sigmoid of its distance
  past the previous window's right edge (in the window's width less one point), or the full
  weight with no window before it; only the previous window counts;
- a window with no detection costs the FN weight;
- one threshold per profile is chosen over the whole corpus, the one maximising the total;
- the total is normalised so that the null detector (no detection) scores 0 and the perfect
  one (every window detected at its first point, nothing else) 100.

Usage: nab_score.py RESULTS_DIR WINDOWS_JSON [--detector NAME] [--per-series]
       nab_score.py --check DATA_DIR WINDOWS_JSON   (null must score 0, perfect 100)
Results files are RESULTS_DIR/<category>/<detector>_<name>.csv with the columns
timestamp,value,anomaly_score,label.
"""
import argparse
import csv
import datetime
import json
import math
import os
import sys

PROFILES = {  # name: (TP, FP, FN) weights, as NAB's three application profiles
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
PROBATION = 0.15


def parse_time(text):
    return datetime.datetime.fromisoformat(text.strip())


def scaled_sigmoid(position):
    """-1 .. 1: positive before a window's right edge (position < 0), negative after."""
    if position > 3.0:  # as NAB's sweeper: strictly past three widths
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def point_weights(times, windows, tp_w, fp_w):
    """For each point: (window index or None, the value of detecting it)."""
    index = {t: i for i, t in enumerate(times)}
    spans = [(index[parse_time(a)], index[parse_time(b)]) for a, b in windows]
    left_edge = scaled_sigmoid(-1.0)
    out, w, prev_right, prev_width = [], 0, None, None
    for i in range(len(times)):
        if w < len(spans) and spans[w][0] <= i <= spans[w][1]:
            left, right = spans[w]
            width = right - left + 1
            value = scaled_sigmoid(-(right - i + 1) / width) * tp_w / left_edge
            out.append((w, value))
            if i == right:
                prev_right, prev_width, w = right, width, w + 1
            continue
        if prev_right is None:  # no window before it: the full weight
            out.append((None, -fp_w))
            continue
        out.append((None, scaled_sigmoid(abs(prev_right - i) / (prev_width - 1)) * fp_w))
    return out


def probation_length(n):
    return min(math.floor(PROBATION * n), PROBATION * 5000)


def scorable_points(series, profile):
    """(score, series, window or None, value) of every point past probation, corpus-wide."""
    tp_w, fp_w, _ = PROFILES[profile]
    pts, windows_seen = [], set()
    for name, (times, scores, windows) in series.items():
        start = probation_length(len(times))
        for i, (w, value) in enumerate(point_weights(times, windows, tp_w, fp_w)):
            if i < start:
                continue
            key = None if w is None else (name, w)
            if key is not None:
                windows_seen.add(key)
            pts.append((scores[i], key, value))
    return pts, windows_seen


def best_threshold(series, profile):
    """(threshold, total, null total): the sweep from the highest score down."""
    _, _, fn_w = PROFILES[profile]
    pts, windows = scorable_points(series, profile)
    pts.sort(key=lambda p: -p[0])
    best_in = {w: -fn_w for w in windows}
    null = total = -fn_w * len(windows)
    best = (1.1, total)
    i = 0
    while i < len(pts):
        threshold = pts[i][0]
        while i < len(pts) and pts[i][0] == threshold:
            _, key, value = pts[i]
            if key is None:
                total += value
            elif value > best_in[key]:
                total += value - best_in[key]
                best_in[key] = value
            i += 1
        if total > best[1]:
            best = (threshold, total)
    return best[0], best[1], null


def normalised(series, windows_total):
    out = {}
    for profile, (tp_w, _, _) in PROFILES.items():
        threshold, total, null = best_threshold(series, profile)
        perfect = tp_w * windows_total
        out[profile] = (100.0 * (total - null) / (perfect - null), threshold, total)
    return out


def read_results(path):
    times, scores = [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            times.append(parse_time(row["timestamp"]))
            scores.append(float(row["anomaly_score"]))
    return times, scores


def load_results(results_dir, windows_all, detector):
    series = {}
    for name, windows in sorted(windows_all.items()):
        category, base = name.split("/")
        path = os.path.join(results_dir, category, "%s_%s" % (detector, base))
        times, scores = read_results(path)
        series[name] = (times, scores, windows)
    return series


def check(data_dir, windows_all):
    """The null and perfect detectors, built from the data itself."""
    null, perfect = {}, {}
    for name, windows in windows_all.items():
        with open(os.path.join(data_dir, name)) as f:
            times = [parse_time(r["timestamp"]) for r in csv.DictReader(f)]
        starts = {parse_time(a) for a, _ in windows}
        null[name] = (times, [0.0] * len(times), windows)
        perfect[name] = (times, [1.0 if t in starts else 0.0 for t in times], windows)
    total = sum(len(w) for w in windows_all.values())
    ok = True
    for label, series, want in (("null", null, 0.0), ("perfect", perfect, 100.0)):
        for profile, (score, _, _) in normalised(series, total).items():
            print("%-8s %-19s %6.1f" % (label, profile, score))
            ok = ok and abs(score - want) < 1e-6
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="NAB scores of a detector's results files")
    ap.add_argument("results", help="results directory (or, with --check, the data directory)")
    ap.add_argument("windows", help="combined_windows.json")
    ap.add_argument("--detector", default="verdict")
    ap.add_argument("--check", action="store_true", help="score the null and perfect detectors")
    ap.add_argument("--per-series", action="store_true", help="each series at the standard threshold")
    args = ap.parse_args()
    with open(args.windows) as f:
        windows_all = json.load(f)
    if args.check:
        return check(args.results, windows_all)
    series = load_results(args.results, windows_all, args.detector)
    total = sum(len(w) for w in windows_all.values())
    scores = normalised(series, total)
    print("NAB scores of %s on %d series (%d windows):" % (args.detector, len(series), total))
    for profile, (score, threshold, raw) in scores.items():
        print("  %-19s %6.1f  (threshold %.4f, raw %.2f)" % (profile, score, threshold, raw))
    if args.per_series:
        threshold = scores["standard"][1]
        for name, one in series.items():
            n = len(one[2])
            _, raw, null = best_threshold_at(one, name, threshold)
            print("  %-60s windows %d raw %7.2f (null %5.1f)" % (name, n, raw, null))
    return 0


def best_threshold_at(one, name, threshold):
    """The standard profile's total of one series at a fixed threshold."""
    _, _, fn_w = PROFILES["standard"]
    pts, windows = scorable_points({name: one}, "standard")
    best_in = {w: -fn_w for w in windows}
    total = -fn_w * len(windows)
    null = total
    for score, key, value in pts:
        if score < threshold:
            continue
        if key is None:
            total += value
        elif value > best_in[key]:
            total += value - best_in[key]
            best_in[key] = value
    return threshold, total, null


if __name__ == "__main__":
    sys.exit(main())
