#!/usr/bin/env python3
"""Reference timings for bench/iforest.bench.ts: scikit-learn's IsolationForest on the same CSV.

Fits IsolationForest(n_estimators, max_samples, n_jobs=1, random_state=seed) on the feature
columns and scores the same rows; prints one JSON object per run on stdout. Loading the CSV is
not timed. The ground-truth column (if named) is only used for the AUC, never for fitting.
"""
import argparse
import json
import sys
import time

import numpy as np
from sklearn import __version__ as sklearn_version
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("csv")
    parser.add_argument("--label", default=None, help="ground-truth column, excluded from features")
    parser.add_argument("--seeds", default="1", help="comma-separated seeds, one run each")
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--sample", type=int, default=256)
    args = parser.parse_args()

    with open(args.csv, "r", encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    table = np.loadtxt(args.csv, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    label_index = header.index(args.label) if args.label else -1
    feature_index = [i for i in range(len(header)) if i != label_index]
    features = np.ascontiguousarray(table[:, feature_index])
    truth = table[:, label_index] if label_index >= 0 else None

    for seed in (int(s) for s in args.seeds.split(",")):
        forest = IsolationForest(n_estimators=args.trees, max_samples=args.sample, n_jobs=1, random_state=seed)
        start = time.perf_counter()
        forest.fit(features)
        fitted = time.perf_counter()
        scores = -forest.score_samples(features)
        scored = time.perf_counter()
        result = {
            "seed": seed,
            "rows": int(features.shape[0]),
            "features": int(features.shape[1]),
            "fit_s": fitted - start,
            "score_s": scored - fitted,
            "auc": float(roc_auc_score(truth, scores)) if truth is not None else None,
            "sklearn": sklearn_version,
        }
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
