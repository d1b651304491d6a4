"""`verdict test` on temporary policy directories, as an analyst runs it: cases that pass,
cases that fail (the file:line of the failing expectation, the decision with its reasons, the
exit status), starting state, time, earlier events and changed lists, --run, --coverage,
JUnit XML read back with xml.etree, mistakes in test files reported with their file:line, the
usage errors, and the daemon, which never loads a test file as policy."""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from vdtest import DATA, SANITIZER_MARKS, VERDICT, Client, Daemon, policy_dir, run_tests

POLICY = """
local burner = verdict.list.domains "lists/burner.txt"

rule "known_device" { stop = "allow", when = function(ev) return ev.device == "trusted" end }
rule "disposable_email" { score = 6, tags = {"email"},
  when = verdict.when.email_domain_in("email", burner) }
rule "missing_user_agent" { score = 4, tags = {"client"},
  when = function(ev) return ev.user_agent == nil end }
rule "reset_burst" { score = 5, tags = {"velocity"}, detail = "%d in the hour",
  when = function(ev, ctx)
    local _, hour = verdict.counter("reset:ip:" .. tostring(ev.ip))
    ctx:set("resets_hour", hour)
    return hour > 3, hour
  end }
rule "many_accounts" { score = 4, detail = "%d accounts",
  when = function(ev)
    local n = verdict.distinct("reset:accounts:" .. tostring(ev.ip), ev.account)
    return n > 5, n
  end }
rule "locked" { score = 10, when = function(ev) return verdict.labeled("locked:" .. tostring(ev.account)) ~= nil end }
rule "night" { score = 1, when = function(ev) return ev.hour ~= nil and ev.hour < 6 end }
rule "new_rule" { score = 3, when = function(ev) return ev.account == "trial" end }

pipeline "password_reset" {
  stages = {
    stage "gate" { "known_device" },
    stage "checks" { "disposable_email", "missing_user_agent", "reset_burst", "many_accounts",
                     "locked", "night" },
    stage "trial" { "new_rule", shadow = true },
  },
  actions = { challenge = 5, block = 10 },
}
"""

BURNER = "mailinator.com\n"

# Three cases, as the tutorial in docs/testing-policies.md writes them.
PASSING = """
local function reset(changes)
  return merge({ account = "acct-7", email = "jane@example.com", ip = "198.51.100.7",
                 user_agent = "Mozilla/5.0" }, changes or {})
end

test "an ordinary reset is allowed" {
  event = reset(),
  expect = { action = "allow", score = 0, not_fired = { "disposable_email", "reset_burst" } },
}

test "a throwaway address is challenged" {
  event = reset { email = "x@mailinator.com" },
  expect = { action = "challenge", score = 6, fired = "disposable_email", tags = "email" },
}

test "the fourth reset from one address within the hour" {
  event = reset(),
  counters = { ["reset:ip:198.51.100.7"] = { hour = 3 } },
  expect = { action = "challenge", fired = "reset_burst", features = { resets_hour = 4 } },
}
"""

FAILING = """
test "meant to challenge" {
  event = { account = "acct-7", email = "x@mailinator.com", ip = "198.51.100.7" },
  expect = {
    action = "challenge",
    score = { min = 5, max = 8 },
    fired = { "disposable_email",
              "reset_burst" },
    not_fired = "missing_user_agent",
  },
}

test "passes" {
  event = { user_agent = "x" },
  expect = { action = "allow" },
}
"""


def verdict_test(*args, expect=None, env=None):
    p = subprocess.run([VERDICT, "test", "--data-dir", DATA] + list(args), capture_output=True,
                       text=True, timeout=120, env=env)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    if expect is not None:
        assert p.returncode == expect, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p


def policies(tests, extra=None):
    files = {"reset.lua": POLICY, "lists/burner.txt": BURNER}
    files.update(tests)
    files.update(extra or {})
    return policy_dir(files)


def test_passing_cases():
    d = policies({"password_reset_test.lua": PASSING})
    p = verdict_test(d, expect=0)
    assert p.stdout.splitlines()[-1].startswith("3 passed, 0 failed in "), p.stdout
    assert "ok" not in p.stdout, p.stdout  # only failures, unless --verbose
    p = verdict_test("--verbose", d, expect=0)
    oks = [l for l in p.stdout.splitlines() if l.startswith("ok ")]
    assert len(oks) == 3, p.stdout
    assert "password_reset_test.lua:7: an ordinary reset is allowed" in oks[0], oks
    # Options may come after the directory, and the cases run in any order: each starts from
    # empty state, so the seeded counter of the third leaves the first alone.
    p = verdict_test(d, "-v", "--run", "fourth|ordinary", expect=0)
    assert "2 passed, 0 failed" in p.stdout and "(1 case not selected by --run)" in p.stdout


def test_lint_findings_before_the_cases():
    """The lint of verdictd --check runs first: warnings on stderr, errors with --strict."""
    d = policies({"password_reset_test.lua": PASSING},
                 {"extra.lua": 'rule "orphan" { score = 1, when = function(ev) return true end }\n'})
    p = verdict_test(d, expect=0)
    assert "extra.lua:1: warning:" in p.stderr and "[unused-rule]" in p.stderr, p.stderr
    assert p.stdout.splitlines()[-1].startswith("3 passed"), p.stdout
    p = verdict_test("--strict", d, expect=1)
    assert "extra.lua:1: error:" in p.stderr and "1 lint finding" in p.stderr, p.stderr
    verdict_test("--strict", policies({"password_reset_test.lua": PASSING}), expect=0)


def test_failure_names_the_line_and_shows_the_decision():
    d = policies({"password_reset_test.lua": FAILING})
    p = verdict_test(d, expect=1)
    out = p.stdout
    f = os.path.join(d, "password_reset_test.lua")
    lines = out.splitlines()
    # The case, each failed expectation at its own line, then the decision and its reasons.
    assert lines[:7] == [
        "FAIL %s:2: meant to challenge" % f,
        "  %s:5: action: want challenge, got block" % f,
        "  %s:6: score: want 5 to 8, got 10" % f,
        "  %s:8: fired: reset_burst did not fire" % f,
        "  %s:9: not_fired: missing_user_agent fired (+4, stage checks)" % f,
        "  decided: block, score 10 (challenge from 5, block from 10, else allow)",
        "    checks  disposable_email    +6  mailinator.com",
    ], out
    assert lines[7] == "    checks  missing_user_agent  +4", out
    assert lines[-1].startswith("1 passed, 1 failed in "), out


def test_starting_state_time_and_earlier_events():
    tests = """
local base = { account = "acct-7", email = "jane@example.com", ip = "198.51.100.7", user_agent = "x" }
test "distinct accounts seeded" {
  event = base,
  distinct = { ["reset:accounts:198.51.100.7"] = 5 },
  expect = { fired = "many_accounts" },
}
test "the same account again is not another" {
  event = base,
  distinct = { ["reset:accounts:198.51.100.7"] = { "a", "b", "c", "d", "acct-7" } },
  expect = { not_fired = "many_accounts" },
}
test "a locked account" {
  event = base,
  labels = { ["locked:acct-7"] = 600 },
  expect = { action = "block", fired = "locked" },
}
test "three resets before" {
  event = base,
  before = { base, base, base },
  expect = { fired = "reset_burst", features = { resets_hour = 4 } },
}
test "an hour later they are forgotten" {
  event = base,
  counters = { ["reset:ip:198.51.100.7"] = { day = 3 } },
  expect = { not_fired = "reset_burst", features = { resets_hour = 1 } },
}
test "the stop rule ends it" {
  event = merge(base, { device = "trusted", user_agent = absent }),
  expect = { action = "allow", stopped_by = "known_device", not_fired = "missing_user_agent" },
}
test "the trial rule in shadow" {
  event = merge(base, { account = "trial", user_agent = absent }),
  expect = { action = "allow", score = 4, fired = "new_rule", shadow_action = "challenge" },
}
test "a provider added to the list for this case" {
  event = merge(base, { email = "j@burner.example" }),
  lists = { ["lists/burner.txt"] = { add = { "burner.example" } } },
  expect = { fired = "disposable_email" },
}
test "the list emptied for this case" {
  event = merge(base, { email = "j@mailinator.com" }),
  lists = { ["lists/burner.txt"] = { replace = {} } },
  expect = { not_fired = "disposable_email" },
}
test "the list is back for the next case" {
  event = merge(base, { email = "j@mailinator.com" }),
  expect = { fired = "disposable_email" },
}
"""
    d = policies({"password_reset_test.lua": tests})
    tmp = tempfile.mkdtemp(prefix="vd-e2e-tmp-")  # where the changed lists' copies go
    p = verdict_test(d, expect=0, env=dict(os.environ, TMPDIR=tmp))
    assert "10 passed, 0 failed" in p.stdout, p.stdout
    with open(os.path.join(d, "lists", "burner.txt")) as f:
        assert f.read() == BURNER  # the list file itself was never touched
    assert os.listdir(tmp) == [], os.listdir(tmp)  # and the copies are gone
    os.rmdir(tmp)


def test_time_of_a_case():
    # The case's time is what the state sees: its seeds and its earlier events are counted then.
    tests = """
test "as text" {
  pipeline = "password_reset",
  time = "2025-03-01T03:00:00Z",
  event = { user_agent = "x", ip = "a" },
  counters = { ["reset:ip:a"] = { minute = 3 } },
  expect = { fired = "reset_burst" },
}
test "as Unix seconds" {
  pipeline = "password_reset",
  time = 1740798000,
  event = { user_agent = "x", ip = "a" },
  before = { { user_agent = "x", ip = "a" }, { user_agent = "x", ip = "a" } },
  expect = { not_fired = "reset_burst", features = { resets_hour = 3 } },
}
"""
    verdict_test(policies({"timing_test.lua": tests}), expect=0)
    d = policies({"timing_test.lua": 'test "a" { pipeline = "password_reset",\n'
                  '  time = "2025-03-01 03:00", event = {}, expect = {} }\n'})
    p = verdict_test(d, expect=1)
    assert "timing_test.lua:2: case 'a': time: expected Unix seconds or " in p.stdout, p.stdout


def test_coverage():
    d = policies({"password_reset_test.lua": PASSING})
    p = verdict_test("--coverage", d, expect=0)
    out = p.stdout
    assert "password_reset: 6 of 8 rules not fired by any case (3 cases)" in out, out
    for rule in ("gate/known_device", "checks/missing_user_agent", "checks/many_accounts",
                 "checks/locked", "checks/night"):
        assert "    %s\n" % rule in out, (rule, out)
    assert "    trial/new_rule (shadow)\n" in out, out
    assert "checks/disposable_email" not in out and "checks/reset_burst" not in out, out
    # Only the cases --run selected count, and the report says so.
    p = verdict_test("--coverage", "--run", "ordinary", d, expect=0)
    assert "coverage of the cases --run selected:" in p.stdout, p.stdout
    assert "8 of 8 rules not fired" in p.stdout, p.stdout


def test_junit_xml():
    d = policies({"password_reset_test.lua": FAILING,
                  "more/password_reset_test.lua": PASSING.replace("test \"an", "test \"<&> an"),
                  "broken_test.lua": "test 'x' { event = {}, evnt = 1 }"})
    xml_path = os.path.join(d, "..", os.path.basename(d) + ".xml")
    p = verdict_test("--junit", xml_path, d, expect=1)
    root = ET.parse(xml_path).getroot()
    assert root.tag == "testsuites", root.tag
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "1", "1"), \
        root.attrib
    suites = {os.path.relpath(s.get("name"), d): s for s in root.findall("testsuite")}
    assert set(suites) == {"broken_test.lua", "more/password_reset_test.lua",
                           "password_reset_test.lua"}, suites
    cases = suites["password_reset_test.lua"].findall("testcase")
    assert [c.get("name") for c in cases] == ["meant to challenge", "passes"], cases
    failure = cases[0].find("failure")
    f = os.path.join(d, "password_reset_test.lua")
    assert failure.get("message") == "%s:5: action: want challenge, got block" % f, \
        failure.attrib
    assert "%s:8: fired: reset_burst did not fire" % f in failure.text, failure.text
    assert cases[0].get("line") == "2" and cases[0].get("file") == f, cases[0].attrib
    assert cases[1].find("failure") is None and cases[1].find("error") is None
    names = [c.get("name") for c in suites["more/password_reset_test.lua"].findall("testcase")]
    assert "<&> an ordinary reset is allowed" in names, names
    error = suites["broken_test.lua"].find("testcase/error")
    assert "broken_test.lua:1: case 'x': unknown key 'evnt'" in error.get("message"), error.attrib
    os.unlink(xml_path)
    assert "cannot write" in verdict_test("--junit", "/nonexistent/x.xml", d, expect=1).stderr


def test_mistakes_in_test_files():
    cases = {
        "syntax_test.lua": ('test "a" {\n  event = {},\n  expect = { action = = "allow" },\n}\n',
                            "syntax_test.lua:3: unexpected symbol near '='"),
        "key_test.lua": ('test "a" {\n  pipeline = "password_reset",\n  event = {},\n'
                         '  expcet = {},\n}\n',
                         "key_test.lua:4: case 'a': unknown key 'expcet' (known keys: "),
        "pipeline_test.lua": ('test "a" { event = {}, expect = {} }\n',
                              "pipeline_test.lua:1: case 'a': no pipeline 'pipeline' "
                              "(pipelines: password_reset); give pipeline = \"...\""),
        "rule_test.lua": ('test "a" {\n  pipeline = "password_reset",\n  event = {},\n'
                          '  expect = {\n    fired = { "disposable_email",\n'
                          '              "disposible_email" },\n  },\n}\n',
                          "rule_test.lua:6: case 'a': fired: pipeline 'password_reset' has no "
                          "rule 'disposible_email'"),
        "action_test.lua": ('test "a" { pipeline = "password_reset", event = {},\n'
                            '  expect = { action = "deny" } }\n',
                            "action_test.lua:2: case 'a': action: pipeline 'password_reset' "
                            "has no action 'deny' (its actions: allow, challenge, block)"),
        "list_test.lua": ('test "a" { pipeline = "password_reset", event = {},\n'
                          '  lists = { ["lists/none.txt"] = { add = { "x" } } },\n'
                          '  expect = {} }\n',
                          "list_test.lua:2: case 'a': lists: 'lists/none.txt' is no file"),
    }
    d = policies({name: text for name, (text, _) in cases.items()})
    p = verdict_test(d, expect=1)
    for name, (_, needle) in cases.items():
        assert needle in p.stdout, (name, needle, p.stdout)
    assert "0 passed, 0 failed, 6 errors" in p.stdout, p.stdout
    # A rule that fails at run time fails the case (faults = { ... } expects it).
    d = policies({"password_reset_test.lua": 'test "f" { event = { account = {}, user_agent = "x" },'
                  ' expect = { } }\ntest "g" { event = { account = {}, user_agent = "x" },'
                  ' expect = { faults = "many_accounts" } }\n'})
    p = verdict_test(d, expect=1)
    assert "faults: many_accounts failed: " in p.stdout and "reset.lua:" in p.stdout, p.stdout
    assert "1 passed, 1 failed" in p.stdout, p.stdout


def test_usage_and_policy_errors():
    d = policies({"password_reset_test.lua": PASSING})
    assert "usage: verdict test" in verdict_test("--help", expect=0).stdout
    assert "usage: verdict test" in verdict_test("--bogus", d, expect=2).stderr
    assert "one policy directory" in verdict_test(d, d, expect=2).stderr
    assert "--run '(':" in verdict_test("--run", "(", d, expect=2).stderr
    # A filter that selects nothing (a typo in a CI job) fails instead of passing empty.
    assert "no case matches --run 'zzz'" in verdict_test("--run", "zzz", d, expect=1).stderr
    p = verdict_test(os.path.join(d, "nowhere"), expect=1)
    assert "nowhere" in p.stderr, p.stderr
    bare = policy_dir({"reset.lua": POLICY, "lists/burner.txt": BURNER})
    assert "no test files (*_test.lua)" in verdict_test(bare, expect=1).stderr
    broken = policies({"password_reset_test.lua": PASSING},
                      {"reset.lua": POLICY.replace('score = 6,', 'score = 6, scroe = 1,')})
    p = verdict_test(broken, expect=1)
    assert "reset.lua:5: rule 'disposable_email': unknown key 'scroe'" in p.stderr, p.stderr


def test_daemon_never_loads_test_files():
    d = policies({"password_reset_test.lua": "this is no Lua, and no policy {"})
    with Daemon(policies=d) as vd:
        with Client(vd.socket) as c:
            r = c.decide("password_reset", {"email": "x@mailinator.com", "user_agent": "x"})
            assert r["action"] == "challenge", r
        vd.stop()


if __name__ == "__main__":
    sys.exit(run_tests([test_passing_cases, test_lint_findings_before_the_cases,
                        test_failure_names_the_line_and_shows_the_decision,
                        test_starting_state_time_and_earlier_events,
                        test_time_of_a_case,
                        test_coverage,
                        test_junit_xml,
                        test_mistakes_in_test_files,
                        test_usage_and_policy_errors,
                        test_daemon_never_loads_test_files]))
