"""Writes the gbdt benchmark's model (300 trees of depth 4 over 57 features, the shape of the
UCI Spambase set) and 1,000 rows to score: python3 gbdt_bench_model.py MODEL.json ROWS.csv"""

import sys

import numpy as np
import xgboost as xgb

rng = np.random.default_rng(42)
X = rng.normal(size=(5000, 57)).astype(np.float32)
y = (X[:, :8].sum(axis=1) + rng.normal(size=5000) > 0).astype(int)
bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "seed": 1},
                xgb.DMatrix(X, label=y), 300)
bst.save_model(sys.argv[1])
with open(sys.argv[2], "w") as f:
    for row in rng.normal(size=(1000, 57)).astype(np.float32):
        f.write(",".join(repr(float(v)) for v in row) + "\n")
