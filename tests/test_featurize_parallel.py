"""Featurizing on several processes gives what one process gives: same items, rows, rejects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from cpmkit.featurize import _featurize_chunk, featurize_smiles
from cpmkit.featurize.parallel import check_num_workers, chunk_bounds, map_chunks

# good molecules between hostile ones: bad syntax, empty, None, NaN, a number, a dummy atom
# (outside Hu et al.'s atom table), a dative bond, an unknown element, padding
SMILES = [
    "CCO", "C1CC", "", None, "c1ccccc1O", float("nan"), 12345, "*C", "[NH3]->[Pt]",
    "[Xx]", "  CCN  ", "C[C@H](N)C(=O)O", "O=C(O)c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "C#N",
    "c1ccc2ccccc2c1", "FC(F)(F)c1ccccc1", "OCC(O)CO",
]  # fmt: skip


def assert_same_result(a, b):
    assert a.n_read == b.n_read == len(SMILES)
    assert a.rows.tolist() == b.rows.tolist() and a.rows.dtype == b.rows.dtype
    pd.testing.assert_frame_equal(a.rejects, b.rejects)
    assert len(a.items) == len(b.items)
    for x, y in zip(a.items, b.items):
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y)
            continue
        assert list(x.keys()) == list(y.keys())
        for key in x.keys():  # noqa: SIM118 -- iterating a Data gives (key, value)
            assert x[key].dtype == y[key].dtype and torch.equal(x[key], y[key]), key


@pytest.mark.parametrize("scheme", ["hu", "ecfp"])
def test_two_workers_equal_one(scheme):
    one = featurize_smiles(SMILES, scheme)
    two = featurize_smiles(SMILES, scheme, num_workers=2)
    assert_same_result(one, two)
    rejected = set(one.rejects["row"])
    assert {1, 2, 3, 5, 6, 9} <= rejected and 0 not in rejected and 10 not in rejected
    if scheme == "hu":
        assert {7, 8} <= rejected  # dummy atom, dative bond: outside the Hu et al. tables


def test_spawned_workers_equal_one():
    # spawn re-imports the kit in each worker: the chunk function and its arguments must pickle
    one = _featurize_chunk(SMILES, 0, "hu", {})
    parts = map_chunks(_featurize_chunk, SMILES, 2, "hu", {}, chunk_size=5, start_method="spawn")
    assert len(parts) == 4
    assert [r for p in parts for r in p[1]] == one[1]
    assert [r for p in parts for r in p[2]] == one[2]
    assert sum(p[3] for p in parts) == one[3] == len(SMILES)
    items = [item for p in parts for item in p[0]]
    assert all(torch.equal(a.x, b.x) and torch.equal(a.edge_attr, b.edge_attr)
               for a, b in zip(items, one[0]))  # fmt: skip


def test_worker_error_reaches_the_caller():
    with pytest.raises(TypeError, match="no options"):
        featurize_smiles(["CCO", "CCN", "CCC"], "hu", num_workers=2, radius=3)


def test_chunks_cover_every_row_in_order():
    for n, workers in [(0, 2), (1, 2), (7, 2), (100, 3), (5, 8)]:
        bounds = chunk_bounds(n, workers)
        assert [i for a, b in bounds for i in range(a, b)] == list(range(n))
    assert chunk_bounds(10, 2, chunk_size=4) == [(0, 4), (4, 8), (8, 10)]


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_num_workers_must_be_a_count(bad):
    with pytest.raises((ValueError, TypeError)):
        check_num_workers(bad)
    assert check_num_workers(None) == check_num_workers(0) == 1 and check_num_workers(3) == 3


def test_packed_graphs_come_back_equal_and_independent():
    import pickle

    from torch_geometric.data import Data

    from cpmkit.featurize.parallel import _pack, _unpack

    graphs = [
        Data(z=torch.tensor([6, 8]), pos=torch.randn(2, 3), smiles="CO", flag=torch.tensor(True)),
        Data(
            x=torch.zeros(0, 2, dtype=torch.long), edge_index=torch.zeros(2, 0, dtype=torch.long)
        ),
        Data(x=torch.arange(6).view(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]).t()),
    ]
    graphs[0].y = torch.tensor([[float("nan"), 1.0]])
    sent = pickle.loads(pickle.dumps(_pack((graphs, [1, 2], [np.ones(4), np.zeros(4)]))))
    back, rows, arrays = _unpack(sent)
    assert rows == [1, 2] and all(
        np.array_equal(a, b) for a, b in zip(arrays, [np.ones(4), np.zeros(4)])
    )
    for a, b in zip(graphs, back):
        assert list(a.keys()) == list(b.keys())  # the attribute order is kept
        for key in a.keys():  # noqa: SIM118 -- iterating a Data gives (key, value)
            if isinstance(a[key], str):
                assert a[key] == b[key]
                continue
            assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape
            assert torch.equal(torch.nan_to_num(a[key]), torch.nan_to_num(b[key])), key
            # each tensor owns its memory: saving one graph does not save the whole chunk
            assert b[key].untyped_storage().nbytes() == b[key].numel() * b[key].element_size()
