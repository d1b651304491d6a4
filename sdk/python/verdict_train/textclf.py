"""The textclf model: logistic regression over hashed token features, and its file format.

Model file (little-endian):
    8 bytes   b"VDTXTCLF"
    uint32    format version (1)
    uint32    bucket bits (20)
    uint64    hash seed (0)
    float64   bias
    uint32    number of weights N
    N x (uint32 bucket, float64 weight), buckets ascending, zero weights left out
    uint32    length of the metadata, then that many bytes of JSON (how it was trained)

Score: log-odds = bias + the weights of the message's distinct buckets, added in ascending
bucket order in float64; probability = 1 / (1 + exp(-log-odds)). The C plugin does exactly
this, which is why the two agree to the last bits."""

import json
import math
import struct

import numpy as np
import scipy.sparse as sp

from . import features

MAGIC = b"VDTXTCLF"


def matrix(bucket_lists):
    """A CSR matrix of binary features from lists of buckets."""
    indptr, indices = [0], []
    for b in bucket_lists:
        indices.extend(b)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, np.array(indices, dtype=np.int64), np.array(indptr)),
                         shape=(len(bucket_lists), 1 << features.BUCKET_BITS))


def train(bucket_lists, labels, c=1.0):
    """Fits the logistic regression; returns (bias, {bucket: weight})."""
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression(C=c, solver="liblinear", max_iter=1000)
    model.fit(matrix(bucket_lists), np.array(labels))
    coef = model.coef_[0]
    nz = np.flatnonzero(coef)
    return float(model.intercept_[0]), {int(i): float(coef[i]) for i in nz}


def save(path, bias, weights, meta):
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<IIQd", 1, features.BUCKET_BITS, features.HASH_SEED, bias))
        f.write(struct.pack("<I", len(weights)))
        for b in sorted(weights):
            f.write(struct.pack("<Id", b, weights[b]))
        blob = json.dumps(meta, sort_keys=True).encode()
        f.write(struct.pack("<I", len(blob)) + blob)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == MAGIC, "not a textclf model"
    version, bits, seed, bias = struct.unpack_from("<IIQd", data, 8)
    (n,) = struct.unpack_from("<I", data, 32)
    weights = dict(struct.unpack_from("<Id", data, 36 + 12 * i) for i in range(n))
    return bias, weights


def log_odds(bias, weights, buckets):
    """The reference score: bias plus weights in ascending bucket order, in float64."""
    s = bias
    for b in buckets:
        s += weights.get(b, 0.0)
    return s


def probability(x):
    return 1.0 / (1.0 + math.exp(-x))
