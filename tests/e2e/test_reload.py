"""Policy reloads (RPC and SIGHUP) under load, and policies that must be refused."""

import os
import signal
import subprocess
import sys
import threading
import time

from vdtest import DATA, VERDICTD, Client, Daemon, SHIPPED, expect_error, policy_dir, run_tests

RULES_V1 = """
rule "big_amount" { score = 6, when = function(ev) return (ev.amount or 0) > 1000 end }
pipeline "pay" { stages = { stage "s" {"big_amount"} }, actions = { review = 5 } }
"""
RULES_V2 = RULES_V1.replace("score = 6", "score = 2")
BROKEN = """
rule "big_amount" { score = 6,
  when = function(ev) return ev.amount > end }
pipeline "pay" { stages = { stage "s" {"big_amount"} }, actions = { review = 5 } }
"""


def write(d, text):
    with open(os.path.join(d, "pay.lua"), "w") as f:
        f.write(text)


def test_reload_changes_policy_and_version():
    d = policy_dir({"pay.lua": RULES_V1})
    with Daemon(policies=d) as vd, Client(vd.socket) as c:
        first = c.decide("pay", {"amount": 5000})
        assert first["action"] == "review"
        write(d, RULES_V2)
        version = c.call("reload", [])
        assert version != first["policy"]
        again = c.decide("pay", {"amount": 5000})
        assert again["action"] == "allow" and again["policy"] == version
        assert c.call("stats", [])["reloads"] == 1


def test_failed_reload_keeps_serving():
    d = policy_dir({"pay.lua": RULES_V1})
    with Daemon(policies=d) as vd, Client(vd.socket) as c:
        before = c.decide("pay", {"amount": 5000})["policy"]
        write(d, BROKEN)
        e = expect_error(lambda: c.call("reload", []), "policy_error", "pay.lua:3:")
        assert "previous policy" in e.message
        after = c.decide("pay", {"amount": 5000})
        assert after["action"] == "review" and after["policy"] == before
        # SIGHUP with the broken file: logged, still serving the old policy.
        vd.signal(signal.SIGHUP)
        time.sleep(0.5)
        assert "pay.lua:3:" in vd.output()
        assert c.decide("pay", {"amount": 5000})["policy"] == before
        stats = c.call("stats", [])
        assert stats["reload_failures"] >= 1 and stats["policy"] == before
        write(d, RULES_V2)
        vd.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while c.decide("pay", {"amount": 5000})["action"] != "allow":
            assert time.time() < deadline, "SIGHUP reload did not take effect"
            time.sleep(0.05)


def test_reload_under_load_loses_nothing():
    d = policy_dir({}, base=SHIPPED)
    stop = threading.Event()
    failures, counts = [], []
    with Daemon(policies=d, args=["--workers", "2"]) as vd:
        def load(k):
            n = 0
            try:
                with Client(vd.socket) as c:
                    while not stop.is_set():
                        ids = [c.send("decide", ["signup", {"ip": "203.0.113.%d" % (i % 250),
                                                            "email": "u%d@mailinator.com" % i}])
                               for i in range(50)]
                        for _ in ids:
                            msgid, err, res = c.recv()
                            if err is not None:
                                failures.append(err)
                            n += 1
            except Exception as e:
                failures.append(repr(e))
            counts.append(n)

        threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        versions = set()
        with Client(vd.socket) as c:
            for i in range(10):
                with open(os.path.join(d, "extra.lua"), "w") as f:
                    f.write("-- reload %d\n" % i)
                versions.add(c.call("reload", []))
                time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(60)
    assert not failures, failures[:3]
    assert len(versions) == 10 and sum(counts) > 1000, (versions, counts)


def start_fails(policies, *needles):
    p = subprocess.run([VERDICTD, "--socket", "/tmp/vd-e2e-never.sock", "--policies", policies],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, "verdictd started on a bad policy"
    for n in needles:
        assert n in p.stderr, "%r not in %r" % (n, p.stderr)
    assert not os.path.exists("/tmp/vd-e2e-never.sock")


def test_bad_policies_refused_at_start():
    start_fails(policy_dir({"pay.lua": BROKEN}), "pay.lua:3:")
    start_fails(policy_dir({"pay.lua": RULES_V1.replace("stage \"s\" {\"big_amount\"}",
                                                        "stage \"s\" {\"typo\"}")}),
                "pay.lua:3:", "unknown rule 'typo'")
    start_fails(policy_dir({"pay.lua": RULES_V1.replace("review = 5", "review = 'high'")}),
                "pay.lua:3:")
    start_fails("/nonexistent/policies", "/nonexistent/policies")
    p = subprocess.run([VERDICTD, "--check", "--policies", SHIPPED, "--data-dir", DATA],
                       capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and "policies OK" in p.stdout, p.stderr


def main():
    return run_tests([test_reload_changes_policy_and_version, test_failed_reload_keeps_serving,
                      test_reload_under_load_loses_nothing, test_bad_policies_refused_at_start])


if __name__ == "__main__":
    sys.exit(main())
