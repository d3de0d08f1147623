"""3D encoders and heads: the radius graph against a brute-force one, invariance of atom and
molecule outputs and equivariance of the vector head under a rotation and a translation."""

import itertools

import pytest
import torch
from torch_geometric.data import Batch, Data

from cpmkit.models.encoders import family_of
from cpmkit.models.geometric import (
    EquivariantVectorHead,
    GeometryPredictor,
    SchNetEncoder,
    radius_graph_dense,
)
from cpmkit.models.unimol import UniMolEncoder


def two_molecules(seed: int = 0):
    torch.manual_seed(seed)
    z = torch.tensor([6, 6, 8, 7, 6, 6, 9, 6, 8])
    pos = torch.randn(9, 3) * 1.5
    index = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1])
    return z, pos, index


def random_motion(seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    rotation, _ = torch.linalg.qr(torch.randn(3, 3, generator=generator))
    if torch.det(rotation) < 0:  # a proper rotation, not a reflection
        rotation[:, 0] = -rotation[:, 0]
    return rotation, torch.randn(3, generator=generator) * 3


def test_radius_graph_equals_brute_force():
    z, pos, index = two_molecules()
    cutoff = 2.5
    (src, dst), weight = radius_graph_dense(pos, index, cutoff)
    got = {(int(a), int(b)): float(w) for a, b, w in zip(src, dst, weight)}
    expected = {}
    for i, j in itertools.permutations(range(len(z)), 2):
        distance = float(((pos[i] - pos[j]) ** 2).sum().sqrt())
        if index[i] == index[j] and distance < cutoff:
            expected[(i, j)] = distance
    assert set(got) == set(expected) and len(expected) > 0
    assert all(abs(got[k] - expected[k]) < 1e-5 for k in expected)
    assert not any(index[a] != index[b] for a, b in got)  # never across molecules


@pytest.mark.parametrize("build", [lambda: SchNetEncoder(16, 2), lambda: UniMolEncoder(16, 2, 2)])
def test_geometry_encoders_are_invariant(build):
    torch.manual_seed(0)
    encoder = build().eval()
    z, pos, index = two_molecules()
    rotation, shift = random_motion()
    atoms = encoder(z, pos, index)
    assert family_of(encoder) == "geometry" and atoms.shape == (9, encoder.out_dim)
    assert torch.allclose(atoms, encoder(z, pos @ rotation.T + shift, index), atol=1e-4)
    # a molecule's vectors do not depend on the other molecules of the batch
    assert torch.allclose(atoms[5:], encoder(z[5:], pos[5:], torch.zeros(4, dtype=torch.long)),
                          atol=1e-4)  # fmt: skip


def test_vector_head_rotates_with_the_molecule_and_ignores_translation():
    torch.manual_seed(0)
    encoder = SchNetEncoder(16, 2).eval()
    head = EquivariantVectorHead(16, hidden=16, cutoff=5.0).eval()
    z, pos, index = two_molecules()
    rotation, shift = random_motion()
    moved = pos @ rotation.T + shift
    vectors = head(encoder(z, pos, index), pos, index)
    moved_vectors = head(encoder(z, moved, index), moved, index)
    assert vectors.shape == (9, 3) and vectors.abs().max() > 1e-3  # not trivially zero
    assert torch.allclose(moved_vectors, vectors @ rotation.T, atol=1e-4)
    # not invariant: the outputs turn with the molecule
    assert not torch.allclose(moved_vectors, vectors, atol=1e-3)


def test_geometry_predictor_is_invariant_and_scales_to_the_targets():
    torch.manual_seed(0)
    z, pos, index = two_molecules()
    rotation, shift = random_motion()
    mols = [Data(z=z[:5], pos=pos[:5]), Data(z=z[5:], pos=pos[5:])]
    moved = [Data(z=m.z, pos=m.pos @ rotation.T + shift) for m in mols]
    model = GeometryPredictor(SchNetEncoder(16, 2), num_tasks=2, target_mean=[1.0, -1.0],
                              target_std=[2.0, 0.5]).eval()  # fmt: skip
    out = model(Batch.from_data_list(mols))
    assert out.shape == (2, 2)
    assert torch.allclose(out, model(Batch.from_data_list(moved)), atol=1e-4)
    plain = GeometryPredictor(model.encoder, num_tasks=2)
    plain.head.load_state_dict(model.head.state_dict())
    expected = plain(Batch.from_data_list(mols)) * torch.tensor([2.0, 0.5]) + torch.tensor(
        [1.0, -1.0]
    )
    assert torch.allclose(out, expected, atol=1e-5)
