"""The decision log against the real daemon: one record per answered decision, the same
decision as the reply; nothing lost across rotation, SIGHUP (logrotate's move and reopen) and
SIGTERM; a sink nobody reads costs decisions nothing and every record it could not take is
counted; the pipeline's log section masks and drops fields; a torn last line is cut."""

import glob
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request

from vdtest import Client, Daemon, free_port, policy_dir, run_tests, wait_for

GOOD = {"email": "jane@gmail.com", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "country": "AU", "form_ms": 6000}


MANIFESTS = []


def read_records(paths):
    """Every decision record of the files, each line parsed (a torn line fails the test); each
    file begins with a manifest that names the policy of the records after it."""
    records = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        assert not data or data.endswith(b"\n"), "%s ends in a torn line" % path
        lines = [json.loads(line) for line in data.splitlines()]
        if not lines:
            continue
        assert lines[0].get("type") == "manifest", (path, lines[0])
        versions = set()
        for rec in lines:
            if rec.get("type") == "manifest":
                MANIFESTS.append(rec)
                versions.add(rec["policy"]["version"] if rec["policy"] else None)
                assert isinstance(rec["lists_generation"], int) and "lists" in rec, rec
            else:
                assert rec["decision"]["policy"] in versions, (rec["decision"]["policy"], versions)
                records.append(rec)
    return records


def pipelined(sock, n, k, extra=None):
    """n signups pipelined on one connection; returns {id: reply}."""
    replies = {}
    with Client(sock) as c:
        for i in range(n):
            event = dict(GOOD, ip="198.51.%d.%d" % (k, i % 250 + 1), username="u%d_%d" % (k, i),
                         time=1764480000 + i)
            if extra:
                event.update(extra)
            c.send("decide", ["signup", event])
        while len(replies) < n:
            _, err, result = c.recv()
            assert err is None, err
            replies[result["id"]] = result
    return replies


def test_records_match_replies_under_load():
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "decisions.jsonl")
    with Daemon(args=["--workers", "2", "--decision-log", path]) as d:
        replies = {}
        lock = threading.Lock()

        def client(k):
            got = pipelined(d.socket, 500, k)
            with lock:
                replies.update(got)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(replies) == 2000
    records = read_records([path])  # the daemon has stopped: everything is written
    assert len(records) == 2000
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == set(replies)
    for rid, reply in replies.items():
        rec = by_id[rid]
        reply = dict(reply)
        del reply["id"]
        assert rec["decision"] == reply, (rec["decision"], reply)
        assert rec["event"]["username"].startswith("u")
        assert rec["event_time"] == rec["event"]["time"]
        ops = [s["op"] for s in rec["observed"]["state"]]
        assert ops[:3] == ["counter", "counter", "distinct"], rec["observed"]
        assert "geoip" in rec["observed"]["plugins"], rec["observed"]


KINDS = r"""
rule "echo" { score = 1.25, tags = {"t\"q"},
  when = function(ev, ctx)
    ctx:set("s", ev.text); ctx:set("i", 7); ctx:set("f", 0.1); ctx:set("b", true)
    ctx:set("neg", -3); ctx:set("big", 2^53); ctx:set("gone", nil)
    return true, ev.text
  end }
rule "boom" { score = 1, when = function(ev) return ev.nothing.here end }
rule "later" { score = 2, when = function(ev) return true end }
rule "trial_stop" { stop = "block", when = function(ev, ctx)
  ctx:set("shadow_only", "x"); return true, "stopped" end }
pipeline "p" {
  stages = { stage "a" { "echo", "boom", "later" },
             stage "t" { "trial_stop", shadow = true } },
  actions = { block = 3 },
}
"""


def test_records_match_replies_for_every_kind_of_value():
    """The line is written from the decision itself, not from the reply's bytes: it must still
    say exactly what the reply said, for every kind of value, text that needs escaping or
    repair, faults, a shadow stage that stops, and the trace of explain."""
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "decisions.jsonl")
    texts = ["plain", "quote \" back \\ slash", "tab\tnl\ncr\r ctl\x01\x1f del\x7f",
             "caf\u00e9 \u2603 \U0001f600", b"bad \xff\xfe utf8 \xe2\x82", b"\xc0\x80", ""]
    replies = []
    with Daemon(policies=policy_dir({"main.lua": KINDS}),
                args=["--workers", "1", "--decision-log", path]) as d, Client(d.socket) as c:
        for explain in (False, True):
            for text in texts:
                c.send("decide", ["p", {"text": text, "n": -1.5, "k": [1, {"x": None}]},
                                  {"explain": explain}])
                _, err, result = c.recv()
                assert err is None, err
                replies.append(result)
    by_id = {r["id"]: r for r in read_records([path])}
    assert len(by_id) == len(replies)
    for reply in replies:
        rec = by_id[reply["id"]]
        reply = dict(reply)
        del reply["id"]
        assert rec["decision"] == reply, (rec["decision"], reply)
        assert rec["decision"]["faults"] and rec["decision"]["shadow"]["stopped_by"]
    assert "trace" in by_id[replies[-1]["id"]]["decision"]


def test_nothing_lost_across_rotation_sighup_and_sigterm():
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "decisions.jsonl")
    big = {"notes": "n" * 3000}  # about 4 KB a record: 1 MiB every 250 or so
    with Daemon(args=["--workers", "2", "--decision-log", path, "--decision-log-max-mb", "1",
                      "--decision-log-keep", "0"]) as d:
        ids = set(pipelined(d.socket, 600, 1, big))
        # logrotate's way: move the file away, then SIGHUP; the daemon writes a new one.
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0)
        os.rename(path, path + ".moved")
        d.signal(signal.SIGHUP)
        ids |= set(pipelined(d.socket, 600, 2, big))
        with Client(d.socket) as c:
            st = c.call("stats", [])["decision_log"]
        assert st["rotations"] >= 2, st
        assert 1 <= st["reopens"] <= 2, st  # SIGHUP, and the writer may see the move first
    files = glob.glob(path + "*")
    records = read_records(files)
    assert len(files) >= 4, files
    assert len(records) == 1200 and {r["id"] for r in records} == ids
    assert os.path.getsize(path) > 0  # the reopened file got the later records
    files_in = [m["policy"]["files"] for m in MANIFESTS if m["policy"]]
    assert files_in and "signup.lua" in files_in[-1], files_in[-1:]


def test_unread_fifo_drops_and_counts():
    # A sink that takes nothing (a FIFO whose reader never reads): decisions go on at full
    # speed, the records that do not fit are dropped and counted, none is half written.
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "fifo")
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        port = free_port()
        with Daemon(args=["--workers", "1", "--decision-log", path,
                          "--decision-log-buffer-mb", "1", "--drain-timeout-ms", "500",
                          "--metrics", "127.0.0.1:%d" % port]) as d:
            t0 = time.monotonic()
            n = len(pipelined(d.socket, 3000, 3, {"notes": "n" * 1000}))
            took = time.monotonic() - t0
            assert n == 3000
            with Client(d.socket) as c:
                st = c.call("stats", [])["decision_log"]
            assert st["dropped_full"] > 1000, st
            assert st["records"] + st["dropped_full"] + st["dropped_sink"] <= 3000 + 2, st
            assert took < 30, took
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as m:
                text = m.read().decode()
            dropped = [line for line in text.splitlines()
                       if line.startswith('verdict_decision_log_dropped_total{reason="full"}')]
            assert dropped and int(dropped[0].split()[1]) == st["dropped_full"], dropped
            data = b""
            while True:
                try:
                    chunk = os.read(reader, 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                data += chunk
            lines = data.split(b"\n")
            for line in lines[:-1]:
                json.loads(line)
            # records counts lines written whole, not records taken from the rings (once it
            # counted those, so that the records the FIFO refused were counted twice).
            assert st["records"] <= len(lines) - 1, (st, len(lines))
    finally:
        os.close(reader)


MASKED = """
rule "always" { score = 1, when = function(ev) return true end }
pipeline "p" {
  stages = { stage "s" { "always" } },
  log = { hash = { "email" }, drop = { "body" }, time_field = "ts", salt = "pepper" },
}
pipeline "quiet" { stages = { stage "s" { "always" } }, log = false }
pipeline "some" { stages = { stage "s" { "always" } }, log = { sample = 0.25 } }
pipeline "hidden_time" { stages = { stage "s" { "always" } },
                         log = { time_field = "ts", drop = { "ts" } } }
"""


def test_masking_sampling_and_off():
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "decisions.jsonl")
    with Daemon(policies=policy_dir({"main.lua": MASKED}),
                args=["--workers", "1", "--decision-log", path]) as d, Client(d.socket) as c:
        a = c.decide("p", {"email": "jane@example.com", "body": "secret", "ts": 5, "x": 1})
        b = c.decide("p", {"email": "jane@example.com"})
        c.decide("quiet", {"email": "jane@example.com"})
        c.decide("hidden_time", {"ts": 1764480000})
        for i in range(400):
            c.decide("some", {"i": i})
    records = read_records([path])
    first, second = records[0], records[1]
    assert first["id"] == a["id"] and second["id"] == b["id"]
    assert "body" not in first["event"] and first["event"]["x"] == 1
    assert first["event"]["email"].startswith("h:") and len(first["event"]["email"]) == 34
    assert first["event"]["email"] == second["event"]["email"]  # a stable pseudonym
    assert first["event_time"] == 5 and "event_time" not in second
    assert all(r["decision"]["pipeline"] != "quiet" for r in records)
    hidden = [r for r in records if r["decision"]["pipeline"] == "hidden_time"]
    assert hidden and "ts" not in hidden[0]["event"], hidden  # dropped: not as event_time
    assert "event_time" not in hidden[0], hidden
    sampled = sum(r["decision"]["pipeline"] == "some" for r in records)
    assert 50 < sampled < 160, sampled


LISTED = """
local nets = verdict.list("lists/nets.txt", "ip")
rule "listed" { score = 5, when = function(ev) return nets:match(ev.ip) ~= nil end }
pipeline "p" { stages = { stage "s" { "listed" } }, actions = { block = 5 } }
"""


def test_list_change_gets_a_manifest():
    # A list file that changes while the daemon runs: the records after it carry a new
    # lists_generation, and a manifest with that generation names the file's new hash.
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "decisions.jsonl")
    pdir = policy_dir({"main.lua": LISTED, "lists/nets.txt": "198.51.100.0/24\n"})
    with Daemon(policies=pdir, args=["--workers", "1", "--decision-log", path,
                                     "--list-check-ms", "50"]) as d, Client(d.socket) as c:
        before = c.decide("p", {"ip": "203.0.113.5"})
        lists_file = os.path.join(pdir, "lists", "nets.txt")
        with open(lists_file + ".new", "w") as f:
            f.write("203.0.113.0/24\n")
        os.rename(lists_file + ".new", lists_file)
        assert wait_for(lambda: c.decide("p", {"ip": "203.0.113.5"})["action"] == "block")
        after = c.decide("p", {"ip": "203.0.113.6"})
    with open(path) as f:
        lines = [json.loads(line) for line in f]
    by_id = {r["id"]: r for r in lines if "id" in r}
    gen_before = by_id[before["id"]]["lists_generation"]
    gen_after = by_id[after["id"]]["lists_generation"]
    assert gen_after > gen_before, (gen_before, gen_after)
    manifests = {m["lists_generation"]: m for m in lines if m.get("type") == "manifest"}
    assert gen_before in manifests and gen_after in manifests, sorted(manifests)
    hashes = [[x["hash"] for x in manifests[g]["lists"]] for g in (gen_before, gen_after)]
    assert hashes[0] != hashes[1], hashes


def test_torn_tail_cut_when_opened():
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    path = os.path.join(d_dir, "decisions.jsonl")
    with open(path, "w") as f:
        f.write('{"type":"manifest","policy":null,"lists_generation":0,"lists":[]}\n'
                '{"id":"whole","decision":{"policy":null}}\n{"id":"cut sh')
    with Daemon(args=["--workers", "1", "--decision-log", path]) as d, Client(d.socket) as c:
        r = c.decide("signup", dict(GOOD, ip="198.51.9.1", username="torn"))
        assert "cut short" in d.output()
    records = read_records([path])
    assert [x["id"] for x in records] == ["whole", r["id"]]  # a manifest in between


def test_removed_file_and_directory():
    # The file deleted, then its directory: records must not go on into a deleted file, where
    # nobody can read them and nothing counts them. The writer notices within a second, opens
    # the path again (a new file, manifest first), and while the directory is missing it counts
    # what it cannot write; once the directory is back, it writes again.
    d_dir = tempfile.mkdtemp(prefix="vd-dlog-")
    sub = os.path.join(d_dir, "logs")
    os.mkdir(sub)
    path = os.path.join(sub, "decisions.jsonl")
    with Daemon(policies=policy_dir({"main.lua": MASKED}),
                args=["--workers", "1", "--decision-log", path]) as d, Client(d.socket) as c:
        c.decide("p", {"x": 0})
        assert wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0)
        os.unlink(path)

        def logged(x):
            c.decide("p", {"x": x})
            return os.path.exists(path) and any(r["event"]["x"] == x for r in read_records([path]))

        assert wait_for(lambda: logged(1)), d.output()
        os.unlink(path)
        os.rmdir(sub)

        def counted():
            c.decide("p", {"x": 2})
            return c.call("stats", [])["decision_log"]["dropped_sink"] > 0

        assert wait_for(counted), d.output()
        st = c.call("stats", [])["decision_log"]
        assert st["write_errors"] > 0, st
        os.mkdir(sub)
        assert wait_for(lambda: logged(3)), d.output()
        assert "was removed or replaced" in d.output()


def test_bad_path_refuses_to_start():
    d = Daemon(args=["--decision-log", "/nonexistent/dir/decisions.jsonl"], expect_start=False)
    assert d.proc.wait(20) != 0
    assert "decision log: cannot open /nonexistent/dir/decisions.jsonl" in d.output(), d.output()


if __name__ == "__main__":
    sys.exit(run_tests([test_records_match_replies_under_load,
               test_records_match_replies_for_every_kind_of_value,
               test_nothing_lost_across_rotation_sighup_and_sigterm,
               test_unread_fifo_drops_and_counts,
               test_masking_sampling_and_off,
               test_list_change_gets_a_manifest,
               test_torn_tail_cut_when_opened,
               test_removed_file_and_directory,
               test_bad_path_refuses_to_start]))
