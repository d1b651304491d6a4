"""textclf reads outside input, so one message must cost time linear in its size, capped by
max_bytes (issue 11, finding 10: 900 KB of '<' took 12.6 s). Each hostile body is timed
against a plain body of the same size in the same run, so the bound is relative, not a clock
figure; the cap is checked in textclf-score, against verdict_train and inside verdictd."""

import os
import subprocess
import sys
import tempfile
import time

from vdtest import DATA, SOURCE, VERDICTD, Client, Daemon, policy_dir, run_tests

sys.path.insert(0, os.path.join(SOURCE, "sdk", "python"))
from verdict_train import features, stats  # noqa: E402

BUILD = os.environ.get("VD_BUILD_DIR", "build-test")
SCORE = os.path.join(BUILD, "bin", "textclf-score")
MODEL = os.path.join(DATA, "models", "textclf.bin")
TMP = tempfile.mkdtemp(prefix="vd-textclf-limits-")
SIZES = (400_000, 900_000, 1 << 20)
RATIO = 5  # a hostile body may cost at most this many times a plain one of the same size
HTML = b"From: a@example.com\nSubject: hello\nContent-Type: text/html\n\n"


def repeat(unit, n, head=HTML):
    return head + (unit * (n // len(unit) + 1))[:n]


def nested(n):
    level = b"Content-Type: multipart/mixed; boundary=%d\n\n--%d\n"
    out, i = bytearray(), 0
    while len(out) < n:
        out += level % (i, i)
        i += 1
    return bytes(out)


def hosts(n):
    out, i = bytearray(HTML), 0
    while len(out) < n:
        out += b"http://h%d.example " % i
        i += 1
    return bytes(out)


HOSTILE = {
    "unclosed <": lambda n: repeat(b"<", n),
    "unclosed <!--": lambda n: repeat(b"<!--", n),
    "unclosed <script": lambda n: repeat(b"<script ", n),
    "entity starts": lambda n: repeat(b"&#x", n),
    "bare &": lambda n: repeat(b"&", n),
    "distinct URL hosts": hosts,
    "delimiter lines": lambda n: repeat(
        b"--b\n", n, b"Content-Type: multipart/mixed; boundary=b\n\n"),
    "nested multiparts": nested,
    "folded header": lambda n: repeat(b" =?a?b?\n", n, b"Subject: x\n") + b"\nbody",
    "encoded-word starts": lambda n: repeat(b"=?", n, b"Subject: "),
    "quoted-printable =": lambda n: repeat(
        b"=\n=", n, b"Content-Transfer-Encoding: quoted-printable\n\n"),
}


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def seconds(mode, path):
    start = time.perf_counter()
    p = subprocess.run([SCORE, mode, path], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return time.perf_counter() - start


def best(mode, path, runs=2):
    return min(seconds(mode, path) for _ in range(runs))


def test_hostile_bodies_cost_like_plain_ones():
    for n in SIZES:
        plain = write("plain", repeat(b"hello world, cheap meds here ", n))
        for mode in ("-", "--stats"):
            base = best(mode, plain)
            for name, make in HOSTILE.items():
                path = write("hostile", make(n))
                took = seconds(mode, path)
                if took > RATIO * base:  # a busy machine: measure both again
                    base, took = best(mode, plain, 3), best(mode, path, 3)
                assert took <= RATIO * base, "%s, %d bytes, %s: %.3fs, plain %.3fs" % (
                    name, n, mode, took, base)


def test_bytes_past_the_cap_cost_nothing():
    plain = write("plain", repeat(b"hello world, cheap meds here ", 1 << 20))
    huge = write("huge", repeat(b"<", 8 << 20))
    base = best("-", plain)
    took = seconds("-", huge)
    if took > RATIO * base:
        base, took = best("-", plain, 3), best("-", huge, 3)
    assert took <= RATIO * base, (took, base)


def test_cap_matches_verdict_train():
    # Words only past the first MiB must count in neither implementation.
    raw = repeat(b"early words here ", 1 << 20, b"Subject: cap\n\n") + b" lateword " * 50000
    path = write("capped", raw)
    got = subprocess.run([SCORE, "-", path], capture_output=True, timeout=120, check=True)
    want = features.message_buckets(raw)
    assert [int(x) for x in got.stdout.split()] == want
    assert want == features.message_buckets(raw[:1 << 20])
    got = subprocess.run([SCORE, "--stats", path], capture_output=True, timeout=120, check=True)
    assert [float(x) for x in got.stdout.split()] == stats.message_stats(raw)


STAGE = ('pipeline "mail" { stages = { plugin "textclf" { model = verdict.data_dir .. '
         '"/models/textclf.bin", weight = 1 %s } }, actions = { junk = 5 } }\n')


def test_max_bytes_in_verdictd():
    head = b"Subject: meeting notes\n\n" + b"see you at the office tomorrow " * 200
    a = head + b" free money viagra casino winner " * 100
    b = head + b" quarterly report attached regards " * 100
    assert len(head) > 4096
    with Daemon(policies=policy_dir({"p.lua": STAGE % ", max_bytes = 4096"})) as vd, \
            Client(vd.socket) as c:
        pa = c.decide("mail", {"raw": a})["features"]["textclf_p"]
        pb = c.decide("mail", {"raw": b})["features"]["textclf_p"]
        assert pa == pb, (pa, pb)
    with Daemon(policies=policy_dir({"p.lua": STAGE % ""})) as vd, Client(vd.socket) as c:
        pa = c.decide("mail", {"raw": a})["features"]["textclf_p"]
        pb = c.decide("mail", {"raw": b})["features"]["textclf_p"]
        assert pa != pb, (pa, pb)


def test_bad_max_bytes_refused():
    for value in ("10", "1.5", '"big"', "2^31", "-1"):
        d = policy_dir({"p.lua": STAGE % (", max_bytes = " + value)})
        p = subprocess.run([VERDICTD, "--check",
                            "--policies", d, "--data-dir", DATA], capture_output=True,
                           timeout=120)
        out = (p.stdout + p.stderr).decode(errors="replace")
        assert p.returncode == 1 and "'max_bytes' is a whole number of bytes" in out, (value, out)


if __name__ == "__main__":
    if not os.path.exists(MODEL):
        print("skipped: no %s (make data)" % MODEL)
        sys.exit(0)
    sys.exit(run_tests([test_hostile_bodies_cost_like_plain_ones,
                        test_bytes_past_the_cap_cost_nothing, test_cap_matches_verdict_train,
                        test_max_bytes_in_verdictd, test_bad_max_bytes_refused]))
