"""verdict replay against logs the real daemon wrote: the unchanged policy reproduces every
decision exactly (actions, scores, reasons), with the records' observations and without them;
event time drives the counters of plain events; a changed policy is reported (transitions,
rules, labels, JSON and HTML); the same input gives the same output; bad lines are reported
with their file and line."""

import html.parser
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from vdtest import DATA, SHIPPED, VERDICT, Client, Daemon, run_tests

GOOD = {"email": "jane@gmail.com", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "country": "AU", "form_ms": 6000}
WORK = tempfile.mkdtemp(prefix="vd-replay-")
LOG = os.path.join(WORK, "decisions.jsonl")
REPLIES = {}


def replay(*args, expect=0):
    p = subprocess.run([VERDICT, "replay", "--data-dir", DATA] + list(args),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == expect, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p


def emitted(p):
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def record_traffic():
    """Signups (bursts that trip the velocity rules, disposable addresses) and logins from four
    concurrent clients, every decision logged."""
    with Daemon(args=["--workers", "2", "--decision-log", LOG]) as d:
        lock = threading.Lock()

        def client(k):
            with Client(d.socket) as c:
                for i in range(150):
                    if i % 3 == 2:
                        r = c.decide("login", {"account": "acct%d" % (i % 7), "ip":
                                               "203.0.113.%d" % (k * 10 + i % 10),
                                               "success": i % 5 != 0, "time": 1764480000 + i})
                    else:
                        ev = dict(GOOD, ip="198.51.%d.%d" % (k, i % 40 + 1),
                                  username="user%d_%d" % (k, i), time=1764480000 + i)
                        if i % 4 == 0:
                            ev["email"] = "x%d@mailinator.com" % i
                        r = c.decide("signup", ev)
                    with lock:
                        REPLIES[r["id"]] = r

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert len(REPLIES) == 600


def test_unchanged_policy_reproduces_every_decision():
    report = os.path.join(WORK, "same.json")
    p = replay("--policies", SHIPPED, "--emit", "all", "--json", report, LOG)
    overall = json.load(open(report))["overall"]
    # Actions, scores and the rules that fired (the reasons) are all the same.
    assert (overall["decisions"], overall["changed"], overall["score_changed"],
            overall["rules_changed"]) == (600, 0, 0, 0), overall
    out = emitted(p)
    assert len(out) == 600, len(out)
    for o in out:
        reply = REPLIES[o["id"]]
        assert o["after"]["action"] == reply["action"], (o, reply)
        assert o["after"]["score"] == reply["score"], (o, reply)
        assert o["before"] == o["after"], o
    assert "replayed 600 decisions" in p.stderr, p.stderr[-2000:]


def test_anomaly_answers_come_from_the_record():
    # A replay answers a decision's anomaly model from its record, as it answers its counters:
    # the model's answer is changed in one record to an alarm above the band, and the replayed
    # decision fires network_surge with the sentence made from the recorded numbers.
    lines = open(LOG).read().splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        ops = rec.get("observed", {}).get("state", [])
        model = next((o for o in ops if o["op"] == "anomaly"), None)
        if model and rec["decision"]["pipeline"] == "signup":
            break
    else:
        raise AssertionError("no signup record asked an anomaly model")
    res = model["result"]
    assert set(res) >= {"value", "score", "expected", "low", "high", "surprise", "seen",
                        "flags"}, res
    res.update(score=0.9, high=res["value"] - 1, seen=500, flags=1)  # 1: above the band
    path = os.path.join(WORK, "one-alarm.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(rec) + "\n")
    p = replay("--policies", SHIPPED, "--emit", "all", path)
    (out,) = emitted(p)
    assert out["after"]["score"] > out["before"]["score"], out
    p = replay("--policies", SHIPPED, "--emit", "all", "--json", os.path.join(WORK, "a.json"),
               path)
    report = json.load(open(os.path.join(WORK, "a.json")))
    assert "network_surge" in json.dumps(report), json.dumps(report)[:2000]


SIGN_IN = {"ip": "80.133.10.20", "password_ok": True, "country": "DE",
           "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"}


def logged_sign_ins(name, account, times, last=None):
    """times right-password sign-ins of account from Germany with Firefox, then last (changes
    to them) if given, on a daemon logging to WORK/name.jsonl: the log and the last reply. No
    event time: the replay runs at the decisions' own."""
    log = os.path.join(WORK, name + ".jsonl")
    ev = dict(SIGN_IN, account=account)
    with Daemon(args=["--workers", "1", "--decision-log", log]) as d:
        with Client(d.socket) as c:
            for _ in range(times):
                reply = c.decide("login", ev)
            if last is not None:
                reply = c.decide("login", dict(ev, **last))
    return log, reply


def test_profile_answers_come_from_the_record():
    # The same for a behaviour profile: four right-password sign-ins from Germany, the last
    # one's recorded profile answer edited to say Germany is new for the account; replayed
    # alone, it fires new_country, which an empty profile (the replay's own) could not.
    log, _ = logged_sign_ins("logins", "pat", 4)
    rec = [json.loads(line) for line in open(log) if '"type"' not in line[:20]][-1]
    (prof,) = [o for o in rec["observed"]["state"] if o["op"] == "profile"]
    res = prof["result"]
    assert res["events"] == 3 and res["attrs"]["country"]["new"] is False, res
    assert "new_country" not in [r["rule"] for r in rec["decision"]["reasons"]], rec
    res["attrs"]["country"].update(new=True, share=0.0, count=0.0)
    path = os.path.join(WORK, "one-new-country.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(rec) + "\n")
    report = os.path.join(WORK, "p.json")
    p = replay("--policies", SHIPPED, "--emit", "all", "--json", report, path)
    (out,) = emitted(p)
    assert out["after"]["score"] >= out["before"]["score"] + 5, out
    assert "new_country" in json.dumps(json.load(open(report))), open(report).read()[:2000]


def candidate_with(name, file, *changes):
    """A copy of the shipped policies with changes: pairs of old and new text in file."""
    cand = os.path.join(WORK, name)
    shutil.copytree(SHIPPED, cand)
    path = os.path.join(cand, file)
    text = open(path).read()
    for old, new in zip(changes[::2], changes[1::2]):
        assert old in text, old
        text = text.replace(old, new)
    open(path, "w").write(text)
    return cand


def test_reads_the_record_cannot_answer_see_the_history_before_them():
    # A candidate that calls Chrome "Chromium": its profile read for the Chrome sign-in is not
    # the one recorded, so the replay's own profile answers it. That profile learnt the four
    # Firefox sign-ins before it, though the record answered their reads: the Chrome sign-in is
    # still a new device of an account with history, as it was live.
    log, live = logged_sign_ins("devices", "kim", 4,
                                {"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"})
    assert "new_device" in [r["rule"] for r in live["reasons"]], live
    cand = candidate_with("chromium", "login.lua", 'and "Chrome"', 'and "Chromium"')
    report = os.path.join(WORK, "devices.json")
    p = replay("--policies", cand, "--emit", "all", "--json", report, log)
    out = {o["id"]: o for o in emitted(p)}
    assert out[live["id"]]["after"] == out[live["id"]]["before"], out[live["id"]]
    assert "made again in order" in p.stderr, p.stderr[-500:]


def test_a_changed_option_is_not_answered_from_the_record():
    # read_only = true for every sign-in in the candidate: no read is the one recorded (those
    # added the right-password sign-ins), so each is made again in order on the replay's own
    # profile, which then never learns a country: the last sign-in from a new country no
    # longer fires new_country.
    log, live = logged_sign_ins("options", "lee", 3, {"country": "AU", "ip": "1.120.0.1"})
    assert "new_country" in [r["rule"] for r in live["reasons"]], live
    cand = candidate_with("readonly", "login.lua", "read_only = ev.password_ok ~= true",
                          "read_only = true")
    report = os.path.join(WORK, "options.json")
    p = replay("--policies", cand, "--emit", "all", "--json", report, log)
    out = {o["id"]: o for o in emitted(p)}
    assert out[live["id"]]["after"]["score"] < out[live["id"]]["before"]["score"], out[live["id"]]


READ_TWICE = '''rule "read_twice" {
  description = "The profile again, read only, as the record never asked it.",
  score = 1, detail = "%d events",
  when = function(ev)
    local q = verdict.profile("login:" .. ev.account, { country = "ZZ" }, { read_only = true })
    return q.events > 0, q.events
  end,
}

pipeline "login" {'''


def test_a_second_read_in_a_decision_sees_the_first():
    # The candidate reads the profile a second time in each decision, as the record cannot
    # answer: the decision is made again in order, and its second read sees the event the
    # first read (answered from the record) added, as a decision-by-decision run of the
    # candidate (--recompute state) does.
    log, _ = logged_sign_ins("twice", "sam", 3)
    cand = candidate_with("twice", "login.lua", 'pipeline "login" {', READ_TWICE,
                          '"impossible_travel" },', '"impossible_travel", "read_twice" },')
    scores = []
    for extra in ((), ("--recompute", "state")):
        p = replay("--policies", cand, "--emit", "all", *extra, log)
        scores.append([o["after"]["score"] for o in emitted(p)])
    assert scores[0] == scores[1] and scores[0][0] >= 1, scores


def test_profile_times_follow_the_replays_clock():
    # Events with their own time (a day ahead of the daemon's clock, which decided them): the
    # replay runs at the events' time, and the recorded profile's times move with it, so the
    # impossible travel (Germany, then Australia a minute later) is what it was live.
    log = os.path.join(WORK, "travel.jsonl")
    t0 = int(datetime.datetime.now(datetime.timezone.utc).timestamp()) + 86400
    ev = dict(SIGN_IN, account="ana")
    with Daemon(args=["--workers", "1", "--decision-log", log]) as d:
        with Client(d.socket) as c:
            for i in range(3):
                c.decide("login", dict(ev, time=t0 + i))
            live = c.decide("login", dict(ev, country="AU", ip="1.120.0.1", time=t0 + 60))
    assert "impossible_travel" in [r["rule"] for r in live["reasons"]], live
    p = replay("--policies", SHIPPED, "--emit", "all", log)
    out = {o["id"]: o for o in emitted(p)}
    assert len(out) == 4 and all(o["after"] == o["before"] for o in out.values()), out


def test_recomputed_in_event_time_agrees_with_the_daemon():
    # Without the records' answers, the replay's own state evolves in event time; one daemon
    # that started empty saw the same counts, except where its two workers raced within the
    # same second: the policy's velocity rules count per minute, so every decision agrees.
    p = replay("--policies", SHIPPED, "--recompute", "state,plugins", "--emit", "changed",
               "--threads", "1", LOG)
    assert len(emitted(p)) <= 12, emitted(p)[:3]  # workers interleave within a second


def test_event_time_drives_counters():
    # The same 25 signups from one /24: within a minute they trip the network burst rule
    # (more than 20 in the hour), an hour apart they do not.
    for spacing, expect_burst in ((2, True), (3600, False)):
        path = os.path.join(WORK, "events-%d.jsonl" % spacing)
        with open(path, "w") as f:
            for i in range(25):
                f.write(json.dumps(dict(GOOD, ip="198.51.77.%d" % (i + 1), username="burst%d" % i,
                                        ts=1764480000 + i * spacing)) + "\n")
        p = replay("--policies", SHIPPED, "--pipeline", "signup", "--time-field", "ts",
                   "--emit", "all", path)
        out = emitted(p)
        assert len(out) == 25
        burst = [o for o in out if o["after"]["action"] != "allow"]
        assert bool(burst) == expect_burst, (spacing, [o["after"] for o in out])


def test_changed_policy_report():
    cand = os.path.join(WORK, "candidate")
    shutil.copytree(SHIPPED, cand)
    path = os.path.join(cand, "signup.lua")
    text = open(path).read()
    assert "disposable_email" in text
    # The candidate stops scoring disposable addresses.
    marker = 'will be gone tomorrow.",\n  score = 6,'
    assert marker in text
    open(path, "w").write(text.replace(marker, marker.replace("score = 6", "score = 0")))
    labels = os.path.join(WORK, "labels.csv")
    with open(labels, "w") as f:
        for rid, r in REPLIES.items():
            if r["pipeline"] == "signup":
                bad = any(x["rule"] == "disposable_email" for x in r["reasons"])
                f.write("%s,%s\n" % (rid, "bad" if bad else "good"))
    report_json = os.path.join(WORK, "report.json")
    report_html = os.path.join(WORK, "report.html")
    p = replay("--policies", cand, "--labels", labels, "--json", report_json, "--html",
               report_html, LOG)
    assert "block" in p.stdout or "challenge" in p.stdout, p.stdout[:2000]
    rep = json.load(open(report_json))
    assert rep, rep
    html.parser.HTMLParser().feed(open(report_html).read())
    assert "<svg" in open(report_html).read()
    # Same input, same output.
    again = os.path.join(WORK, "again.json")
    replay("--policies", cand, "--labels", labels, "--json", again, LOG)
    assert open(again).read() == open(report_json).read()


def test_labels_by_integer_entity():
    # Account numbers are integers in events; a labels file may key them as integers (JSON) or
    # as text (CSV): both must find the event's value.
    events = os.path.join(WORK, "accounts.jsonl")
    with open(events, "w") as f:
        for i, acct in enumerate([12345, 678, "abc", 9]):
            f.write(json.dumps(dict(GOOD, ip="198.51.88.%d" % (i + 1), username="acct%d" % i,
                                    acct=acct, ts=1764480000 + i)) + "\n")
    labels = os.path.join(WORK, "accounts.labels")
    with open(labels, "w") as f:
        f.write('{"entity": 12345, "label": "bad"}\n678,good\nabc,bad\n')
    report = os.path.join(WORK, "accounts.json")
    replay("--policies", SHIPPED, "--baseline", SHIPPED, "--pipeline", "signup",
           "--time-field", "ts", "--labels", labels, "--label-field", "acct", "--json", report,
           events)
    with open(report) as f:
        got = json.load(f)["overall"]["labels"]
    assert (got["bad"], got["good"], got["unknown"]) == (2, 1, 1), got


def test_event_time_that_is_no_time():
    # An event_time that names no instant (a 13th month, a 30th of February, 1e300) is not
    # used: the record's own time is. Once timegm carried the first two into a later date.
    with open(LOG) as f:
        rec = next(json.loads(line) for line in f if '"type"' not in line)
    path = os.path.join(WORK, "times.jsonl")
    cases = ["2026-13-45T10:00:00Z", "2026-02-30T00:00:00Z", 1e300, "2026-11-30T07:00:00+01:00",
             "2016-12-31T23:59:60Z"]
    with open(path, "w") as f:
        for t in cases:
            f.write(json.dumps(dict(rec, event_time=t)) + "\n")
    out = emitted(replay("--policies", SHIPPED, "--emit", "all", path))
    stamp = rec["time"].replace("Z", "+00:00")
    recorded_ms = int(round(datetime.datetime.fromisoformat(stamp).timestamp() * 1000))
    assert [o["time_ms"] for o in out] == [recorded_ms] * 3 + [1796018400000, 1483228800000], out


def test_bad_lines_are_reported_and_skipped():
    path = os.path.join(WORK, "broken.jsonl")
    with open(LOG) as f, open(path, "w") as out:
        lines = f.readlines()
        out.writelines(lines[:5])
        out.write("{not json\n")
        out.write('{"event": {}, "decision": {"action": "allow"}}\n')
        out.write('{"event": {}, "decision": "allow", "time": 5}\n')
        out.writelines(lines[5:10])
    p = replay("--policies", SHIPPED, path, expect=1)
    assert "broken.jsonl:6: not JSON" in p.stderr, p.stderr
    assert "broken.jsonl:7:" in p.stderr, p.stderr
    # A record whose decision is no object is no plain event, even with --pipeline.
    p = replay("--policies", SHIPPED, "--pipeline", "signup", path, expect=1)
    assert "broken.jsonl:8: a record whose event or decision is not a JSON object" in p.stderr
    for bad in (["--threads", "two"], ["--samples", "-1"]):
        p = replay("--policies", SHIPPED, *bad, LOG, expect=2)
        assert "takes a whole number" in p.stderr, p.stderr
    replay("--policies", os.path.join(WORK, "nowhere"), LOG, expect=1)
    replay(LOG, expect=2)
    # A directory opens, but reading it fails: once taken for an empty file, exit status 0.
    p = replay("--policies", SHIPPED, LOG, WORK, expect=1)
    assert "cannot read %s: Is a directory" % WORK in p.stderr, p.stderr


if __name__ == "__main__":
    record_traffic()
    status = run_tests([test_unchanged_policy_reproduces_every_decision,
                        test_anomaly_answers_come_from_the_record,
                        test_profile_answers_come_from_the_record,
                        test_reads_the_record_cannot_answer_see_the_history_before_them,
                        test_a_changed_option_is_not_answered_from_the_record,
                        test_a_second_read_in_a_decision_sees_the_first,
                        test_profile_times_follow_the_replays_clock,
                        test_recomputed_in_event_time_agrees_with_the_daemon,
                        test_event_time_drives_counters,
                        test_changed_policy_report,
                        test_labels_by_integer_entity,
                        test_event_time_that_is_no_time,
                        test_bad_lines_are_reported_and_skipped])
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(status)
