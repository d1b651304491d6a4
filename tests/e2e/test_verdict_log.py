"""`verdict log` on decision logs written by the real daemon: every filter and output mode
against the replies the daemon gave, plain, gzip and standard input read in order, typed lines
skipped unless asked for, colour only on a terminal without NO_COLOR, and the error paths (a
torn last line, a malformed line, a missing file, a bad time, usage errors) with their exit
statuses."""

import gzip
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time

from vdtest import SANITIZER_MARKS, VERDICT, Client, Daemon, policy_dir, run_tests

POLICY = """
rule "vip" { stop = "allow", when = function(ev) return ev.vip == true, "on the list" end }
rule "spammy" { score = 6, tags = {"text"},
  when = function(ev)
    local t = ev.text or ""
    return string.find(t, "spam", 1, true) ~= nil, t
  end }
rule "boom" { score = 1, when = function(ev) if ev.boom then error("kaboom") end return false end }
rule "strict" { score = 10, when = function(ev) return ev.strict == true, "strict mode" end }
pipeline "t" {
  stages = { stage "gate" {"vip"}, stage "main" {"spammy", "boom"},
             stage "trial" {"strict", shadow = true} },
  actions = { challenge = 5, block = 10 },
}
pipeline "u" { stages = { stage "s" {"spammy"} }, actions = { block = 5 } }
"""

# (name, pipeline, event): what each decision is there to show.
EVENTS = [
    ("plain", "t", {"text": "hello"}),                       # allow, no reason
    ("spam", "t", {"text": "buy spam"}),                     # challenge: spammy
    ("shadow", "t", {"text": "spam", "strict": True}),       # challenge; the shadow blocks
    ("vip", "t", {"vip": True, "text": "spam"}),             # stopped by vip: allow
    ("fault", "t", {"boom": True}),                          # allow, with a fault
    ("u_spam", "u", {"text": "spam spam"}),                  # block
    ("u_ok", "u", {"text": "ok"}),                           # allow
]

WORK = tempfile.mkdtemp(prefix="vd-e2e-log-")
LOG = os.path.join(WORK, "decisions.jsonl")
IDS = {}    # name -> decision id
LINES = []  # the log's lines, in order


def verdict_log(*args, stdin=None):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    p = subprocess.run([VERDICT, "log"] + list(args), input=stdin, capture_output=True,
                       text=True, env=env, timeout=60)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def ids_of(p):
    """The decision ids of --json output, in order."""
    assert p.returncode == 0, p.stderr
    return [json.loads(line)["id"] for line in p.stdout.splitlines()]


def names(*which):
    return [IDS[n] for n in which]


def setup():
    with Daemon(policies=policy_dir({"main.lua": POLICY}),
                args=["--workers", "1", "--decision-log", LOG]) as d, Client(d.socket) as c:
        for name, pipeline, event in EVENTS:
            IDS[name] = c.decide(pipeline, event)["id"]
            time.sleep(0.01)  # each record its own millisecond, for --since and --until
    with open(LOG) as f:  # the decisions; the daemon's manifest lines are left out
        LINES.extend(line for line in f.read().splitlines() if '"type":"manifest"' not in line)
    assert len(LINES) == len(EVENTS)


def test_json_passes_lines_as_they_are():
    p = verdict_log("--json", LOG)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.splitlines() == LINES
    assert ids_of(p) == names(*[e[0] for e in EVENTS])


def test_filters():
    def only(*args):
        return ids_of(verdict_log("--json", *args, LOG))

    assert only("--pipeline", "u") == names("u_spam", "u_ok")
    assert only("--pipeline", "nope") == []
    assert only("--action", "block") == names("u_spam")
    assert only("--action", "block", "--action", "challenge") == names("spam", "shadow", "u_spam")
    assert only("--pipeline", "t", "--action", "allow") == names("plain", "vip", "fault")
    assert only("--rule", "spammy") == names("spam", "shadow", "u_spam")
    assert only("--rule", "vip") == names("vip")          # the rule that stopped the pipeline
    assert only("--rule", "strict") == names("shadow")    # a shadow reason
    assert only("--rule", "strict", "--rule", "vip") == names("shadow", "vip")
    assert only("--shadow-action", "block") == names("shadow")
    assert only("--changed-shadow") == names("shadow")
    assert only("--id", IDS["vip"]) == names("vip")
    assert only("--id", IDS["u_ok"], "--id", IDS["plain"]) == names("plain", "u_ok")
    assert only("--id", "%s,%s" % (IDS["spam"], IDS["fault"])) == names("spam", "fault")
    assert only("--id", "01ZZZZZZZZZZZZZZZZZZZZZZZZ") == []


def test_since_and_until():
    def only(*args):
        return ids_of(verdict_log("--json", *args, LOG))

    everything = names(*[e[0] for e in EVENTS])
    third = json.loads(LINES[2])["time"]  # like 2026-11-30T06:09:33.767Z
    assert only("--since", third) == everything[2:]     # at or after
    assert only("--until", third) == everything[:2]     # before
    assert only("--since", third, "--until", json.loads(LINES[4])["time"]) == everything[2:4]
    assert only("--since", "1h") == everything
    assert only("--since", "1h30m") == everything
    assert only("--until", "2d") == []
    assert only("--since", "2000-01-01") == everything
    assert only("--until", "2000-01-01T00:00:00+02:00") == []
    day = third[:10]
    assert only("--since", day, "--until", "9999-12-31") == everything


def test_readable_view():
    p = verdict_log(LOG)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    out = p.stdout
    assert "\x1b[" not in out  # not a terminal: no colour
    blocks = out.strip("\n").split("\n\n")
    assert len(blocks) == len(EVENTS), out
    by_name = dict(zip([e[0] for e in EVENTS], blocks))
    for name, block in by_name.items():
        head = block.splitlines()[0]
        assert IDS[name] in head and json.loads(LINES[0])["time"][:10] in head, head
    assert " t  allow 0" in by_name["plain"].splitlines()[0]
    assert "reasons" not in by_name["plain"]
    spam = by_name["spam"]
    assert "challenge 6" in spam and "+6  main  spammy  buy spam" in spam, spam
    assert "tags     text" in spam
    assert '"text":"buy spam"' in spam  # the event, on one line
    assert "stopped  vip -> allow" in by_name["vip"], by_name["vip"]
    assert "faults   main/boom:" in by_name["fault"] and "kaboom" in by_name["fault"]
    shadow = by_name["shadow"]
    assert "shadow   block 16  (live: challenge 6)" in shadow, shadow
    assert "+10  trial  strict  strict mode" in shadow, shadow
    assert "shadow" not in by_name["spam"]  # the shadow agreed and added nothing


def on_terminal(args, env):
    """Runs verdict log with its standard output on a pseudo-terminal; returns the output."""
    leader, follower = pty.openpty()
    p = subprocess.Popen([VERDICT, "log"] + args, stdout=follower, stderr=subprocess.PIPE,
                         env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the writer closed
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert p.wait(30) == 0, p.stderr.read()
    return out.decode()


def test_colour():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[31mblock" in on_terminal([LOG], env)  # red for block
    assert "\x1b[" not in on_terminal([LOG], dict(env, NO_COLOR="1"))
    assert "\x1b[" not in on_terminal(["--color", "never", LOG], env)
    p = verdict_log("--color", "always", LOG)
    assert p.returncode == 0 and "\x1b[32mallow" in p.stdout


def test_count():
    p = verdict_log("--count", LOG)
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()]
    assert rows[0] == ["pipeline", "action", "records", "share"]
    assert rows[1:] == [["t", "allow", "3", "60.0%"], ["t", "challenge", "2", "40.0%"],
                        ["u", "allow", "1", "50.0%"], ["u", "block", "1", "50.0%"],
                        ["total", "7"]], rows
    p = verdict_log("--count", "--json", "--since", "1h", LOG)
    assert json.loads(p.stdout) == {"total": 7, "pipelines": {
        "t": {"allow": 3, "challenge": 2}, "u": {"allow": 1, "block": 1}}}
    p = verdict_log("--count", "--json", "--rule", "spammy", LOG)
    assert json.loads(p.stdout) == {"total": 3, "pipelines": {
        "t": {"challenge": 2}, "u": {"block": 1}}}


def test_typed_lines_skipped_unless_asked():
    path = os.path.join(WORK, "typed.jsonl")
    manifest = '{"type":"manifest","policy":"abc","pipelines":["t","u"]}'
    with open(path, "w") as f:
        f.write("\n".join([manifest] + LINES[:2] + ['{"type":"other"}']) + "\n")
    assert ids_of(verdict_log("--json", path)) == names("plain", "spam")
    p = verdict_log("--json", "--type", "manifest", path)
    assert p.returncode == 0 and p.stdout.splitlines() == [manifest]
    p = verdict_log("--json", "--type", "manifest", "--type", "decision", path)
    assert p.stdout.splitlines() == [manifest] + LINES[:2]
    p = verdict_log("--type", "manifest", path)
    assert p.stdout.startswith("manifest  {") and "abc" in p.stdout
    p = verdict_log("--count", "--json", "--type", "manifest", "--type", "other", path)
    assert json.loads(p.stdout) == {"total": 2, "pipelines": {},
                                    "types": {"manifest": 1, "other": 1}}


def test_many_files_gzip_and_stdin_in_order():
    plain = os.path.join(WORK, "part1.jsonl")
    packed = os.path.join(WORK, "part2.jsonl.20261130T000000Z")  # as logrotate compresses
    with open(plain, "w") as f:
        f.write("\n".join(LINES[:2]) + "\n")
    with gzip.open(packed, "wt") as f:
        f.write("\n".join(LINES[2:5]) + "\n")
    p = verdict_log("--json", plain, packed, "-", stdin="\n".join(LINES[5:]) + "\n")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.splitlines() == LINES
    p = verdict_log("--json", "--pipeline", "u", "-", stdin="\n".join(LINES) + "\n")
    assert ids_of(p) == names("u_spam", "u_ok")


def test_torn_last_line():
    path = os.path.join(WORK, "torn.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(LINES[:3]) + "\n" + LINES[3][:40])  # a record being written
    p = verdict_log("--json", path)
    assert p.returncode == 1
    assert p.stdout.splitlines() == LINES[:3]
    assert "%s:4: the last line is cut short" % path in p.stderr, p.stderr
    packed = os.path.join(WORK, "cut.gz")
    data = gzip.compress(("\n".join(LINES) + "\n").encode())
    with open(packed, "wb") as f:
        f.write(data[:len(data) // 2])
    p = verdict_log("--json", packed)
    assert p.returncode == 1 and "the compressed data ends early" in p.stderr, p.stderr
    assert all(line in LINES for line in p.stdout.splitlines())


def test_malformed_lines():
    path = os.path.join(WORK, "bad.jsonl")
    with open(path, "w") as f:
        f.write("\n".join([LINES[0], '{"id": "x", "decision": {', "", LINES[1],
                           '{"id":"y","time":"yesterday","decision":{}}', "[1,2]", LINES[2],
                           '{"id":"z","time":"2026-01-01T00:00:00Z","decision":{"action":1}}'])
                + "\n")
    p = verdict_log("--json", path)
    assert p.returncode == 1
    assert p.stdout.splitlines() == LINES[:3]  # the good lines still come out
    err = p.stderr
    assert "%s:2: malformed JSON at column 26" % path in err, err
    assert "%s:5: not a decision record (\"time\" is not an RFC 3339 time)" % path in err, err
    assert "%s:6: malformed JSON at column 1 (not a JSON object)" % path in err, err
    assert "%s:8: not a decision record (no \"decision.action\" string)" % path in err, err
    assert ":3:" not in err  # an empty line is no record, and no error
    # A file of nothing but bad lines: the first 20 are reported, the rest counted.
    junk = os.path.join(WORK, "junk.jsonl")
    with open(junk, "w") as f:
        f.write("junk\n" * 100)
    p = verdict_log("--count", junk)
    assert p.returncode == 1 and p.stderr.count("malformed JSON") == 20, p.stderr
    assert "100 lines skipped in all, 80 of them not reported above" in p.stderr


def test_missing_file_reads_the_others():
    p = verdict_log("--json", os.path.join(WORK, "nope.jsonl"), LOG)
    assert p.returncode == 1 and "cannot open" in p.stderr and "nope.jsonl" in p.stderr
    assert p.stdout.splitlines() == LINES


def test_usage_errors():
    for args, needle in [(["--since", "yesterday", LOG], "is not a time"),
                         (["--until", "3x", LOG], "is not a time"),
                         (["--since", "2026-02-30", LOG], "is not a time"),
                         (["--color", "sometimes", LOG], "auto, always or never"),
                         (["--frobnicate", LOG], "verdict log --help"),
                         (["--id", ",", LOG], "names no decision"),
                         ([], "at least one FILE")]:
        p = verdict_log(*args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert needle in p.stderr, (args, p.stderr)
    p = verdict_log("--help")
    assert p.returncode == 0 and "--changed-shadow" in p.stdout
    p = subprocess.run([VERDICT, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "log [OPTIONS] FILE..." in p.stdout


if __name__ == "__main__":
    try:
        setup()
        code = run_tests([test_json_passes_lines_as_they_are, test_filters, test_since_and_until,
                          test_readable_view, test_colour, test_count,
                          test_typed_lines_skipped_unless_asked,
                          test_many_files_gzip_and_stdin_in_order, test_torn_last_line,
                          test_malformed_lines, test_missing_file_reads_the_others,
                          test_usage_errors])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(code)
