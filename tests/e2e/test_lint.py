"""The policy lint in `verdictd --check` (warnings; errors with --strict), the shipped policies
linting clean, errors at the offending key's line, and a pipeline's event fields refusing the
events that do not match them, end to end."""

import subprocess
import sys
import urllib.request

from vdtest import (DATA, SHIPPED, VERDICT, VERDICTD, Client, Daemon, expect_error, free_port,
                    policy_dir, run_tests)

# Each line a mistake the load accepts; the lint names it with its line.
LINTED = """\
datacenter_asns = verdict.set { "64496" }
local unused = verdict.list.ips "lists/nets.txt"
rule "datacenter" {
  score = 4,
  when = function(ev)
    return datacenter_asn:has(ev.asn)
  end,
}
rule "gate" { stop = "allow", when = function() return true end }
rule "late" { score = 1, when = function(ev) return ev.late end }
rule "forgotten" { score = 1, when = function(ev) return ev.x end }
pipeline "signup" {
  stages = {
    stage "gate" { "gate" },
    stage "scores" { "datacenter", "late" },
  },
  actions = { challenge = 5 },
}
"""


def check(policies, *args):
    p = subprocess.run([VERDICTD, "--check", "--policies", policies, "--data-dir", DATA] +
                       list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def findings(stderr):
    return [line for line in stderr.splitlines() if "warning: " in line or "error: " in line]


def test_check_prints_warnings():
    d = policy_dir({"main.lua": LINTED, "lists/nets.txt": "10.0.0.0/8\n"})
    code, out, err = check(d)
    assert code == 0, err
    assert "policies OK" in out and "4 lint warning(s)" in out, out
    lines = findings(err)
    expected = [
        "main.lua:2: warning: the list 'lists/nets.txt' is opened here, but no rule uses it "
        "[unused-list]",
        "main.lua:6: warning: rule code reads the global 'datacenter_asn', which no policy file "
        "defines (did you mean 'datacenter_asns'?)",
        "main.lua:11: warning: rule 'forgotten' is in no stage of any pipeline",
        "main.lua:15: warning: pipeline 'signup': stage 'scores' never runs: rule 'gate' of stage "
        "'gate' always fires and stops with 'allow' [unreachable-rule]",
    ]
    assert len(lines) == len(expected), err
    for line, want in zip(lines, expected):
        assert line.startswith(d + "/") and want in line, (line, want)


def test_the_daemon_logs_them():
    """A policy with findings still loads (they are warnings), and the daemon's log says them
    at start and at each reload, where an operator who never ran --check sees them."""
    d = policy_dir({"main.lua": LINTED, "lists/nets.txt": "10.0.0.0/8\n"})
    with Daemon(policies=d) as vd:
        with Client(vd.socket) as c:
            c.call("reload", [])
        lines = [l for l in vd.output().splitlines() if " lint: " in l]
        assert len(lines) == 8 and " warn " in lines[0], vd.output()  # 4 at start, 4 on reload
        assert "did you mean 'datacenter_asns'" in "".join(lines), lines


def test_strict_makes_them_errors():
    d = policy_dir({"main.lua": LINTED, "lists/nets.txt": "10.0.0.0/8\n"})
    code, out, err = check(d, "--strict")
    assert code == 1, (code, out, err)
    assert "policies OK" not in out
    assert len([line for line in findings(err) if ": error: " in line]) == 4, err
    assert "lint findings are errors with --strict" in err
    p = subprocess.run([VERDICTD, "--strict", "--policies", d], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "--strict goes with --check" in p.stderr, p.stderr


def test_shipped_policies_lint_clean():
    code, out, err = check(SHIPPED, "--strict")
    assert code == 0 and "0 lint warning(s)" in out, (out, err)
    assert findings(err) == [], err


def test_errors_point_at_the_key():
    d = policy_dir({"main.lua": 'rule "a" {\n  score = 1,\n  when = function() end,\n'
                                '  scroe = 2,\n}\n'})
    code, _, err = check(d)
    assert code == 1 and "main.lua:4: rule 'a': unknown key 'scroe' (did you mean 'score'?" \
        in err, err
    d = policy_dir({"main.lua": 'rule "alpha" { score = 1, when = function() end }\n'
                                'pipeline "p" { stages = { stage "s" {\n'
                                '  "alpha",\n  "alhpa",\n} } }\n'})
    code, _, err = check(d)
    assert code == 1 and "main.lua:4: stage 's': unknown rule 'alhpa' (did you mean 'alpha'?)" \
        in err, err


FIELDS = """\
rule "young" { score = 5, when = function(ev) return ev.age < 18 end }
pipeline "signup" {
  stages = { stage "s" { "young" } },
  actions = { review = 5 },
  fields = { ip = "ip", email = "string", age = "integer", country = "string?" },
}
"""


def test_events_checked_against_fields():
    port = free_port()
    d = policy_dir({"main.lua": FIELDS})
    with Daemon(d, args=["--metrics", "127.0.0.1:%d" % port]) as vd:
        with Client(vd.socket) as c:
            ok = {"ip": "203.0.113.7", "email": "a@example.org", "age": 16}
            assert c.decide("signup", ok)["action"] == "review"
            assert c.call("pipelines", [])[0]["fields"] == {
                "age": "integer", "country": "string?", "email": "string", "ip": "ip"}
            assert c.decide("signup", dict(ok, age=30.0, country="FR"))["action"] == "allow"
            expect_error(lambda: c.decide("signup", {"ip": "203.0.113.7", "age": 16}),
                         "bad_request", "pipeline 'signup': the event lacks the field 'email' "
                         "(a string)")
            expect_error(lambda: c.decide("signup", dict(ok, age="16")), "bad_request",
                         "event field 'age' must be an integer, not a string")
            expect_error(lambda: c.decide("signup", dict(ok, ip="localhost")), "bad_request",
                         "event field 'ip' must be an IP address")
            expect_error(lambda: c.decide("signup", dict(ok, country=["FR"])), "bad_request",
                         "event field 'country' must be a string, not an array")
            stats = c.call("stats", [])
            assert stats["pipelines"]["signup"]["invalid_events"] == 4, stats["pipelines"]
            assert stats["pipelines"]["signup"]["requests"] == 2
            assert stats["errors_by_code"]["bad_request"] == 4
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            text = r.read().decode()
        assert 'verdict_pipeline_invalid_events_total{pipeline="signup"} 4\n' in text
        p = subprocess.run([VERDICT, "--socket", vd.socket, "decide", "signup", '{"age": 3}'],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and "lacks the field" in p.stderr, (p.stdout, p.stderr)


if __name__ == "__main__":
    sys.exit(run_tests([test_check_prints_warnings, test_the_daemon_logs_them,
                        test_strict_makes_them_errors,
                        test_shipped_policies_lint_clean, test_errors_point_at_the_key,
                        test_events_checked_against_fields]))
