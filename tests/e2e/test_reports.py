"""Reports through the real daemon: a person's verdict on a decision (by its id) or on an event
reaches the campaigns the decision joined, the next copy's rule sees it, "good" reports cancel,
a report's run on an event changes no state, a reporter past its hourly limit is refused, and
every report is counted and written to the decision log."""

import json
import os
import subprocess
import sys
import tempfile

from vdtest import VERDICT, Client, Daemon, RpcError, policy_dir, run_tests

POLICY = """
rule "copies" {
  score = 1,
  detail = "%d copies, reported bad %.1f good %.1f by %d",
  when = function(ev, ctx)
    verdict.counter("seen:" .. ev.from)
    local c = verdict.campaign("text", ev.body, { source = ev.from })
    if not c then return false end
    ctx:set("bad", c.bad)
    ctx:set("good", c.good)
    ctx:set("reporters", c.reporters)
    ctx:set("size", c.size)
    return c.bad - c.good >= 2 and c.reporters >= 2, c.size, c.bad, c.good, c.reporters
  end,
}
pipeline "mail" { stages = { stage "s" { "copies" } }, actions = { junk = 1 } }
pipeline "other" { stages = { stage "s" { "copies" } }, actions = { junk = 1 } }
"""

TEMPLATE = ("Dear {name}, your parcel {code} is held at the depot. Pay the customs fee of "
            "{fee} euros within two days at https://parcel-fee.example/{code} or it goes back "
            "to the sender. Kind regards, the delivery team.")


def spam(i):
    return {"from": "noreply%d@ship%d.example" % (i, i % 3),
            "body": TEMPLATE.format(name=["Ana", "Ben", "Cem", "Dee"][i % 4],
                                    code="%06d" % (i * 7), fee=2 + i % 5)}


HAM = {"from": "lea@example.org", "body": "Minutes of Tuesday: the budget review moves to "
       "March, Lea sends the slides on Friday and the offsite is cancelled this year."}


def report(c, subject, label, **opts):
    params = ["mail", subject, label] + ([opts] if opts else [])
    return c.call("report", params)


def test_reports_reach_the_campaign():
    log = os.path.join(tempfile.mkdtemp(prefix="vd-e2e-rep-"), "decisions.jsonl")
    d = policy_dir({"p.lua": POLICY})
    with Daemon(policies=d, args=["--workers", "2", "--decision-log", log]) as vd, \
            Client(vd.socket) as c:
        first = c.decide("mail", spam(0))
        assert first["features"]["bad"] == 0 and "id" in first
        r = report(c, first["id"], "bad", reporter="alice")
        assert r["outcome"] == "applied" and r["label"] == "bad", r
        [camp] = r["campaigns"]
        assert camp["kind"] == "text" and camp["found"] is True and camp["bad"] == 1.0
        assert camp["reporters"] == 1 and camp["size"] == 1 and len(camp["id"]) == 16
        # The same person again adds weight, not a reporter.
        report(c, first["id"], "bad", reporter="alice")
        second = c.decide("mail", spam(1))
        assert second["features"]["bad"] == 2.0 and second["features"]["reporters"] == 1
        assert second["action"] == "allow"  # one person is not enough
        # By event: the pipeline finds the campaign of a copy never decided.
        r = report(c, spam(2), "bad", reporter="bob", weight=0.5)
        assert r["outcome"] == "applied" and r["campaigns"][0]["bad"] == 2.5, r
        assert r["campaigns"][0]["size"] == 2  # the report's run counted nothing
        third = c.decide("mail", spam(3))
        assert third["action"] == "junk", third
        assert [x["detail"] for x in third["reasons"]] == [
            "3 copies, reported bad 2.5 good 0.0 by 2"]
        # "not spam" cancels weight; it adds no people who said spam.
        report(c, third["id"], "good", reporter="carol", weight=2)
        fourth = c.decide("mail", spam(4))
        assert fourth["action"] == "allow" and fourth["features"]["good"] == 2.0
        assert fourth["features"]["reporters"] == 2
        # The report's run changed no counter: the sender of spam(2) was never counted.
        got = c.call("state_get", ["counter", "seen:" + spam(2)["from"]])
        assert got["hour"] == 0, got
        # A decision in no campaign, an unknown id, a text too short for a campaign.
        ham = c.decide("mail", {"from": "x@example.org", "body": "ok thanks"})
        assert report(c, ham["id"], "bad")["outcome"] == "unknown_decision"
        assert report(c, "01JNOTADECISIONID000000000", "bad")["outcome"] == "unknown_decision"
        r = report(c, {"from": "x@example.org", "body": "ok"}, "bad")
        assert r["outcome"] == "no_campaign" and r["campaigns"] == [], r
        # Bad params are the client's error, answered and counted.
        for params, why in [(["mail", first["id"], "spam"], "label must be"),
                            (["mail", 7, "bad"], "subject must be"),
                            (["mail", first["id"], "bad", {"weight": 0}], "weight must be"),
                            (["mail", first["id"], "bad", {"who": "x"}], "unknown option"),
                            (["nope", first["id"], "bad"], "no pipeline 'nope'"),
                            (["other", first["id"], "bad"], "made by another pipeline than 'other'")]:
            try:
                c.call("report", params)
                raise AssertionError("accepted %r" % (params,))
            except RpcError as e:
                assert why in str(e), (params, str(e))
        stats = c.call("stats", [])
        assert stats["reports"]["bad"]["applied"] == 3, stats["reports"]
        assert stats["reports"]["good"]["applied"] == 1
        assert stats["reports"]["bad"]["unknown_decision"] == 2
        assert stats["reports"]["bad"]["no_campaign"] == 1
        # Report runs are not decisions: the pipeline counted only the five decide calls.
        assert stats["pipelines"]["mail"]["requests"] == 5, stats["pipelines"]["mail"]
        assert stats["pipelines"]["mail"]["stages"]["s"]["runs"] == 5
    with open(log) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    reports = [x for x in lines if x.get("type") == "report"]
    assert len(reports) == 7, reports
    assert reports[0]["decision_id"] == first["id"] and reports[0]["reporter"] == "alice"
    assert reports[0]["outcome"] == "applied" and reports[0]["campaigns"][0]["bad"] == 1.0
    by_event = [x for x in reports if "event" in x]
    assert by_event[0]["event"] == spam(2) and by_event[0]["weight"] == 0.5
    # verdict log shows them, with the filters a report line can answer.
    def log_lines(*args):
        run = subprocess.run([VERDICT, "log", "--json", "--type", "report"] + list(args) + [log],
                             capture_output=True, text=True, check=True)
        return run.stdout.splitlines()
    assert len(log_lines()) == 7 and len(log_lines("--pipeline", "mail")) == 7
    assert log_lines("--pipeline", "other") == [] and log_lines("--action", "junk") == []
    assert len(log_lines("--id", reports[0]["id"])) == 1
    shown = subprocess.run([VERDICT, "log", "--type", "report", "--id", reports[0]["id"], log],
                           capture_output=True, text=True, check=True).stdout
    assert "report bad by alice (weight 1): applied" in shown, shown
    assert "  decision %s" % first["id"] in shown and "bad 1 from 1 person, good 0" in shown
    # A replay of the log skips the report lines.
    out = subprocess.run([VERDICT, "replay", "--policies", d, log], capture_output=True,
                         text=True, check=True).stdout
    assert "Changed action: 0 of 5 " in out, out


def test_reporter_limit():
    d = policy_dir({"p.lua": POLICY})
    with Daemon(policies=d, args=["--report-limit", "3"]) as vd, Client(vd.socket) as c:
        dec = c.decide("mail", spam(0))
        outcomes = [report(c, dec["id"], "bad", reporter="mallory")["outcome"]
                    for _ in range(5)]
        assert outcomes == ["applied"] * 3 + ["limited"] * 2, outcomes
        assert report(c, dec["id"], "bad", reporter="bob")["outcome"] == "applied"
        after = c.decide("mail", spam(1))
        assert after["features"]["bad"] == 4.0, after["features"]
        assert c.call("stats", [])["reports"]["bad"]["limited"] == 2


def test_cli_report():
    d = policy_dir({"p.lua": POLICY})
    with Daemon(policies=d) as vd, Client(vd.socket) as c:
        dec = c.decide("mail", spam(0))
        run = subprocess.run([VERDICT, "--socket", vd.socket, "report", "mail", dec["id"], "bad",
                              "--reporter", "alice", "--weight", "2"],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert "applied" in run.stdout and "bad 2" in run.stdout, run.stdout
        run = subprocess.run([VERDICT, "--socket", vd.socket, "report", "mail",
                              json.dumps(spam(1)), "good"], capture_output=True, text=True)
        assert run.returncode == 0 and "good 1" in run.stdout, run.stdout + run.stderr
        run = subprocess.run([VERDICT, "--socket", vd.socket, "report", "mail", "nope", "bad"],
                             capture_output=True, text=True)
        assert run.returncode == 1 and "unknown_decision" in run.stdout, run.stdout
        run = subprocess.run([VERDICT, "--socket", vd.socket, "report", "--json", "mail", "nope",
                              "bad"], capture_output=True, text=True)
        assert run.returncode == 1 and '"unknown_decision"' in run.stdout, run.stdout
        run = subprocess.run([VERDICT, "--socket", vd.socket, "report", "mail", dec["id"],
                              "spam"], capture_output=True, text=True)
        assert run.returncode == 2 and "label must be bad" in run.stderr, run.stderr


if __name__ == "__main__":
    sys.exit(run_tests([test_reports_reach_the_campaign, test_reporter_limit, test_cli_report]))
