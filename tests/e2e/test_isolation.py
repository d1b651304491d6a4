"""Hostile and careless policies against the real daemon: nothing flows from one request to the
next or from a shadow stage to a live one, runaway rules are interrupted (budget, deadline,
stage timeout, memory) without holding up other requests, and policies read no file outside
their directory and the data directory."""

import os
import threading
import time

from vdtest import Client, Daemon, RpcError, policy_dir, run_tests, wait_for

POLICY = """
local last = {}
local count = 0

rule "remember" { score = 1, when = function(ev)
  local prev = last.account
  last.account = ev.account
  return prev ~= nil, "previous request's account: " .. tostring(prev) end }

rule "count" { score = 1, when = function(ev) count = count + 1 return count > 1 end }

rule "tamper" { score = 0, when = function(ev)
  verdict.email_domain = function() return nil end end }

rule "hog" { score = 1, when = function(ev)
  local t = {}
  for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end end }

rule "slow" { score = 1, when = function(ev)
  for i = 1, 1e10 do end end }

rule "domain" { score = 2, when = function(ev)
  local d = verdict.email_domain(ev.email)
  return d ~= nil, d end }

pipeline "leak" { stages = { stage "s" {"remember", "count"} } }
pipeline "shadowed" { stages = { stage "sh" {"tamper", "hog", shadow = true},
                                 stage "live" {"domain"} } }
pipeline "slow_shadow" { stages = { stage "sh" {"slow", shadow = true, timeout_ms = 30},
                                    stage "live" {"domain"} } }
pipeline "slow" { stages = { stage "s" {"slow"} } }
pipeline "quick" { stages = { stage "s" {"domain"} } }
"""

EVENT = {"account": "alice", "email": "alice@example.org"}
PATIENT = "2000000000"  # instructions: seconds of work for the slow rule


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_requests_do_not_see_each_other():
    with Daemon(policy_dir({"main.lua": POLICY}), ["--workers", "1"]) as d, \
            Client(d.socket) as c:
        for account in ("alice", "bob", "carol"):
            res = c.decide("leak", dict(EVENT, account=account))
            assert res["reasons"] == [], res
            messages = " ".join(f["message"] for f in res["faults"])
            assert "read-only" in messages and "a rule assigned 'count'" in messages, res
            assert "alice" not in str(res["reasons"]), res


def test_shadow_stage_cannot_change_live_and_memory_comes_back():
    with Daemon(policy_dir({"main.lua": POLICY}), ["--workers", "1"]) as d, \
            Client(d.socket) as c:
        c.decide("quick", EVENT)
        before = rss_kb(d.proc.pid)
        for _ in range(3):
            t0 = time.monotonic()
            res = c.decide("shadowed", EVENT)
            took = time.monotonic() - t0
            assert [r["rule"] for r in res["reasons"]] == ["domain"], res
            messages = [f["message"] for f in res["faults"]]
            assert any("read-only" in m for m in messages), messages
            assert any("main.lua:17: out of memory" in m for m in messages), messages
            assert took < 2.0, took  # about 0.1 s in a release build
        after = rss_kb(d.proc.pid)
        # A rule call may add 32 MiB: all of it goes back once the rule is stopped.
        assert after < before + 16 * 1024, (before, after)
        assert c.call("stats", [])["pipelines"]["shadowed"]["stages"]["sh"]["faults"] >= 6
        # Logged once, not once per fault: the rest are counted.
        lines = [l for l in d.output().splitlines() if "pipeline 'shadowed', stage 'sh'" in l]
        assert len(lines) == 1, lines


def test_deadline_interrupts_a_rule_and_spares_others():
    # A budget that lasts minutes: only the clock can stop the slow rule.
    with Daemon(policy_dir({"main.lua": POLICY}), ["--workers", "1", "--deadline-ms", "50",
                                                   "--lua-instructions", PATIENT]) as d:
        other = {}

        def unrelated():
            time.sleep(0.02)  # lands while the slow rule holds the only worker
            with Client(d.socket) as c2:
                t0 = time.monotonic()
                other["res"] = c2.decide("quick", EVENT)
                other["took"] = time.monotonic() - t0

        t = threading.Thread(target=unrelated)
        t.start()
        with Client(d.socket) as c:
            t0 = time.monotonic()
            try:
                c.decide("slow", EVENT)
                raise AssertionError("the slow rule was not interrupted")
            except RpcError as e:
                assert e.code == "timeout", e
            took = time.monotonic() - t0
        t.join()
        assert took < 0.5, took
        assert other["took"] < 0.5, other
        assert [r["rule"] for r in other["res"]["reasons"]] == ["domain"]


def test_slow_shadow_stage_stops_at_its_timeout():
    with Daemon(policy_dir({"main.lua": POLICY}), ["--workers", "1",
                                                   "--lua-instructions", PATIENT]) as d, \
            Client(d.socket) as c:
        t0 = time.monotonic()
        res = c.decide("slow_shadow", EVENT)
        took = time.monotonic() - t0
        assert took < 0.5, took
        assert [r["rule"] for r in res["reasons"]] == ["domain"], res
        assert "timeout_ms = 30" in res["faults"][0]["message"], res
        stats = c.call("stats", [])["pipelines"]["slow_shadow"]["stages"]["sh"]
        assert stats["timeouts"] == 1, stats


def test_files_outside_are_refused():
    plugin = ('pipeline "p" { stages = { plugin "gbdt" { model = "%s" } } }')
    for lua in ('local l = verdict.list.exact("/etc/os-release")',
                'local l = verdict.list.ips("../../../../../../etc/os-release")',
                plugin % "/etc/os-release", plugin % "../../../../../../etc/os-release"):
        d = Daemon(policy_dir({"main.lua": lua}), expect_start=False)
        assert d.proc.wait(timeout=20) != 0
        out = d.output()
        assert "outside the policy directory" in out, out
        assert "Debian" not in out and "PRETTY_NAME" not in out, out
        d.discard()
    pdir = policy_dir({"main.lua": 'local l = verdict.list.exact("lists/x.txt")'})
    os.makedirs(os.path.join(pdir, "lists"), exist_ok=True)
    os.symlink("/etc/os-release", os.path.join(pdir, "lists", "x.txt"))
    d = Daemon(pdir, expect_start=False)
    assert d.proc.wait(timeout=20) != 0
    out = d.output()
    assert "lists/x.txt: a link to outside the policy directory" in out, out
    assert "PRETTY_NAME" not in out, out
    d.discard()


SWAPPED = """
local l = verdict.list.exact("lists/x.txt")
rule "listed" { score = 1, when = function(ev) return l:has(ev.line) end }
pipeline "p" { stages = { stage "s" {"listed"} } }
"""


def test_list_swapped_for_a_link_is_not_read():
    pdir = policy_dir({"main.lua": SWAPPED, "lists/x.txt": "fine\n"})
    with Daemon(pdir, ["--list-check-ms", "50"]) as d, Client(d.socket) as c:
        assert c.decide("p", {"line": "fine"})["reasons"], "the list did not load"
        link = os.path.join(pdir, "lists", "x.link")
        os.symlink("/etc/os-release", link)
        os.rename(link, os.path.join(pdir, "lists", "x.txt"))
        assert wait_for(lambda: "now reached through a symbolic link" in d.output())
        for line in open("/etc/os-release").read().splitlines()[:3]:
            assert not c.decide("p", {"line": line})["reasons"], line
        assert c.decide("p", {"line": "fine"})["reasons"]  # the version it had stays
        assert "PRETTY_NAME" not in d.output()


if __name__ == "__main__":
    run_tests([test_requests_do_not_see_each_other,
               test_shadow_stage_cannot_change_live_and_memory_comes_back,
               test_deadline_interrupts_a_rule_and_spares_others,
               test_slow_shadow_stage_stops_at_its_timeout,
               test_files_outside_are_refused,
               test_list_swapped_for_a_link_is_not_read])
