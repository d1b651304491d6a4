"""The campaign evaluation of `make eval`: the SpamAssassin test split (easy-ham-2 + spam-2)
through a running verdictd's mail pipeline, one message at a time in the order of the
messages' Date headers. After each decision a reporter reports the message as spam with
probability 10% when it is spam, and, as noise, 1% when it is ham, chosen by a hash of the file
name (so every run reports the same messages). Printed: recall and false-positive rate of
"matched a reported campaign" alone (the campaign had reports from at least N people, net of
"not spam", when the message came), and of the whole pipeline at its junk threshold and at
FPR <= 0.1%, with the campaign stage and without it (the same policies with the stage taken
out)."""

import email.utils
import hashlib
import os
import re
import shutil
import socket
import tempfile

import msgpack
import numpy as np

from . import corpus, mail_event, message, metrics
from .evaluate import with_daemon

SPAM_REPORT_RATE = 0.10
HAM_REPORT_RATE = 0.01
JUNK = 5.0  # the shipped mail pipeline's junk threshold


def draw(path, salt):
    """A number in [0, 1) fixed by the file's name."""
    h = hashlib.sha256((salt + os.path.basename(path)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


def date_of(raw):
    headers, _ = message.split_head_body(raw)
    value = message.header(headers, b"date").decode("latin-1", "replace")
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return float("inf")  # undated: last, in file order


def in_date_order(test):
    dated = [(date_of(corpus.read(p)), os.path.basename(p), p, label) for p, label in test]
    dated.sort(key=lambda x: (x[0], x[1]))
    return [(p, label) for _, _, p, label in dated]


class Rpc:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.unpacker = msgpack.Unpacker(raw=False)
        self.msgid = 0

    def call(self, method, params):
        self.msgid += 1
        self.s.sendall(msgpack.packb([0, self.msgid, method, params], use_bin_type=True))
        while True:
            for _, msgid, err, res in self.unpacker:
                if err:
                    raise RuntimeError("%s failed: %r" % (method, err))
                return res
            data = self.s.recv(1 << 20)
            if not data:
                raise RuntimeError("verdictd closed the connection")
            self.unpacker.feed(data)


def replay(sock, ordered, report):
    """Decides each message in order (reporting some after their decision when report is
    set); returns the replies."""
    rpc, replies = Rpc(sock), []
    for path, label in ordered:
        reply = rpc.call("decide", ["mail", mail_event.event(corpus.read(path))])
        replies.append(reply)
        rate = SPAM_REPORT_RATE if label else HAM_REPORT_RATE
        if report and draw(path, "report") < rate:
            who = "reporter-%d" % int(draw(path, "who") * 1e6)
            rpc.call("report", ["mail", reply["id"], "bad", {"reporter": who}])
    return replies


def rates(labels, flagged):
    labels, flagged = np.asarray(labels), np.asarray(flagged, dtype=bool)
    return float(np.mean(flagged[labels == 1])), float(np.mean(flagged[labels == 0]))


def without_campaigns(policies, into):
    """A copy of policies whose mail pipeline has no campaign stage."""
    shutil.copytree(policies, into)
    path = os.path.join(into, "mail.lua")
    with open(path) as f:
        text = f.read()
    stripped = re.sub(r'\n\s*stage "campaign"[^\n]*', "", text)
    if stripped == text:
        raise RuntimeError("no campaign stage in %s" % path)
    with open(path, "w") as f:
        f.write(stripped)
    return into


def run(verdictd, policies, data_dir):
    corpus_dir = os.path.join(data_dir, "spam-assassin")
    _, test = corpus.time_shifted(corpus_dir)
    ordered = in_date_order(test)
    labels = [label for _, label in ordered]
    reported = sum(1 for p, label in ordered
                   if draw(p, "report") < (SPAM_REPORT_RATE if label else HAM_REPORT_RATE))
    # One worker: the messages are decided strictly one after another.
    args = ["--workers", "1", "--log-level", "error"]  # the copy's lint warns of its rules
    with_stage = with_daemon(verdictd, policies, data_dir,
                             lambda s: replay(s, ordered, True), args)
    tmp = tempfile.mkdtemp(prefix="verdict-eval-campaigns-")
    try:
        bare = without_campaigns(policies, os.path.join(tmp, "policies"))
        without = with_daemon(verdictd, bare, data_dir, lambda s: replay(s, ordered, False), args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("campaigns on the time-shifted test split: %d messages (%d spam) in Date order, "
          "%d reported (10%% of spam, 1%% of ham as noise)" %
          (len(ordered), sum(labels), reported))
    print("%-52s %8s %8s" % ("", "recall", "FPR"))
    for people in (1, 2, 3):
        flagged = [r["features"].get("campaign_reporters", 0) >= people and
                   r["features"].get("campaign_reported", 0) >= people for r in with_stage]
        recall, fpr = rates(labels, flagged)
        who = "1 person" if people == 1 else "%d people" % people
        print("%-52s %8.3f %7.2f%%" % ("matched a campaign reported by at least " + who, recall,
                                       100 * fpr))
    for name, replies in (("pipeline with campaigns", with_stage),
                          ("pipeline without campaigns", without)):
        scores = [r["score"] for r in replies]
        recall, fpr = rates(labels, [s >= JUNK for s in scores])
        print("%-52s %8.3f %7.2f%%" % (name + ", at junk (score >= 5)", recall, 100 * fpr))
        print("%-52s %8.3f %8s" % (name + ", at FPR <= 0.1%",
                                   metrics.recall_at_fpr(labels, scores, 0.001), ""))
    fired = {}
    for r, label in zip(with_stage, labels):
        for reason in r["reasons"]:
            if reason["stage"] == "campaign":
                fired.setdefault(reason["rule"], [0, 0])[1 - label] += 1
    for rule, (spam, ham) in sorted(fired.items()):
        print("  rule %s fired on %d spam, %d ham" % (rule, spam, ham))
