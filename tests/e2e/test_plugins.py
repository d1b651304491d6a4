"""Plugin stages: the host API, asynchronous completion, deadlines and every load error."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import msgpack

from vdtest import VERDICTD, Client, Daemon, expect_error, policy_dir, run_tests, wait_for

PLUGINS = os.environ.get("VD_TEST_PLUGINS", "build-test/test-plugins")


def so(name):
    return os.path.join(PLUGINS, name + ".so")


def policy(stages, extra=""):
    return """
rule "version" { score = 0, when = function(ev, ctx) ctx:set("ip_version", 6); return false end }
rule "after" { score = 1, when = function(ev, ctx) return ctx.features.echo_value ~= nil,
                                                          ctx.features.echo_value end }
%s
pipeline "p" { stages = { %s }, actions = { review = 5, block = 50 } }
""" % (extra, stages)


def daemon_with(stages, extra="", args=()):
    d = policy_dir({"p.lua": policy(stages, extra)})
    return Daemon(policies=d, args=["--plugin-dir", PLUGINS] + list(args))


def test_sync_plugin_reads_and_writes():
    stages = ('stage "pre" {"version"}, plugin "echo" { field = "ip", nested = "user.id", '
              'score = 2.5, tag = "echoed", read_feature = "ip_version", words = {"a", "b"}, '
              'opts = {x = true} }, stage "post" {"after"}')
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        r = c.decide("p", {"ip": "203.0.113.7", "user": {"id": 4}})
        reasons = {x["rule"]: x for x in r["reasons"]}
        assert reasons["echo_hit"]["score"] == 2.5 and reasons["echo_hit"]["stage"] == "echo"
        assert reasons["echo_hit"]["detail"] == "203.0.113.7"
        assert reasons["nested_id"]["score"] == 4
        assert reasons["after"]["detail"] == "203.0.113.7"  # Lua read the plugin's feature
        assert r["features"]["echo_value"] == "203.0.113.7"
        assert r["features"]["echo_words"] == 60  # the plugin read the Lua feature
        assert "echoed" in r["tags"] and r["action"] == "review"
        assert c.decide("p", {})["reasons"] == []
        stages_info = c.call("pipelines", [])[0]["stages"]
        assert [s["kind"] for s in stages_info] == ["rules", "plugin", "rules"]


def test_older_minor_loads():
    with daemon_with('plugin "echo_abi_1_0" { field = "ip", score = 2 }') as vd, \
            Client(vd.socket) as c:
        assert c.decide("p", {"ip": "1.2.3.4"})["score"] == 2


def test_plugin_error_fails_open_or_closed():
    stages = 'plugin "echo" { field = "ip", fail_on_missing = true }'
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        r = c.decide("p", {})
        assert r["action"] == "allow" and "the configured field is missing" in r["faults"][0]["message"]
    stages = 'plugin "echo" { field = "ip", fail_on_missing = true, on_error = "block" }'
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        assert c.decide("p", {})["action"] == "block"


def test_shadow_plugin_stage():
    stages = 'plugin "echo" { field = "ip", score = 9, shadow = true, name = "trial_echo" }'
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        r = c.decide("p", {"ip": "1.2.3.4"})
        assert r["action"] == "allow" and r["score"] == 0
        assert r["shadow"]["action"] == "review"
        assert r["shadow"]["reasons"][0]["stage"] == "trial_echo"


def test_async_plugin_completes_from_its_thread():
    stages = 'plugin "async" { delay_ms = 20, score = 7 }'
    with daemon_with(stages) as vd:
        with Client(vd.socket) as c:
            r = c.decide("p", {"ip": "1.2.3.4"}, {"explain": True})
            assert r["action"] == "review" and r["reasons"][0]["rule"] == "async_hit", r
            assert r["elapsed_us"] >= 15000 and "async" in r["tags"]
            assert r["trace"][0]["rules"][0]["fired"]
        errors = []

        def load(k):
            try:
                with Client(vd.socket) as c:
                    ids = {c.send("decide", ["p", {"ip": "10.0.0.%d" % i}]) for i in range(100)}
                    got = set()
                    for _ in ids:
                        msgid, err, res = c.recv()
                        assert err is None and res["score"] == 7, (err, res)
                        got.add(msgid)
                    assert got == ids
            except Exception as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=load, args=(k,)) for k in range(6)]
        start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors[:3]
        # 600 calls of 20 ms each did not run one after the other.
        assert time.time() - start < 5, time.time() - start


def test_client_leaves_and_reload_while_calls_pend():
    slow = 'plugin "async" { delay_ms = 5000, score = 7, timeout_ms = 10000 }'
    d = policy_dir({"p.lua": policy(slow)})
    with Daemon(policies=d, args=["--plugin-dir", PLUGINS]) as vd:
        for _ in range(5):  # clients that hang up with calls pending
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(vd.socket)
            s.sendall(b"".join(msgpack.packb([0, i, "decide", ["p", {"ip": "1.2.3.4"}]])
                               for i in range(50)))
            s.close()
        with Client(vd.socket) as c, Client(vd.socket) as admin:
            ids = [c.send("decide", ["p", {"ip": "1.2.3.4"}]) for _ in range(30)]
            # Every call has started (each waits 5 s for the plugin) before the reload: requests
            # not read yet would rightly be decided by the new policy.
            assert wait_for(lambda: admin.call("stats", [])["waiting"] >= 280, timeout=4)
            with open(os.path.join(d, "p.lua"), "w") as f:  # reload while they wait
                f.write(policy('plugin "async" { delay_ms = 1, score = 3 }'))
            new_version = admin.call("reload", [])
            scores = {}
            for _ in ids:
                msgid, err, res = c.recv()
                assert err is None, err
                scores[msgid] = (res["score"], res["policy"])
            assert all(v[0] == 7 and v[1] != new_version for v in scores.values()), scores
            after = c.decide("p", {"ip": "1.2.3.4"})
            assert after["score"] == 3 and after["policy"] == new_version


def test_async_failure():
    stages = 'plugin "async" { delay_ms = 5, fail = true }'
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        r = c.decide("p", {"ip": "1.2.3.4"})
        assert "backend said no" in r["faults"][0]["message"]


def test_waiting_decisions_are_answered_before_a_close():
    # Decisions waiting for an asynchronous plugin, then bytes that cannot be framed: the
    # connection ends, but only after the waiting decisions were answered.
    stages = 'plugin "async" { delay_ms = 100 }'
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        c.send_raw(b"".join(msgpack.packb([0, i, "decide", ["p", {"ip": "1.2.3.4"}]])
                            for i in range(5)) + b"\xc1")
        replies = c.expect_closed()
        assert sorted(r[0] for r in replies) == list(range(5)), replies
        assert all(r[1] is None for r in replies), replies


def test_deadline_when_a_plugin_never_answers():
    stages = ('plugin "async" { never = true, timeout_ms = 100 }, '
              'plugin "echo" { field = "ip", score = 1 }')
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        t0 = time.time()
        r = c.decide("p", {"ip": "1.2.3.4"})
        took = time.time() - t0
        assert 0.09 < took < 2, took
        assert "did not answer within its deadline" in r["faults"][0]["message"], r
        assert r["reasons"][0]["rule"] == "echo_hit"  # the pipeline went on (fail open)
        stats = c.call("stats", [])["pipelines"]["p"]["stages"]["async"]
        assert stats["faults"] == 1 and stats["timeouts"] == 1
        assert c.call("ping", []) == "pong"
    # A synchronous call cannot be cut short; past its timeout it is a timeout all the same.
    stages = ('plugin "echo" { field = "ip", sleep_ms = 150, timeout_ms = 50 }, '
              'plugin "echo" { name = "after", field = "ip", score = 1 }')
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        r = c.decide("p", {"ip": "1.2.3.4"})
        assert "did not answer within its deadline" in r["faults"][0]["message"], r
        assert [x["stage"] for x in r["reasons"]] == ["after"], r
        assert c.call("stats", [])["pipelines"]["p"]["stages"]["echo"]["timeouts"] == 1
    stages = 'plugin "async" { never = true, timeout_ms = 50, on_error = "block" }'
    with daemon_with(stages) as vd, Client(vd.socket) as c:
        assert c.decide("p", {"ip": "1.2.3.4"})["action"] == "block"
        r = c.decide("p", {"ip": "1.2.3.4"}, {"deadline_ms": 10})  # the request's own deadline
        assert r["action"] == "block"


def test_sigterm_waits_for_pending_plugins():
    vd = daemon_with('plugin "async" { delay_ms = 300 }', args=["--workers", "2"])
    c = Client(vd.socket)
    ids = [c.send("decide", ["p", {"ip": "1.2.3.4"}]) for _ in range(20)]
    time.sleep(0.05)
    vd.signal(signal.SIGTERM)
    got = sorted(r[0] for r in c.expect_closed(timeout=30) if r[1] is None)
    assert got == sorted(ids), got
    c.close()
    assert vd.proc.wait(30) == 0
    vd.check_clean()
    vd.__exit__(None, None, None)


def test_sigterm_with_a_plugin_that_never_answers():
    vd = daemon_with('plugin "async" { never = true, timeout_ms = 60000 }',
                     args=["--drain-timeout-ms", "300"])
    c = Client(vd.socket)
    c.send("decide", ["p", {"ip": "1.2.3.4"}])
    time.sleep(0.1)
    vd.signal(signal.SIGTERM)
    replies = c.expect_closed(timeout=30)
    c.close()
    assert vd.proc.wait(30) == 0, vd.output()
    vd.check_clean()
    assert len(replies) <= 1
    vd.__exit__(None, None, None)


def test_second_sigterm_exits_at_once():
    vd = daemon_with('plugin "async" { never = true, timeout_ms = 60000 }',
                     args=["--drain-timeout-ms", "60000"])
    c = Client(vd.socket)
    c.send("decide", ["p", {"ip": "1.2.3.4"}])
    time.sleep(0.1)
    vd.signal(signal.SIGTERM)
    time.sleep(0.2)
    assert vd.proc.poll() is None  # still draining, waiting for the plugin
    vd.signal(signal.SIGTERM)
    assert vd.proc.wait(10) == 1
    assert "second SIGTERM" in vd.output()
    c.close()
    vd.discard()


LOAD_ERRORS = [
    ('plugin "nothere" {}', ["nothere.so", "plugin directories"]),
    ('plugin "missing/file.so" {}', ["missing/file.so", "cannot read"]),
    ('plugin "broken_no_entry" {}', ["broken_no_entry.so", "no verdict_plugin_entry symbol"]),
    ('plugin "broken_wrong_major" {}', ["broken_wrong_major.so", "ABI 2.", "major"]),
    ('plugin "broken_newer_minor" {}', ["broken_newer_minor.so", "ABI 1.", "newer"]),
    ('plugin "broken_bad_config" { modle = "x" }', ["broken_bad_config.so", "unknown key 'modle'"]),
    ('plugin "broken_init_fails" {}', ["broken_init_fails.so", "license file missing"]),
    ('plugin "broken_no_score" {}', ["broken_no_score.so", "no score"]),
    ('plugin "echo" { words = {1, x = 2} }', ["p.lua:6:", "list", "map"]),
    ('plugin "echo" { field = "ip", timeout_ms = 0 }', ["p.lua:6:", "timeout_ms"]),
]


def test_load_errors_at_start():
    for stages, needles in LOAD_ERRORS:
        d = policy_dir({"p.lua": policy(stages)})
        p = subprocess.run([VERDICTD, "--socket", "/tmp/vd-e2e-never.sock", "--policies", d,
                            "--plugin-dir", PLUGINS], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0, stages
        for n in needles + ["p.lua:6:"]:
            assert n in p.stderr, "%r not in %r" % (n, p.stderr)


def test_geoip_database_errors():
    """A missing or corrupt database is a load error naming the key, the file and the cause."""
    tmp = policy_dir({"corrupt.mmdb": "this is not an MMDB file\n" * 100})
    cases = [
        ('plugin "geoip" { country_db = "nowhere.mmdb" }', ["country_db", "nowhere.mmdb"]),
        ('plugin "geoip" { asn_db = "%s/corrupt.mmdb" }' % tmp, ["asn_db", "corrupt.mmdb",
                                                               "metadata"]),
        ('plugin "geoip" { }', ["country_db, asn_db or both"]),
        ('plugin "geoip" { country_db = "x.mmdb", colour = 1 }', ["unknown key 'colour'"]),
    ]
    for stages, needles in cases:
        d = policy_dir({"p.lua": policy(stages)})
        p = subprocess.run([VERDICTD, "--socket", "/tmp/vd-e2e-never.sock", "--policies", d,
                            "--data-dir", tmp], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0, stages
        for n in needles + ["p.lua:6:", "geoip.so"]:
            assert n in p.stderr, "%r not in %r" % (n, p.stderr)


def test_load_errors_at_reload_keep_the_old_policy():
    d = policy_dir({"p.lua": policy('plugin "echo" { field = "ip" }')})
    with Daemon(policies=d, args=["--plugin-dir", PLUGINS]) as vd, Client(vd.socket) as c:
        before = c.decide("p", {"ip": "1.2.3.4"})
        for stages, needles in LOAD_ERRORS[:8]:
            with open(os.path.join(d, "p.lua"), "w") as f:
                f.write(policy(stages))
            e = expect_error(lambda: c.call("reload", []), "policy_error", *needles)
            after = c.decide("p", {"ip": "1.2.3.4"})
            assert after["policy"] == before["policy"] and after["reasons"] == before["reasons"]


def run_state_plugin(args=()):
    """Six events for one account through the state test plugin (host API 1.2): the counter
    passes the limit at the fourth, which labels the account; the label then scores."""
    with daemon_with('plugin "state" { limit = 3 }', args=args) as vd, Client(vd.socket) as c:
        replies = [c.decide("p", {"account": "acct-1"}) for _ in range(6)]
        other = c.decide("p", {"account": "acct-2"})
    assert [r["features"]["state_plugin_hour"] for r in replies] == [1, 2, 3, 4, 5, 6], replies
    assert [r["action"] for r in replies] == ["allow"] * 3 + ["review"] * 3, replies
    assert other["action"] == "allow" and other["features"]["state_plugin_hour"] == 1
    return replies


def test_plugin_uses_embedded_state():
    replies = run_state_plugin()
    assert all("state_fallback" not in r["tags"] for r in replies)


def main():
    return run_tests([test_waiting_decisions_are_answered_before_a_close,
                      test_sync_plugin_reads_and_writes, test_plugin_uses_embedded_state, test_older_minor_loads,
                      test_plugin_error_fails_open_or_closed,
                      test_shadow_plugin_stage, test_async_plugin_completes_from_its_thread,
                      test_client_leaves_and_reload_while_calls_pend, test_async_failure,
                      test_deadline_when_a_plugin_never_answers,
                      test_sigterm_waits_for_pending_plugins,
                      test_sigterm_with_a_plugin_that_never_answers,
                      test_second_sigterm_exits_at_once, test_load_errors_at_start,
                      test_geoip_database_errors,
                      test_load_errors_at_reload_keep_the_old_policy])


if __name__ == "__main__":
    sys.exit(main())
