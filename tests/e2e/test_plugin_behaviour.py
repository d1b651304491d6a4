"""Anomaly models and behaviour profiles through the plugin host API (1.4), against the real
daemon: a plugin and a rule that name the same series teach one model, a plugin and a rule
that read the same account's profile read one profile, bad calls are refused without an
answer, and a report's run changes neither."""

import os
import sys

from vdtest import Client, Daemon, policy_dir, run_tests

PLUGINS = os.environ.get("VD_TEST_PLUGINS", "build-test/test-plugins")

POLICY = """
rule "rule_side" {
  score = 0,
  when = function(ev, ctx)
    local a = verdict.anomaly("shared-series", ev.count, { every = 1 })
    ctx:set("rule_seen", a.seen)
    local p = verdict.profile(ev.account, { country = ev.country, device = ev.device })
    ctx:set("rule_events", p.events)
    return false
  end,
}
pipeline "p" {
  stages = { stage "s" { "rule_side" }, plugin "behaviour" { series = "shared-series" } },
  actions = { review = 5 },
}
"""


def event(i, count=10, country="DE", **extra):
    return dict({"count": count, "account": "acct:ann", "country": country,
                 "device": "firefox", "t": i}, **extra)


def test_plugin_and_rule_share_models_and_profiles():
    d = policy_dir({"p.lua": POLICY})
    with Daemon(policies=d, args=["--plugin-dir", PLUGINS]) as vd, Client(vd.socket) as c:
        seen = []
        for i in range(3):
            r = c.decide("p", event(i))
            f = r["features"]
            seen.append((f["rule_seen"], f["plugin_seen"], f["rule_events"], f["plugin_events"]))
            assert f["plugin_refused"] is True or f["plugin_refused"] == 1, f
        # One model: the plugin sees the value the rule's call taught it (the rest of the
        # second is scored on copies: one value a period). One profile: each call adds the
        # event, and each sees the other's.
        assert seen == [(0, 1, 0, 1), (1, 1, 2, 3), (1, 1, 4, 5)], seen
        f = r["features"]
        assert f["plugin_country_new"] is False and "shared-series" in f["plugin_why"], f
        # A new country is new to both.
        f = c.decide("p", event(9, country="BR"))["features"]
        assert f["plugin_country_new"] is False, f  # the rule added BR just before
        f = c.decide("p", event(10, country="JP", lat=35.7, lon=139.7))["features"]
        assert "plugin_km" not in f, f  # no earlier place
        f = c.decide("p", event(11, country="FR", lat=48.9, lon=2.35))["features"]
        assert 9600 < f["plugin_km"] < 9800, f  # Tokyo to Paris
        # A report's run on an event: nothing learnt, nothing added.
        before = c.decide("p", event(12))["features"]
        c.call("report", ["p", event(13), "bad"])
        after = c.decide("p", event(14))["features"]
        assert after["plugin_events"] == before["plugin_events"] + 2, (before, after)


if __name__ == "__main__":
    sys.exit(run_tests([test_plugin_and_rule_share_models_and_profiles]))
