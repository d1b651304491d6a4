"""State in Redis: two verdictd processes share counters through a real redis-server that
this test starts and stops itself; Redis killed or hung mid-test, decisions keep flowing with
the fallback (noted in the reply and counted in stats) and recover when Redis returns."""

import os
import sys
import time

from vdtest import (DATA, SHIPPED, VERDICT, Client, Daemon, RedisServer, RpcError, policy_dir,
                    run_tests, signup_burst,
                    wait_for)

GOOD = {"email": "jane@gmail.com", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "country": "AU", "form_ms": 6000}
redis = None
daemons = []


def signup(c, ip, username):
    return c.decide("signup", dict(GOOD, ip=ip, username=username))


def state_stats(d):
    with Client(d.socket) as c:
        return c.call("stats", [])["state"]


def wait_connected(d, workers=1):
    """A daemon answers ping before its workers' Redis connections answered theirs: a rule run
    meanwhile falls back."""
    assert wait_for(lambda: state_stats(d)["redis"]["connected_workers"] == workers)


def test_two_daemons_share_one_burst():
    # 200 signups from one /24 over four clients, half on each daemon: together they count
    # exactly as one daemon would (the embedded test in test_state.py sees the same split).
    faults = []
    actions = signup_burst([d.socket for d in daemons], lambda r: faults.extend(r["faults"]))
    counts = (actions.count("allow"), actions.count("challenge"), actions.count("block"))
    assert len(actions) == 200 and counts == (20, 80, 100) and not faults, (counts, faults)
    for d in daemons:
        st = state_stats(d)
        # No counter, distinct count or label kept locally (a decision's campaigns are: the
        # campaigns are this daemon's, and so are reports on its decisions).
        kept = [st["kinds"][k]["entries"] for k in ("counter", "distinct", "label")]
        assert st["backend"] == "redis" and kept == [0, 0, 0], st
        assert st["redis"]["connected_workers"] == 2 and st["redis"]["fallbacks"] == 0, st


def test_labels_and_distinct_counts_are_shared():
    a, b = (Client(d.socket) for d in daemons)
    try:
        for i in range(6):  # failed logins on daemon A flag the account...
            a.decide("login", {"account": "shared-acct", "ip": "203.0.113.%d" % (i + 1),
                               "password_ok": False})
        r = b.decide("login", {"account": "shared-acct", "ip": "192.0.2.10", "password_ok": True})
        assert "account_under_attack" in [x["rule"] for x in r["reasons"]], r  # ...seen on B
        for i in range(8):  # usernames per address, counted across both
            r = signup(a if i % 2 else b, "203.0.113.200", "farm%c" % (97 + i))
        assert "many_usernames_per_ip" in [x["rule"] for x in r["reasons"]], r
    finally:
        a.close()
        b.close()


def test_redis_killed_then_back():
    redis.kill()
    with Client(daemons[0].socket) as c:
        for i in range(20):  # every decision is answered, from local state, and says so
            r = signup(c, "198.18.1.%d" % (i + 1), "down%c" % (97 + i))
            assert r["action"] in ("allow", "challenge", "block")
            assert any("state fell back" in f["message"] and "local state" in f["message"]
                       for f in r["faults"]), r["faults"]
    st = state_stats(daemons[0])
    assert st["redis"]["fallbacks"] > 0 and st["redis"]["connected_workers"] == 0, st
    assert st["entries"] > 0, st  # the local store took over
    connects = st["redis"]["connects"]
    redis.start()
    assert wait_for(lambda: state_stats(daemons[0])["redis"]["connected_workers"] == 2), \
        state_stats(daemons[0])
    with Client(daemons[0].socket) as c:
        r = signup(c, "198.18.1.100", "backagain")
        assert not r["faults"], r["faults"]
    assert state_stats(daemons[0])["redis"]["connects"] >= connects + 2
    out = daemons[0].output()
    assert "unavailable" in out and "Redis is back" in out, out


def test_redis_hung_times_out_then_recovers():
    redis.pause()
    try:
        with Client(daemons[1].socket) as c:
            start = time.time()
            for i in range(10):
                r = signup(c, "198.18.2.%d" % (i + 1), "hung%c" % (97 + i))
                assert r["faults"], r
            took = time.time() - start
        # The first few wait for the 50 ms deadline; then the connection is dropped as hung and
        # the rest fall back at once.
        assert took < 5, took
        st = state_stats(daemons[1])
        assert st["redis"]["timeouts"] >= 1, st
    finally:
        redis.resume()
    assert wait_for(lambda: state_stats(daemons[1])["redis"]["connected_workers"] == 2)
    with Client(daemons[1].socket) as c:
        assert not signup(c, "198.18.2.200", "resumed")["faults"]


def test_explain_traces_rules_that_waited():
    with Client(daemons[0].socket) as c:
        r = c.decide("signup", dict(GOOD, ip="198.18.4.1", username="explained"),
                     {"explain": True})
    velocity = [s for s in r["trace"] if s["stage"] == "velocity"][0]
    assert [x["rule"] for x in velocity["rules"]] == \
        ["network_burst", "ip_repeat", "many_usernames_per_ip", "network_surge",
         "lockstep_signups"], velocity


def test_request_deadline_while_redis_hangs():
    # A decision whose deadline is shorter than the Redis timeout gets its timeout error at its
    # own deadline, and does not count as a sign that Redis hangs.
    with Client(daemons[0].socket) as c:
        before = state_stats(daemons[0])["redis"]["timeouts"]
        redis.pause()
        try:
            start = time.time()
            try:
                c.decide("signup", dict(GOOD, ip="198.18.5.1", username="hurry"),
                         {"deadline_ms": 10})
                raise AssertionError("expected a timeout")
            except Exception as e:
                assert "deadline" in str(e), e
            assert time.time() - start < 0.045
        finally:
            redis.resume()
        assert state_stats(daemons[0])["redis"]["timeouts"] == before
        assert not signup(c, "198.18.5.2", "after")["faults"]


def test_reload_and_leaving_clients_while_rules_wait():
    # 300 pipelined decisions on two connections: one client leaves with its requests still
    # waiting for Redis, a reload swaps the policy meanwhile; the other gets every answer.
    stay, leave = Client(daemons[1].socket), Client(daemons[1].socket)
    ids = [stay.send("decide", ["signup", dict(GOOD, ip="198.18.6.%d" % (i % 250 + 1),
                                                username="pipe%d" % i)]) for i in range(150)]
    for i in range(150):
        leave.send("decide", ["signup", dict(GOOD, ip="198.18.7.%d" % (i % 250 + 1),
                                             username="gone%d" % i)])
    leave.close()
    with Client(daemons[1].socket) as admin:
        admin.call("reload", [])
    got = {}
    while len(got) < len(ids):
        msgid, err, result = stay.recv()
        assert err is None, err
        got[msgid] = result["action"]
    stay.close()
    assert sorted(got) == ids
    with Client(daemons[1].socket) as c:
        assert c.call("ping", []) == "pong"


WAITING_RULES = """
rule "waits_then_loops" { score = 1,
  when = function(ev) verdict.counter("t:loop"); while true do end end }
rule "waits_then_fails" { score = 1, when = function(ev) verdict.counter("t:fail"); error("boom") end }
rule "waits_in_pcall" { score = 2,
  when = function(ev) local ok, m = pcall(verdict.counter, "t:pcall"); return ok and m >= 1, m end }
rule "score_waits" { when = function() return true end,
  score = function(ev) local m = verdict.counter("t:score:" .. ev.k); return m * 10 end }
rule "labels" { score = 1, when = function(ev)
  verdict.label("t:label:" .. ev.k, 60)
  return verdict.labeled("t:label:" .. ev.k) ~= nil and verdict.distinct("t:d", ev.k) >= 1 end }
pipeline "p" { stages = { stage "s" { "waits_then_loops", "waits_then_fails", "waits_in_pcall",
                                      "score_waits", "labels" } }, actions = { block = 100 } }
"""


def test_rules_that_wait_keep_the_sandbox():
    # Budget, errors, pcall and score functions behave the same when a rule waits for Redis.
    pol = policy_dir({"main.lua": WAITING_RULES})
    with Daemon(policies=pol, args=["--workers", "1", "--redis", "unix:" + redis.socket,
                                    "--lua-instructions", "100000"]) as d:
        wait_connected(d)
        # Fields of long-gone sixths, as a counter used now and then for days would hold: the
        # next addition sees too many fields and has them dropped.
        stale = "verdict:c:{t:pcall}"
        for i in range(30):
            redis.command("HSET", stale, "60:%d" % (1000 + i), "1")
        with Client(d.socket) as c:
            for i in range(1, 4):
                r = c.decide("p", {"k": "a"})
                faults = {f["rule"]: f["message"] for f in r["faults"]}
                assert "instruction budget exceeded" in faults["waits_then_loops"], faults
                assert "boom" in faults["waits_then_fails"], faults
                fired = {x["rule"]: x["score"] for x in r["reasons"]}
                assert fired == {"waits_in_pcall": 2, "score_waits": 10 * i, "labels": 1}, r
        assert redis.command("HEXISTS", stale, "60:1000") == b":0\r\n"
        hlen = int(redis.command("HLEN", stale)[1:])
        assert 1 <= hlen <= 3 * 7, hlen


WAITING_OFTEN = """
rule "waits_often" { score = 1, when = function(ev)
  for i = 1, 1e9 do verdict.counter("t:often", 0) end end }
rule "hoards" { score = 1, when = function(ev)
  local keep = {}
  for i = 1, 40 do keep[i] = string.rep("y", (1 << 20) + i) verdict.counter("t:hoard", 0) end end }
rule "live" { score = 1, when = function(ev) return true end }
pipeline "budget" { stages = { stage "s" {"waits_often"} } }
pipeline "shadowed" { stages = { stage "sh" {"waits_often", shadow = true, timeout_ms = 30},
                                 stage "live" {"live"} } }
pipeline "memory" { stages = { stage "s" {"hoards"} } }
"""


def test_limits_hold_across_waits():
    # A rule that waits for Redis every few instructions: each wait counts against the budget,
    # the deadline and the stage's timeout are checked when it resumes, and its memory
    # allowance is the one it started with.
    pol = policy_dir({"main.lua": WAITING_OFTEN})
    with Daemon(policies=pol, args=["--workers", "1", "--redis", "unix:" + redis.socket,
                                    "--lua-instructions", "100000"]) as d, Client(d.socket) as c:
        wait_connected(d)
        t0 = time.monotonic()
        r = c.decide("budget", {})
        assert "instruction budget exceeded" in r["faults"][0]["message"], r
        assert time.monotonic() - t0 < 5
        assert c.call("ping", []) == "pong"
    # With a budget that lasts minutes, the clock and the memory allowance have to stop it.
    with Daemon(policies=pol, args=["--workers", "1", "--redis", "unix:" + redis.socket,
                                    "--lua-instructions", "1000000000",
                                    "--lua-rule-memory-mb", "16"]) as d, \
            Client(d.socket) as c:
        wait_connected(d)
        r = c.decide("memory", {})
        assert "out of memory" in r["faults"][0]["message"], r
        t0 = time.monotonic()
        r = c.decide("shadowed", {})
        assert time.monotonic() - t0 < 1, time.monotonic() - t0
        assert [x["rule"] for x in r["reasons"]] == ["live"], r
        assert "timeout_ms = 30" in r["faults"][0]["message"], r
        t0 = time.monotonic()
        try:
            c.decide("budget", {}, {"deadline_ms": 50})
            raise AssertionError("the deadline did not hold")
        except RpcError as e:
            assert e.code == "timeout", e
        assert time.monotonic() - t0 < 1
        assert c.call("ping", []) == "pong"


def test_waiting_requests_are_bounded_in_bytes():
    # Finding 7 of issue 11: with Redis hung, every decision waits and keeps its request; the
    # limit used to count decisions only, so large requests took the daemon to gigabytes. Now
    # the bytes they hold per worker are capped too: past --max-waiting-mb a decision is
    # answered overloaded at once, the others when Redis times out.
    big = "x" * 300000  # a 300 KB request: its copy takes 512 KiB
    with Daemon(args=["--workers", "1", "--redis", "unix:" + redis.socket,
                      "--redis-timeout-ms", "3000", "--max-waiting-mb", "8"]) as d:
        assert wait_for(lambda: state_stats(d)["redis"]["connected_workers"] == 1)
        redis.pause()
        try:
            with Client(d.socket) as c, Client(d.socket) as watcher:
                ids = [c.send("decide", ["signup", dict(GOOD, ip="198.18.9.%d" % (i % 250 + 1),
                                                        username="big%d" % i, user_agent=big)])
                       for i in range(120)]
                st = watcher.call("stats", [])
                held = st["waiting_bytes"]
                assert 0 < held <= 9 << 20, st["waiting_bytes"]
                assert 0 < st["waiting"] <= 18, st["waiting"]
                replies = {}
                while len(replies) < len(ids):
                    msgid, err, result = c.recv()
                    replies[msgid] = (err, result)
        finally:
            redis.resume()
        refused = [e for e, _ in replies.values() if e and e["code"] == "overloaded"]
        answered = [r for e, r in replies.values() if not e]
        assert len(refused) + len(answered) == len(ids), replies
        assert len(answered) >= 8 and len(refused) >= 90, (len(answered), len(refused))
        assert "--max-waiting-mb 8" in refused[0]["message"], refused[0]
        with Client(d.socket) as c:
            st = c.call("stats", [])
        assert st["waiting"] == 0 and st["waiting_bytes"] == 0, st
        assert st["errors_by_code"]["overloaded"] == len(refused), st["errors_by_code"]
        assert "decide refused (overloaded" in d.output()


def test_replay_of_a_log_written_with_redis():
    # The counts came from Redis (shared, this daemon's or any other's): the records hold
    # them, so a replay without Redis reproduces every decision, the bursts included.
    import json
    import subprocess
    import tempfile
    log = os.path.join(tempfile.mkdtemp(prefix="vd-redis-log-"), "decisions.jsonl")
    with Daemon(args=["--workers", "2", "--redis", "unix:" + redis.socket,
                      "--decision-log", log]) as d:
        assert wait_for(lambda: state_stats(d)["redis"]["connected_workers"] == 2)
        actions = signup_burst([d.socket])
    assert "block" in actions or "challenge" in actions, actions
    p = subprocess.run([VERDICT, "replay", "--policies", SHIPPED, "--data-dir", DATA,
                        "--emit", "all", log], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    out = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(out) == len(actions) == 200
    assert all(o["before"] == o["after"] for o in out), [o for o in out if o["before"] != o["after"]][:3]
    # Asked again, the replay's own state starts empty and counts these signups alone (the
    # counts Redis held from earlier tests are unknown to it): every record is still decided.
    p = subprocess.run([VERDICT, "replay", "--policies", SHIPPED, "--data-dir", DATA,
                        "--recompute", "state", "--emit", "all", log],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert len(p.stdout.splitlines()) == 200


def test_fail_open_reads_nothing():
    redis.kill()
    try:
        with Daemon(args=["--workers", "1", "--redis", "unix:" + redis.socket,
                          "--state-fallback", "open"]) as d:
            with Client(d.socket) as c:
                for i in range(30):
                    r = signup(c, "198.18.3.%d" % (i + 1), "open%c%c" % (97 + i % 26, 97 + i // 26))
                # Without counts the burst rules never fire: the signups are allowed.
                assert r["action"] == "allow", r
                assert any("failed open" in f["message"] for f in r["faults"]), r["faults"]
                # Every fault is a fallback: no rule failed for want of a campaign either.
                assert all(f["message"].startswith("state fell back") for f in r["faults"]), \
                    r["faults"]
            kinds = state_stats(d)["kinds"]  # nothing counted locally either
            assert [kinds[k]["entries"] for k in ("counter", "distinct", "label")] == [0, 0, 0]
    finally:
        redis.start()


def test_plugin_reads_state_from_redis():
    # The state test plugin (host API 1.2) answers from Redis: its reads complete later.
    import test_plugins
    replies = test_plugins.run_state_plugin(["--redis", "unix:" + redis.socket])
    assert all("state_fallback" not in r["tags"] for r in replies)
    counted = redis.command("HLEN", "verdict:c:{plugin:acct-1}")
    assert counted.startswith(b":") and int(counted[1:]) >= 3, counted  # one bucket a window


def test_auth():
    # A password-protected Redis: the right password connects, a wrong one is reported once
    # and decisions fall back meanwhile.
    secured = RedisServer(["--requirepass", "s3cret"])
    good, bad = (os.path.join(secured.dir, name) for name in ("good", "bad"))
    for path, text in ((good, "s3cret\n"), (bad, "default wrong\n")):
        with open(path, "w") as f:
            f.write(text)
    try:
        for path, ok in ((good, True), (bad, False)):
            with Daemon(args=["--workers", "1", "--redis", "unix:" + secured.socket,
                              "--redis-auth-file", path]) as d:
                wait_for(lambda: state_stats(d)["redis"]["connected_workers"] == 1, timeout=2)
                with Client(d.socket) as c:
                    r = signup(c, "198.18.8.1", "auth")
                assert (not r["faults"]) == ok, r["faults"]
                if not ok:
                    assert "AUTH refused: WRONGPASS" in d.output(), d.output()
    finally:
        secured.kill()


def main():
    global redis
    redis = RedisServer()
    args = ["--workers", "2", "--redis", "unix:" + redis.socket]
    with Daemon(args=args) as a, Daemon(args=args) as b:
        daemons.extend([a, b])
        assert wait_for(lambda: all(state_stats(d)["redis"]["connected_workers"] == 2
                                    for d in daemons))
        status = run_tests([test_two_daemons_share_one_burst,
                            test_labels_and_distinct_counts_are_shared,
                            test_redis_killed_then_back,
                            test_redis_hung_times_out_then_recovers,
                            test_explain_traces_rules_that_waited,
                            test_request_deadline_while_redis_hangs,
                            test_waiting_requests_are_bounded_in_bytes,
                            test_replay_of_a_log_written_with_redis,
                            test_reload_and_leaving_clients_while_rules_wait])
    status = status or run_tests([test_auth, test_rules_that_wait_keep_the_sandbox,
                                  test_limits_hold_across_waits,
                                  test_fail_open_reads_nothing,
                                  test_plugin_reads_state_from_redis])
    redis.kill()
    return status


if __name__ == "__main__":
    sys.exit(main())
