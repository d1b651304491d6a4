"""The gbdt plugin against xgboost itself: same predictions on the same rows (float32 margins
equal, probabilities within 1e-6), unsupported models refused, and the plugin in verdictd with
model reloads. Uses Debian's python3-xgboost."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from vdtest import Client, Daemon, expect_error, policy_dir, run_tests  # noqa: E402

PREDICT = os.environ.get("GBDT_PREDICT", "build-test/bin/gbdt-predict")
TMP = tempfile.mkdtemp(prefix="vd-gbdt-")
NAMES = ["f%d" % i for i in range(12)]


def dataset(seed, n, missing):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    X[rng.random(X.shape) < missing] = np.nan
    z = np.nan_to_num(X[:, 0]) + 2 * np.nan_to_num(X[:, 3]) - np.nan_to_num(X[:, 7])
    y = (z + rng.normal(size=n) * 0.5 > 0).astype(int)
    return X, y


def train(params, rounds=300, name="m.json"):
    X, y = dataset(7, 3000, 0.1)
    bst = xgb.train(dict(params, seed=1), xgb.DMatrix(X, label=y, feature_names=NAMES), rounds)
    path = os.path.join(TMP, name)
    bst.save_model(path)
    return bst, path


def c_predict(path, rows):
    csv = os.path.join(TMP, "rows.csv")
    with open(csv, "w") as f:
        for r in rows:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n")
    p = subprocess.run([PREDICT, path, csv], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = np.array([[float(x) for x in line.split()] for line in p.stdout.splitlines()])
    return out[:, 0].astype(np.float32), out[:, 1].astype(np.float32)


def test_predictions_equal_xgboost():
    rows, _ = dataset(11, 1000, 0.15)
    for params in ({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3},
                   {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "base_score": 0.2},
                   {"objective": "binary:logitraw", "max_depth": 4, "eta": 0.3}):
        bst, path = train(params)
        d = xgb.DMatrix(rows, feature_names=NAMES)
        ref_out, ref_margin = bst.predict(d), bst.predict(d, output_margin=True)
        out, margin = c_predict(path, rows)
        assert np.array_equal(margin, ref_margin), (params, np.max(np.abs(margin - ref_margin)))
        assert np.max(np.abs(out - ref_out)) <= 1e-6, params


def refused(path, *needles):
    p = subprocess.run([PREDICT, path, os.devnull], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, path
    for n in needles:
        assert n in p.stderr, (n, p.stderr)


def test_unsupported_models_are_refused():
    X, y = dataset(7, 500, 0)
    multi = xgb.train({"objective": "multi:softprob", "num_class": 3},
                      xgb.DMatrix(X, label=y + (X[:, 1] > 1)), 5)
    multi.save_model(os.path.join(TMP, "multi.json"))
    refused(os.path.join(TMP, "multi.json"), "multi:softprob", "not supported")
    reg = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X, label=y), 5)
    reg.save_model(os.path.join(TMP, "reg.json"))
    refused(os.path.join(TMP, "reg.json"), "reg:squarederror")
    _, path = train({"objective": "binary:logistic"}, rounds=3, name="cat.json")
    model = json.load(open(path))
    model["learner"]["gradient_booster"]["model"]["trees"][1]["split_type"][0] = 1
    json.dump(model, open(path, "w"))
    refused(path, "categorical")
    dart = xgb.train({"objective": "binary:logistic", "booster": "dart"}, xgb.DMatrix(X, label=y), 3)
    dart.save_model(os.path.join(TMP, "dart.json"))
    refused(os.path.join(TMP, "dart.json"), "booster dart")
    with open(os.path.join(TMP, "broken.json"), "w") as f:
        f.write(open(path).read()[:500])
    refused(os.path.join(TMP, "broken.json"), "not a readable JSON model")
    model["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 0
    model["learner"]["gradient_booster"]["model"]["trees"][1]["split_type"][0] = 0
    json.dump(model, open(path, "w"))
    refused(path, "tree 0", "out of range")


POLICY = """
pipeline "score" {
  stages = { plugin "gbdt" { model = "%s", weight = 10 } },
  actions = { review = 5 },
}
"""


def test_plugin_in_verdictd_and_model_reload():
    bst, path = train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3})
    model = os.path.join(TMP, "live.json")
    shutil.copy(path, model)
    rows, _ = dataset(13, 50, 0.2)
    ref = bst.predict(xgb.DMatrix(rows, feature_names=NAMES))
    pol = policy_dir({"p.lua": POLICY % model})
    # The model lives outside the policy directory: name its folder as the data directory.
    with Daemon(policies=pol, args=["--data-dir", TMP]) as vd, Client(vd.socket) as c:
        first = None
        for row, want in zip(rows, ref):
            event = {n: float(v) for n, v in zip(NAMES, row) if not np.isnan(v)}
            r = c.decide("score", event)
            assert abs(r["features"]["gbdt_p"] - float(want)) <= 1e-6, (r, want)
            assert r["reasons"][0]["rule"] == "gbdt"
            first = r["features"]["gbdt_model"]
        assert first.startswith("live.json@")
        described = c.call("stats", [])["plugins"][0]
        assert described["plugin"] == "gbdt" and described["info"]["model"] == first
        assert c.call("stats", [])["pipelines"]["score"]["stages"]["gbdt"]["runs"] == len(rows)
        # A new model file: reload picks it up and says so.
        bst2, path2 = train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.5},
                            rounds=20, name="m2.json")
        shutil.copy(path2, model)
        with open(os.path.join(pol, "p.lua"), "a") as f:
            f.write("-- model v2\n")
        c.call("reload", [])
        r = c.decide("score", {"f0": 1.0})
        assert r["features"]["gbdt_model"] != first
        assert c.call("stats", [])["plugins"][0]["info"]["model"] == r["features"]["gbdt_model"]
        want = bst2.predict(xgb.DMatrix(np.array([[1.0] + [np.nan] * 11], dtype=np.float32),
                                        feature_names=NAMES))[0]
        assert abs(r["features"]["gbdt_p"] - float(want)) <= 1e-6
        # A corrupt model is refused and the running one keeps scoring.
        with open(model, "w") as f:
            f.write("{\"learner\": ")
        with open(os.path.join(pol, "p.lua"), "a") as f:
            f.write("-- model v3\n")
        expect_error(lambda: c.call("reload", []), "policy_error", "live.json", "not a readable")
        assert c.decide("score", {"f0": 1.0})["features"]["gbdt_model"] == r["features"]["gbdt_model"]


def main():
    try:
        return run_tests([test_predictions_equal_xgboost, test_unsupported_models_are_refused,
                          test_plugin_in_verdictd_and_model_reload])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
