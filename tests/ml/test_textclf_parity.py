"""The textclf plugin against verdict_train: the same buckets for every message (crafted edge
cases and the whole test split) and the same log-odds to 1e-9 relative, in the standalone
scorer and inside verdictd. Needs `make data` (the SpamAssassin corpus)."""

import glob
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "sdk", "python"))
from vdtest import DATA, Client, Daemon, expect_error, policy_dir, run_tests  # noqa: E402
from verdict_train import corpus, features, stats, textclf  # noqa: E402

SCORE = os.environ.get("TEXTCLF_SCORE", "build-test/bin/textclf-score")
CRAFTED = sorted(glob.glob(os.path.join(HERE, "messages", "*.eml")))
TMP = tempfile.mkdtemp(prefix="vd-textclf-")
MODEL = os.path.join(TMP, "textclf.bin")
train, test = corpus.time_shifted(os.path.join(DATA, "spam-assassin"))


def c_lines(model, paths):
    out = []
    for k in range(0, len(paths), 400):
        p = subprocess.run([SCORE, model] + paths[k:k + 400], capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, p.stderr
        out += p.stdout.splitlines()
    return out


def test_buckets_equal_on_crafted_messages():
    for path, line in zip(CRAFTED, c_lines("-", CRAFTED)):
        c = [int(x) for x in line.split()]
        assert c == features.message_buckets(corpus.read(path)), path


def test_statistics_equal():
    paths = [p for p, _ in test] + CRAFTED
    for path, line in zip(paths, c_lines("--stats", paths)):
        got = [float(x) for x in line.split()]
        want = stats.message_stats(corpus.read(path))
        assert len(got) == len(stats.NAMES) and got == want, (path, got, want)


def test_model_scores_equal():
    buckets = [features.message_buckets(corpus.read(p)) for p, _ in train]
    bias, weights = textclf.train(buckets, [label for _, label in train], 3.0)
    textclf.save(MODEL, bias, weights, {"test": True})
    bias, weights = textclf.load(MODEL)
    paths = [p for p, _ in test] + CRAFTED
    worst = 0.0
    for path, line in zip(paths, c_lines(MODEL, paths)):
        want = textclf.log_odds(bias, weights, features.message_buckets(corpus.read(path)))
        got = float(line)
        worst = max(worst, abs(got - want) / max(abs(want), 1e-300))
    assert worst <= 1e-9, worst
    assert len(paths) > 2800


def test_plugin_in_verdictd():
    bias, weights = textclf.load(MODEL)
    pol = policy_dir({"p.lua": 'pipeline "mail" { stages = { plugin "textclf" { model = "%s", '
                               'weight = 10 } }, actions = { junk = 5 } }\n' % MODEL})
    # The model lives outside the policy directory: name its folder as the data directory.
    with Daemon(policies=pol, args=["--data-dir", os.path.dirname(MODEL)]) as vd, \
            Client(vd.socket) as c:
        for path in [p for p, _ in test[::140]] + CRAFTED:
            raw = corpus.read(path)
            r = c.decide("mail", {"raw": raw})
            want = textclf.probability(
                textclf.log_odds(bias, weights, features.message_buckets(raw)))
            got = r["features"]["textclf_p"]
            assert abs(got - want) <= 1e-9 * max(abs(want), 1e-12), (path, got, want)
            assert r["features"]["textclf_model"].startswith("textclf.bin@")
            assert math.isclose(r["score"], 10 * got, rel_tol=1e-12)
        r = c.decide("mail", {"subject": "no raw field"})
        assert "textclf_p" not in r["features"] and r["faults"] == []
        # The model's version is in the reply and in stats; a corrupt model file is refused at
        # reload and the loaded one keeps scoring.
        version = c.decide("mail", {"raw": corpus.read(CRAFTED[0])})["features"]["textclf_model"]
        assert c.call("stats", [])["plugins"][0]["info"]["model"] == version
        with open(MODEL, "r+b") as f:
            f.write(b"NOTAMODEL")
        with open(os.path.join(pol, "p.lua"), "a") as f:
            f.write("-- corrupt model\n")
        expect_error(lambda: c.call("reload", []), "policy_error", "textclf.bin", "bad magic")
        r = c.decide("mail", {"raw": corpus.read(CRAFTED[0])})
        assert r["features"]["textclf_model"] == version


def main():
    try:
        return run_tests([test_buckets_equal_on_crafted_messages, test_statistics_equal,
                          test_model_scores_equal,
                          test_plugin_in_verdictd])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
