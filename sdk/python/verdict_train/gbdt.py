"""The mail pipeline's gbdt: gradient-boosted trees over message statistics (stats.py), which
see a message's structure and style where the text classifier sees its words. Fixed
parameters and seed: the same corpus gives the same model."""

import numpy as np

from . import corpus, stats

PARAMS = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.1, "seed": 1, "nthread": 1}
ROUNDS = 200


def train_stats_model(messages, out):
    """Trains on [(path, label)] and saves the JSON model, inputs named msg_*."""
    import xgboost as xgb
    X = np.array([stats.message_stats(corpus.read(p)) for p, _ in messages], dtype=np.float32)
    y = np.array([label for _, label in messages])
    names = [stats.PREFIX + n for n in stats.NAMES]
    bst = xgb.train(PARAMS, xgb.DMatrix(X, label=y, feature_names=names), ROUNDS)
    bst.save_model(out)
