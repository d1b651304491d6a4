"""Explain answers "why": every stage and rule of the pipeline, fired or not, with its
description, detail, the features and state it read; what plugin stages set; the rules and
stages a stop left out; and the threshold arithmetic that chose the action. verdict decide
--explain renders it as a table (--json: the reply)."""

import json
import subprocess
import sys

from vdtest import SHIPPED, VERDICT, Client, Daemon, policy_dir, run_tests

POLICY = r"""
rule "seen_before" { description = "The account was seen before.", score = 1,
  when = function(ev) local m, h = verdict.counter("acct:" .. ev.acct); return h > 2, h end }
rule "uses_feature" { description = "Reads a feature set earlier.", score = 2,
  when = function(ev, ctx) ctx:set("risk", 7); return (ctx.features.risk or 0) > 5 end }
rule "flagged" { description = "A label set by an analyst.", score = 4,
  when = function(ev) return verdict.labeled("flag:" .. ev.acct) ~= nil end }
rule "broken" { description = "Reads a global that does not exist.", score = 1,
  when = function(ev) return missing_table.field end }
rule "vip" { description = "Known good account: allowed at once.", stop = "allow",
  when = function(ev) return ev.vip == true end }
rule "late" { description = "Never reached after a stop.", score = 3,
  when = function(ev) return true end }
rule "other" { description = "Fires only when asked.", score = 1,
  when = function(ev) return ev.other == true end }
rule "trial_rule" { description = "Tried in shadow.", score = 10,
  when = function(ev) return true, "shadow detail" end }
pipeline "p" {
  stages = { stage "first" { "seen_before", "uses_feature", "flagged", "broken" },
             stage "gate" { "vip", "late" },
             stage "more" { "other" },
             stage "trial" { "trial_rule", shadow = true } },
  actions = { review = 3, block = 9 },
}
"""


def rule_of(result, stage, rule):
    st = next(t for t in result["trace"] if t["stage"] == stage)
    return st, next(r for r in st["rules"] if r["rule"] == rule)


def test_every_rule_with_what_it_read_and_why():
    with Daemon(policies=policy_dir({"main.lua": POLICY})) as d, Client(d.socket) as c:
        for _ in range(3):
            c.decide("p", {"acct": "a1"})
        r = c.decide("p", {"acct": "a1"}, {"explain": True})
        assert [t["stage"] for t in r["trace"]] == ["first", "gate", "more", "trial"]
        _, seen = rule_of(r, "first", "seen_before")
        assert seen["fired"] and seen["detail"] == "4" and seen["score"] == 1
        assert seen["description"] == "The account was seen before."
        assert seen["read"]["state"] == [{"op": "counter", "key": "acct:a1", "n": 1,
                                          "result": [4, 4, 4]}], seen
        _, feat = rule_of(r, "first", "uses_feature")
        assert feat["fired"] and feat["read"]["features"] == {"risk": 7}, feat
        _, flagged = rule_of(r, "first", "flagged")
        assert not flagged["fired"] and "detail" not in flagged
        assert flagged["read"]["state"] == [{"op": "labeled", "key": "flag:a1", "result": None}]
        _, broken = rule_of(r, "first", "broken")
        assert not broken["fired"] and "missing_table" in broken["error"], broken
        _, late = rule_of(r, "gate", "late")
        assert late["fired"] and "skipped" not in late
        why = r["why"]
        assert r["action"] == "review" and why["action"] == "review" and why["score"] == 6
        assert why["because"] == "score 6 >= review 3", why
        assert why["thresholds"] == [{"action": "review", "at": 3}, {"action": "block", "at": 9}]
        assert why["default"] == "allow"
        assert why["shadow"] == {"score": 16, "action": "block", "because": "score 16 >= block 9"}
        _, trial = rule_of(r, "trial", "trial_rule")
        assert trial["fired"] and trial["detail"] == "shadow detail"

        r = c.decide("p", {"acct": "b2", "vip": True}, {"explain": True})
        assert r["action"] == "allow"
        assert r["why"]["because"] == "rule 'vip' stopped the pipeline with 'allow'", r["why"]
        _, vip = rule_of(r, "gate", "vip")
        assert vip["fired"] and vip["stop"] == "allow"
        _, late = rule_of(r, "gate", "late")
        assert late["skipped"] == "rule 'vip' stopped the pipeline with 'allow'", late
        assert late["description"] == "Never reached after a stop."
        more, late2 = rule_of(r, "more", "other")
        assert more["skipped"] and late2["skipped"] and not late2["fired"]
        trial, _ = rule_of(r, "trial", "trial_rule")
        assert trial["skipped"]

        r = c.decide("p", {"acct": "c3"}, {"explain": True})
        assert r["why"]["because"] == "score 5 >= review 3", r["why"]  # uses_feature, late


def test_plugin_stage_outputs_and_the_table():
    ev = {"ip": "109.38.34.49", "email": "alice.smith59862@example.org",
          "username": "alice.smith59862", "user_agent": "python-requests/2.31", "country": "US"}
    with Daemon() as d:
        with Client(d.socket) as c:
            r = c.decide("signup", ev, {"explain": True})
        geo = next(t for t in r["trace"] if t["stage"] == "geoip")
        assert geo["plugin"] == "geoip"
        outs = geo["rules"][0]["outputs"]
        assert {"feature": "geo_country", "value": "NL"} in outs, outs
        _, internal = rule_of(r, "gate", "internal_network")  # a verdict.when condition
        assert internal["read"]["lookups"] == [
            {"in": internal["read"]["lookups"][0]["in"], "value": "109.38.34.49", "hit": False}]
        assert internal["read"]["lookups"][0]["in"].endswith("lists/internal_networks.txt")
        _, mismatch = rule_of(r, "network", "country_mismatch")
        assert mismatch["fired"] and mismatch["read"]["features"] == {"geo_country": "NL"}
        run = lambda *a: subprocess.run([VERDICT, "--socket", d.socket, "decide", "signup",
                                         json.dumps(ev), "--explain", *a],
                                        capture_output=True, text=True, timeout=30)
        p = run()
        assert p.returncode == 0, p.stderr
        out = p.stdout
        assert out.startswith("signup: block, score"), out
        assert "because score" in out and "thresholds: challenge from 5" in out, out
        assert "stage geoip (plugin geoip)" in out and 'set geo_country = "NL"' in out, out
        assert "country_mismatch" in out and "claims US, IP in NL" in out, out
        assert "The country the client claims is not where its IP is." in out, out
        assert "read counter signup:ip:109.38.34.49 +1:" in out, out
        assert 'looked up "109.38.34.49" in ' in out and "internal_networks.txt: no" in out, out
        assert "[shadow: does not change the action]" in out, out
        p = run("--json")
        assert p.returncode == 0 and "why" in json.loads(p.stdout), p.stdout


def test_profile_reads_in_explain_and_the_log():
    """A behaviour profile read is a state read: explain shows it under the rule that made it,
    and the decision log keeps it."""
    import os
    import tempfile
    log = os.path.join(tempfile.mkdtemp(prefix="vd-explain-"), "d.jsonl")
    ev = {"account": "acct-7", "ip": "80.133.10.20", "password_ok": True,
          "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"}
    with Daemon(args=["--workers", "1", "--decision-log", log]) as d:
        with Client(d.socket) as c:
            for _ in range(3):
                c.decide("login", ev)
            r = c.decide("login", dict(ev, ip="10.1.2.3", country="AU"), {"explain": True})
        _, prof = rule_of(r, "account", "new_country")  # it reads the profile
        reads = prof["read"]["state"]
        assert reads and reads[0]["op"] == "profile" and reads[0]["key"] == "login:acct-7", reads
        res = reads[0]["result"]
        country = res["attrs"]["country"]
        assert res["events"] == 3 and {k: country[k] for k in ("value", "new", "share")} == {
            "value": "AU", "new": True, "share": 0.0}, res
        assert country["count"] == 0 and country["values"] == 1 and country["last_seen"] == 0, res
        assert res["place"]["km"] > 15000, res
        assert {"new_country", "impossible_travel"} <= set(x["rule"] for x in r["reasons"]), r
        out = subprocess.run([VERDICT, "--socket", d.socket, "decide", "login",
                              json.dumps(dict(ev, ip="10.1.2.3", country="BR")), "--explain"],
                             capture_output=True, text=True, timeout=30).stdout
        assert "read profile login:acct-7: 4 events before;" in out and 'country "BR" (new)' in out, out
    records = [json.loads(l) for l in open(log) if '"type"' not in l[:20]]
    ops = [s["op"] for rec in records for s in rec["observed"]["state"]]
    assert "profile" in ops, ops


if __name__ == "__main__":
    sys.exit(run_tests([test_every_rule_with_what_it_read_and_why,
                        test_plugin_stage_outputs_and_the_table,
                        test_profile_reads_in_explain_and_the_log]))
