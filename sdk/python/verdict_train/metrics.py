"""The figures issue 4 asks for, from scores and labels (1 = spam)."""

import numpy as np
from sklearn.metrics import roc_auc_score


def recall_at_fpr(labels, scores, fpr):
    """Spam recall when at most fpr of the ham scores strictly above the threshold."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    ham = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(fpr * len(ham)))  # hams that may be above the threshold
    threshold = ham[allowed] if allowed < len(ham) else -np.inf
    return float(np.mean(scores[labels == 1] > threshold))


def fpr_at_recall(labels, scores, recall):
    """The share of ham at or above the highest threshold that still catches `recall` of spam."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    spam = np.sort(scores[labels == 1])[::-1]
    threshold = spam[max(0, int(np.ceil(recall * len(spam))) - 1)]
    return float(np.mean(scores[labels == 0] >= threshold))


def report(name, labels, scores):
    return {"name": name, "auc": float(roc_auc_score(labels, scores)),
            "recall_fpr_0.1%": recall_at_fpr(labels, scores, 0.001),
            "recall_fpr_0.5%": recall_at_fpr(labels, scores, 0.005),
            "fpr_recall_95%": fpr_at_recall(labels, scores, 0.95)}
