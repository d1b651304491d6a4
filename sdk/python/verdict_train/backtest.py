"""Two worked backtests for `make eval` (docs/backtesting.md):

1. Mail: the SpamAssassin test split (time-shifted) goes through the shipped mail pipeline of
   a verdictd that logs every decision; `verdict replay` then tries a junk threshold of 4 and of
   7 instead of 5 on that log, with the corpus's labels, and prints how precision, recall and
   the false-positive rate of "junk or worse" moved.
2. Signup: a day of generated signup traffic (people, and bots arriving in bursts from a few
   networks with numbered usernames and throwaway addresses), as plain events with their time;
   the shipped policy is the baseline and a candidate lowers the network-burst rule's bound
   from 20 signups an hour to 10.

Everything is deterministic: the corpus split and the generator's seed are fixed."""

import json
import os
import random
import re
import shutil
import subprocess
import tempfile

from . import corpus, evaluate

SIGNUP_SEED = 20261130


def replay(verdict, policies, data_dir, log, labels, extra=()):
    """Runs verdict replay; returns its JSON report."""
    out = os.path.join(os.path.dirname(log), "report.json")
    subprocess.run([verdict, "replay", "--policies", policies, "--data-dir", data_dir,
                    "--labels", labels, "--json", out] + list(extra) + [log],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def flagged(report, pipeline):
    """The labelled metrics of the first 'at least' prediction (every decision not allowed)."""
    section = [s for s in report["pipelines"] if s["pipeline"] == pipeline][0]
    metrics = [m for m in section["labels"]["metrics"] if m["match"] == "at_least"]
    return section, metrics[0]


def show(title, report, pipeline):
    section, m = flagged(report, pipeline)
    print("%s: %d decisions, %d changed action; flagged = %s" %
          (title, section["decisions"], section["changed"], m["prediction"]))
    print("  %-10s %10s %10s %10s" % ("", "precision", "recall", "FPR"))
    for side in ("before", "after"):
        r = m[side]
        print("  %-10s %10.4f %10.4f %10.4f" % (side, r["precision"] or 0, r["recall"] or 0,
                                                r["fpr"] or 0))
    moved = [(t["before"], t["after"], t["count"]) for t in section["transitions"]
             if t["before"] != t["after"]]
    if moved:
        print("  " + ", ".join("%s->%s: %d" % t for t in moved))


def mail(verdictd, verdict, policies, data_dir, work):
    corpus_dir = os.path.join(data_dir, "spam-assassin")
    _, test = corpus.time_shifted(corpus_dir)
    paths = [p for p, _ in test]
    log = os.path.join(work, "mail.jsonl")
    results = evaluate.with_daemon(verdictd, policies, data_dir,
                                   lambda s: evaluate.replay(s, paths),
                                   args=["--decision-log", log])
    labels = os.path.join(work, "mail-labels.csv")
    with open(labels, "w") as f:
        for r, (_, label) in zip(results, test):
            f.write("%s,%s\n" % (r["id"], "spam" if label else "ham"))
    print("Backtest 1: the mail pipeline's junk threshold, on the %d messages of the "
          "SpamAssassin test split (%d spam), recorded by verdictd" %
          (len(test), sum(label for _, label in test)))
    for bound in (4, 7):
        cand = os.path.join(work, "mail-junk-%d" % bound)
        shutil.copytree(policies, cand)
        path = os.path.join(cand, "mail.lua")
        text = open(path).read()
        new, n = re.subn(r"actions = \{ junk = 5,", "actions = { junk = %d," % bound, text)
        assert n == 1, "mail.lua: the junk threshold was not found"
        open(path, "w").write(new)
        show("junk at %d instead of 5" % bound, replay(verdict, cand, data_dir, log, labels),
             "mail")


def signup_events(path, labels_path):
    """A day of signups: 6,000 people and 40 bot waves of 20 to 60 signups within minutes."""
    rng = random.Random(SIGNUP_SEED)
    start = 1764460800  # 2025-11-30 00:00 UTC
    events = []
    domains = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.de"]
    agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/132.0",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
              "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"]
    for i in range(6000):
        name = "%s.%s%d" % (rng.choice(["anna", "ben", "chloe", "dev", "emma", "femi", "gus"]),
                            rng.choice(["smith", "garcia", "ng", "kowalski", "okafor"]),
                            rng.randrange(100))
        events.append(({"email": "%s@%s" % (name, rng.choice(domains)), "username": name + str(i),
                        "ip": "%d.%d.%d.%d" % (rng.choice([24, 73, 81, 92, 109, 151, 188]),
                                               rng.randrange(256), rng.randrange(256),
                                               rng.randrange(1, 255)),
                        "user_agent": rng.choice(agents), "form_ms": rng.randrange(4000, 60000),
                        "ts": start + rng.randrange(86400)}, "good"))
    for wave in range(40):
        net = "%d.%d.%d" % (rng.choice([45, 89, 185, 193]), rng.randrange(256), rng.randrange(256))
        t0 = start + rng.randrange(86000)
        for k in range(rng.randrange(20, 61)):
            events.append(({"email": "user%d%d@%s" % (wave, k, rng.choice(domains)),
                            "username": "user%05d" % rng.randrange(100000),
                            "ip": "%s.%d" % (net, rng.randrange(1, 255)),
                            "user_agent": rng.choice(agents), "form_ms": rng.randrange(900, 3000),
                            "ts": t0 + k * rng.randrange(5, 40)}, "bad"))
    events.sort(key=lambda e: e[0]["ts"])
    with open(path, "w") as f, open(labels_path, "w") as lab:
        for ev, label in events:
            f.write(json.dumps(ev) + "\n")
            lab.write("%s,%s\n" % (ev["username"], label))
    return len(events), sum(label == "bad" for _, label in events)


def signup(verdict, policies, data_dir, work):
    log = os.path.join(work, "signups.jsonl")
    labels = os.path.join(work, "signup-labels.csv")
    n, bad = signup_events(log, labels)
    cand = os.path.join(work, "signup-burst-10")
    shutil.copytree(policies, cand)
    path = os.path.join(cand, "signup.lua")
    text = open(path).read()
    new, count = re.subn(r"return hour > 20, hour, prefix, minute",
                         "return hour > 10, hour, prefix, minute", text)
    assert count == 1, "signup.lua: the network burst bound was not found"
    open(path, "w").write(new)
    print()
    print("Backtest 2: the network burst bound at 10 signups an hour instead of 20, on a "
          "generated day of %d signups (%d from bot waves), as plain events in event time" %
          (n, bad))
    report = replay(verdict, cand, data_dir, log, labels,
                    ["--baseline", policies, "--pipeline", "signup", "--time-field", "ts",
                     "--label-field", "username"])
    show("burst bound 10 instead of 20", report, "signup")


def run_all(verdictd, verdict, policies, data_dir):
    work = tempfile.mkdtemp(prefix="verdict-backtest-")
    try:
        mail(verdictd, verdict, policies, data_dir, work)
        signup(verdict, policies, data_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
