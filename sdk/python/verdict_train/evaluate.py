"""Replays the test split through a running verdictd's mail pipeline and reports, for each
model alone and for the whole pipeline, ROC-AUC, spam recall at FPR <= 0.1% and <= 0.5%,
FPR at 95% recall, and per-message latency."""

import socket
import time

import msgpack
import numpy as np

from . import corpus, mail_event, metrics


def replay(sock_path, paths, depth=32, pipeline="mail"):
    """Decides every message; returns the results in order. Keeps `depth` requests in flight."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    unpacker = msgpack.Unpacker(raw=False)
    results, sent, done = {}, 0, 0
    while done < len(paths):
        while sent < len(paths) and sent - done < depth:
            ev = mail_event.event(corpus.read(paths[sent]))
            s.sendall(msgpack.packb([0, sent, "decide", [pipeline, ev]], use_bin_type=True))
            sent += 1
        data = s.recv(1 << 20)
        if not data:
            raise RuntimeError("verdictd closed the connection")
        unpacker.feed(data)
        for _, msgid, err, res in unpacker:
            if err:
                raise RuntimeError("decide failed: %r" % (err,))
            results[msgid] = res
            done += 1
    s.close()
    return [results[i] for i in range(len(paths))]


def run(sock_path, data_dir, split="time"):
    _, test = (corpus.time_shifted if split == "time" else corpus.random_split)(data_dir)
    paths, labels = [p for p, _ in test], np.array([label for _, label in test])
    t0 = time.time()
    results = replay(sock_path, paths)
    wall = time.time() - t0
    columns = {"pipeline (total score)": [r["score"] for r in results]}
    for feature, name in (("textclf_p", "textclf alone"), ("gbdt_p", "gbdt alone")):
        values = [r["features"].get(feature) for r in results]
        if all(v is not None for v in values):
            columns[name] = values
    reports = [metrics.report(name, labels, scores) for name, scores in columns.items()]
    elapsed = np.array([r["elapsed_us"] for r in results])
    return reports, {"messages": len(paths), "spam": int(labels.sum()), "wall_s": wall,
                     "elapsed_us_p50": float(np.median(elapsed)),
                     "elapsed_us_p99": float(np.percentile(elapsed, 99))}


def print_report(reports, info):
    print("mail pipeline on the %s split: %d messages (%d spam), replayed in %.1f s" %
          (info.get("split", "time-shifted"), info["messages"], info["spam"], info["wall_s"]))
    print("%-24s %8s %14s %14s %14s" % ("", "ROC-AUC", "recall@FPR.1%", "recall@FPR.5%",
                                        "FPR@recall95%"))
    for r in reports:
        print("%-24s %8.4f %14.3f %14.3f %14.4f" % (r["name"], r["auc"], r["recall_fpr_0.1%"],
                                                     r["recall_fpr_0.5%"], r["fpr_recall_95%"]))
    print("in-daemon time per message: p50 %.0f us, p99 %.0f us" % (info["elapsed_us_p50"],
                                                                    info["elapsed_us_p99"]))


def with_daemon(verdictd, policies, data_dir, fn, args=()):
    """Runs fn(socket) against a verdictd started on policies and data_dir (and args)."""
    import os
    import shutil
    import signal
    import subprocess
    import tempfile
    tmp = tempfile.mkdtemp(prefix="verdict-eval-")
    sock = os.path.join(tmp, "v.sock")
    proc = subprocess.Popen([verdictd, "--socket", sock, "--policies", policies, "--data-dir",
                             data_dir, "--log-level", "warn"] + list(args))
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            if proc.poll() is not None:
                raise RuntimeError("verdictd did not start")
            time.sleep(0.05)
        return fn(sock)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(verdictd, policies, data_dir):
    """The time-shifted figures with the shipped models, then the random split's (secondary)
    with a text classifier trained on that split's training part."""
    import os
    import shutil
    import tempfile
    from . import features, gbdt, textclf
    corpus_dir = os.path.join(data_dir, "spam-assassin")
    reports, info = with_daemon(verdictd, policies, data_dir,
                                lambda s: run(s, corpus_dir, "time"))
    info["split"] = "time-shifted"
    print_report(reports, info)
    tmp = tempfile.mkdtemp(prefix="verdict-eval-random-")
    try:
        for name in os.listdir(data_dir):
            if name != "models":
                os.symlink(os.path.abspath(os.path.join(data_dir, name)), os.path.join(tmp, name))
        os.makedirs(os.path.join(tmp, "models"))
        train, _ = corpus.random_split(corpus_dir)
        buckets = [features.message_buckets(corpus.read(p)) for p, _ in train]
        bias, weights = textclf.train(buckets, [label for _, label in train], 3.0)
        textclf.save(os.path.join(tmp, "models", "textclf.bin"), bias, weights,
                     {"split": "random", "seed": corpus.RANDOM_SEED})
        gbdt.train_stats_model(train, os.path.join(tmp, "models", "mail-gbdt.json"))
        reports, info = with_daemon(verdictd, policies, tmp,
                                    lambda s: run(s, os.path.join(tmp, "spam-assassin"), "random"))
        info["split"] = "random (secondary: near-duplicates across the split)"
        print()
        print_report(reports, info)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from . import campaign_eval
    print()
    campaign_eval.run(verdictd, policies, data_dir)
