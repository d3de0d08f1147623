"""How much faster is the kit's O(n log n) concordance index than the O(n^2) definition?

On KIBA's setting-1 test fold (19,709 pairs: its real KIBA scores as labels, and noisy
predictions ``y + N(0, 0.5^2)`` drawn with seed 0), both implementations of
:mod:`cpmkit.tasks.metrics` are timed on one thread:

(a) ``concordance_index_slow``: every pair compared, vectorised in numpy chunks (already far
    faster than DeepDTA's double Python loop, which this benchmark does not run);
(b) ``concordance_index``: counts from Kendall's tau-b (merge sort), O(n log n).

Both must give the same value (to 1e-12). The rate is CPU seconds (``time.process_time``), the
best of ``--repeats``. The last line printed is one JSON object with ``speedup`` = time (a) /
time (b). Without the data (no mirror, no network), random labels of the same size are used and
the JSON says so. Tests never assert timings. Run: ``python benchmarks/concordance.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from cpmkit.tasks.metrics import concordance_index, concordance_index_slow

KIBA_TEST_SIZE = 19709


def kiba_test_labels() -> tuple[np.ndarray, str]:
    """The KIBA scores of the setting-1 test fold, or random labels of its size."""
    try:
        from cpmkit.data.pairs import load_dti, setting1_split

        table = load_dti("kiba")
        split = setting1_split(table)
        return table.pairs["y"].to_numpy()[split.test], "kiba setting-1 test fold"
    except (OSError, RuntimeError, KeyError) as error:  # no data: same size, synthetic labels
        print(f"KIBA not available ({error}); timing random labels of the same size")
        return np.random.default_rng(0).normal(11.7, 0.8, KIBA_TEST_SIZE), "synthetic"


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    y, source = kiba_test_labels()
    pred = y + np.random.default_rng(0).normal(0.0, 0.5, len(y))
    fast, slow = concordance_index(y, pred), concordance_index_slow(y, pred)
    assert abs(fast - slow) < 1e-12, (fast, slow)
    t_fast = best_time(lambda: concordance_index(y, pred), args.repeats)
    t_slow = best_time(lambda: concordance_index_slow(y, pred), args.repeats)
    print(f"n = {len(y)} ({source}); CI = {fast:.6f}")
    print(f"O(n log n): {t_fast * 1000:.1f} ms   O(n^2) vectorised: {t_slow * 1000:.1f} ms")
    print(
        json.dumps(
            {
                "benchmark": "concordance_index",
                "n": len(y),
                "labels": source,
                "ci": round(fast, 6),
                "fast_s": round(t_fast, 4),
                "slow_s": round(t_slow, 4),
                "speedup": round(t_slow / t_fast, 1),
                "repeats": args.repeats,
                "machine": platform.processor() or platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
