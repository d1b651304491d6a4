"""Campaigns in Redis: two verdictd processes share one campaign index through a real
redis-server. Copies of a mail decided on either daemon join one campaign; a report on one
daemon (by event, or by the id of a decision it made) changes the decision on the next copy on
the other within a second; lockstep groups add up across daemons; a plugin and a rule meet in
the same campaign; with Redis gone, campaigns fall back to each daemon's own index and say so."""

import sys
import time

import test_campaigns
import test_reports
from vdtest import Client, Daemon, RedisServer, RpcError, policy_dir, run_tests, wait_for

POLICY = """
rule "copies" {
  score = 1,
  detail = "%d copies, reported bad %.1f by %d",
  when = function(ev, ctx)
    local c = verdict.campaign("text", ev.body, { source = ev.from })
    if not c then return false end
    ctx:set("campaign", c.id)
    ctx:set("size", c.size)
    ctx:set("sources", c.sources)
    ctx:set("bad", c.bad)
    ctx:set("reporters", c.reporters)
    ctx:set("new", c.new)
    return c.bad - c.good >= 1 and c.reporters >= 1, c.size, c.bad, c.reporters
  end,
}
rule "wave" {
  score = 1,
  when = function(ev, ctx)
    local g = verdict.campaign("fields", { shape = verdict.shape(ev.from), domain = "x" },
                               { source = ev.net, window = 600 })
    ctx:set("group", g.size)
    ctx:set("group_sources", g.sources)
    return false
  end,
}
pipeline "mail" { stages = { stage "s" { "copies", "wave" } }, actions = { junk = 1 } }
pipeline "other" { stages = { stage "s" { "copies" } }, actions = { junk = 1 } }
"""

def spam(i):
    """A copy of test_reports' parcel spam, from network i."""
    return dict(test_reports.spam(i), net="198.51.%d.0" % (i % 256))


PLUGINS = test_campaigns.PLUGINS
redis = None
daemons = []


def stats(d):
    with Client(d.socket) as c:
        return c.call("stats", [])["state"]


def test_copies_on_two_daemons_make_one_campaign():
    a, b = (Client(d.socket) for d in daemons)
    try:
        seen = [(a if i % 2 else b).decide("mail", spam(i))["features"] for i in range(8)]
    finally:
        a.close()
        b.close()
    assert len({f["campaign"] for f in seen}) == 1, seen
    assert [f["size"] for f in seen] == list(range(1, 9)), seen
    assert [f["new"] for f in seen] == [True] + [False] * 7, seen
    assert seen[-1]["sources"] == 8, seen[-1]  # eight senders, counted on both daemons
    assert [f["group"] for f in seen] == list(range(1, 9)), seen  # one lockstep group too
    assert seen[-1]["group_sources"] == 8, seen[-1]
    for d in daemons:  # asked of Redis: nothing kept locally, every lookup counted
        st = stats(d)
        assert st["campaigns"]["text"]["entries"] == 0, st["campaigns"]
        assert st["campaigns"]["text"]["lookups"] == 4, st["campaigns"]
        assert st["redis"]["fallbacks"] == 0, st["redis"]


def test_report_on_one_daemon_reaches_the_other_within_a_second():
    a, b = (Client(d.socket) for d in daemons)
    try:
        first = a.decide("mail", spam(100))
        assert first["action"] == "allow" and first["features"]["bad"] == 0, first
        # By event, on daemon B (which never saw the message)...
        r = b.call("report", ["mail", spam(101), "bad", {"reporter": "alice"}])
        assert r["outcome"] == "applied", r
        t0 = time.monotonic()
        nxt = a.decide("mail", spam(102))  # ...the next copy on daemon A is junk
        assert time.monotonic() - t0 < 1
        assert nxt["action"] == "junk" and nxt["features"]["reporters"] == 1, nxt
        # By decision id, on the daemon that did not make the decision: the decision's
        # campaigns are in Redis too.
        r = b.call("report", ["mail", first["id"], "bad", {"reporter": "bob"}])
        assert r["outcome"] == "applied" and r["campaigns"][0]["reporters"] == 2, r
        assert b.decide("mail", spam(103))["features"]["bad"] == 2
        r = b.call("report", ["mail", "01NOSUCHDECISION0000000000", "bad"])
        assert r["outcome"] == "unknown_decision" and "fell_back" not in r, r
        try:
            b.call("report", ["other", first["id"], "bad"])
            raise AssertionError("a report under another pipeline was taken")
        except RpcError as e:
            assert "another pipeline" in str(e), e
    finally:
        a.close()
        b.close()


def test_redis_gone_falls_back_to_the_local_index():
    redis.kill()
    try:
        with Client(daemons[0].socket) as c:
            r = c.decide("mail", spam(200))
            assert any("state fell back" in f["message"] for f in r["faults"]), r
            assert r["features"]["new"] is True and r["features"]["size"] == 1, r
            r = c.call("report", ["mail", spam(201), "bad", {"reporter": "carol"}])
            # The local campaign got it, and the reply says Redis did not.
            assert r["outcome"] == "applied" and "Redis" in r["fell_back"], r
            r = c.call("report", ["mail", "01NOSUCHDECISION0000000000", "bad"])
            assert r["outcome"] == "unknown_decision" and "Redis" in r["fell_back"], r
        st = stats(daemons[0])
        assert st["campaigns"]["text"]["entries"] >= 1 and st["redis"]["fallbacks"] > 0, st
    finally:
        redis.start()
    for d in daemons:
        assert wait_for(lambda: stats(d)["redis"]["connected_workers"] == 2)
    with Client(daemons[1].socket) as c:  # Redis starts empty again: a new campaign there
        r = c.decide("mail", spam(202))
        assert not r["faults"] and r["features"]["new"] is True, r


def test_script_flushed_is_loaded_again():
    # A server that forgot the script (a restart, a failover, SCRIPT FLUSH) gets it again, and
    # the lookups that met the gap are sent again: no fallback.
    before = stats(daemons[0])["redis"]["fallbacks"]
    with Client(daemons[0].socket) as c:
        sizes = []
        for i in range(3):
            redis.command("FUNCTION", "FLUSH")
            redis.command("SCRIPT", "FLUSH")
            r = c.decide("mail", spam(300 + i))
            assert not r["faults"], r
            sizes.append(r["features"]["size"])
    assert sizes[1:] == [sizes[0] + 1, sizes[0] + 2], sizes
    # Many lookups already sent by name when the server forgets the code: all sent again.
    with Client(daemons[1].socket) as c:
        redis.command("FUNCTION", "FLUSH")
        redis.command("SCRIPT", "FLUSH")
        ids = [c.send("decide", ["mail", spam(310 + i)]) for i in range(40)]
        for _ in ids:
            msgid, err, result = c.recv()
            assert err is None and not result["faults"], (err, result)
    assert stats(daemons[0])["redis"]["fallbacks"] == before


def test_plugin_and_rule_meet_in_redis():
    # The plugin's answers come later from Redis; it completes with the last one.
    pol = policy_dir({"p.lua": test_campaigns.SHARED})
    args = ["--workers", "1", "--plugin-dir", PLUGINS, "--redis", "unix:" + redis.socket]
    with Daemon(policies=pol, args=args) as vd, Client(vd.socket) as c:
        assert wait_for(lambda: stats(vd)["redis"]["connected_workers"] == 1)
        sizes = []
        for i in range(3):
            r = c.decide("p", dict(spam(400 + i), shape="a_a99", domain="outlook.com"))
            assert not r["faults"], r
            sizes.append((r["features"]["rule_size"], r["features"]["plugin_text_size"],
                          r["features"]["plugin_group_recent"]))
        assert sizes == [(1, 2, 1), (3, 4, 2), (5, 6, 3)], sizes
        assert stats(vd)["campaigns"]["text"]["entries"] == 0
        # A plugin's lookup that falls back says so, as a rule's does.
        redis.kill()
        try:
            r = c.decide("only", dict(spam(420), shape="a_a99", domain="outlook.com"))
            assert any(f["stage"] == "campaign" and "state fell back" in f["message"]
                       for f in r["faults"]), r
            r = c.call("report", ["only", dict(spam(421), shape="a_a99", domain="outlook.com"),
                                  "bad"])
            assert "fell_back" in r, r
        finally:
            redis.start()
    # A plugin that completes its call without waiting for the answers: they come after the
    # decision was answered, to a call the host kept for them (the sanitizers watch).
    pol = policy_dir({"p.lua": test_campaigns.SHARED.replace('scope = "shared" } }',
                                              'scope = "shared", early = true } }')})
    with Daemon(policies=pol, args=args) as vd, Client(vd.socket) as c:
        assert wait_for(lambda: stats(vd)["redis"]["connected_workers"] == 1)
        for i in range(20):
            r = c.decide("p", dict(spam(410 + i), shape="a_a99", domain="outlook.com"))
            assert not r["faults"] and "plugin_text_size" not in r["features"], r
        assert c.call("ping", []) == "pong"


def main():
    global redis
    redis = RedisServer()
    pol = policy_dir({"p.lua": POLICY})
    args = ["--workers", "2", "--redis", "unix:" + redis.socket]
    with Daemon(policies=pol, args=args) as a, Daemon(policies=pol, args=args) as b:
        daemons.extend([a, b])
        assert wait_for(lambda: all(stats(d)["redis"]["connected_workers"] == 2
                                    for d in daemons))
        status = run_tests([test_copies_on_two_daemons_make_one_campaign,
                            test_report_on_one_daemon_reaches_the_other_within_a_second,
                            test_redis_gone_falls_back_to_the_local_index,
                            test_script_flushed_is_loaded_again,
                            test_plugin_and_rule_meet_in_redis])
    redis.kill()
    return status


if __name__ == "__main__":
    sys.exit(main())
