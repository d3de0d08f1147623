"""Graph featurizers: exact Hu et al. values, rejects with reasons, OGB tables, entry points."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import rdkit
import torch
from rdkit import Chem
from torch_geometric.data import Data
from torch_geometric.utils.smiles import e_map, from_rdmol, x_map

from cpmkit.featurize import (
    SCHEMES,
    FeaturizeError,
    featurize_mol,
    featurize_smiles,
    graph_hu,
    graph_ogb,
    hu_graph,
    parse_smiles,
    scheme_version,
)
from cpmkit.featurize.graph_hu import hu_atom_features, hu_bond_features
from cpmkit.featurize.graph_ogb import ATOM_FEATURES, BOND_FEATURES, ogb_graph

FERROCENE_ROW = 3399  # the NCI 5K line whose ferrocene RDKit gives a dative bond


def nci5k() -> list[str]:
    path = os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")
    with open(path) as handle:
        return [line.split()[0] for line in handle if line.strip()]


@pytest.fixture(scope="module")
def nci_mols() -> list[Chem.Mol]:
    return [parsed.mol for parsed in map(parse_smiles, nci5k()) if parsed.ok]


def mol(smiles: str) -> Chem.Mol:
    parsed = parse_smiles(smiles)
    assert parsed.ok, parsed.reason
    return parsed.mol


def reference_hu(m: Chem.Mol) -> Data:
    """The lead's original loop, kept in graph_hu as the readable reference."""
    x = torch.tensor(hu_atom_features(m), dtype=torch.long).view(-1, 2)
    edges, attrs = hu_bond_features(m)
    if not edges:
        return Data(
            x=x,
            edge_index=torch.empty((2, 0), dtype=torch.long),
            edge_attr=torch.empty((0, 2), dtype=torch.long),
        )
    return Data(
        x=x,
        edge_index=torch.tensor(edges).t().contiguous(),
        edge_attr=torch.tensor(attrs, dtype=torch.long),
    )


def assert_same_graph(a: Data, b: Data) -> None:
    for key in ("x", "edge_index", "edge_attr"):
        assert a[key].dtype == b[key].dtype == torch.long, key
        assert a[key].shape == b[key].shape, key
        assert torch.equal(a[key], b[key]), key
        assert a[key].is_contiguous(), key


# -- Hu et al.: exact values on hand-made cases ---------------------------------------------
def test_hu_ethanol():
    g = hu_graph(mol("CCO"))
    assert g.x.tolist() == [[5, 0], [5, 0], [7, 0]]  # atomic number - 1, no chirality
    assert g.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert g.edge_attr.tolist() == [[0, 0]] * 4  # single bonds, no direction


def test_hu_bond_types():
    benzonitrile = hu_graph(mol("N#Cc1ccccc1"))
    kinds = benzonitrile.edge_attr[::2, 0].tolist()
    assert kinds == [2, 0] + [3] * 6  # triple, single, six aromatic
    assert hu_graph(mol("C=O")).edge_attr.tolist() == [[1, 0], [1, 0]]


def test_hu_difluoroethene_bond_directions():
    trans = hu_graph(mol("F/C=C/F"))  # E
    cis = hu_graph(mol("F/C=C\\F"))  # Z
    assert trans.x.tolist() == [[8, 0], [5, 0], [5, 0], [8, 0]]
    # bond 0 F/C end-up-right, bond 1 C=C double, bond 2 C/F up (E) or C\F down (Z)
    assert trans.edge_attr.tolist() == [[0, 1], [0, 1], [1, 0], [1, 0], [0, 1], [0, 1]]
    assert cis.edge_attr.tolist() == [[0, 1], [0, 1], [1, 0], [1, 0], [0, 2], [0, 2]]


def test_hu_chiral_centre():
    ccw = hu_graph(mol("C[C@H](F)Cl"))
    cw = hu_graph(mol("C[C@@H](F)Cl"))
    assert ccw.x[:, 1].tolist() == [0, 2, 0, 0]  # @ = tetrahedral CCW = index 2
    assert cw.x[:, 1].tolist() == [0, 1, 0, 0]  # @@ = CW = index 1
    assert_same_graph(ccw, reference_hu(mol("C[C@H](F)Cl")))


def test_hu_salt_stays_whole_as_components():
    g = hu_graph(mol("CC(=O)[O-].[Na+]"))
    assert g.x[:, 0].tolist() == [5, 5, 7, 7, 10]
    assert g.edge_index.shape == (2, 6)
    assert 4 not in g.edge_index.flatten().tolist()  # the sodium ion has no edge
    both_ions = hu_graph(mol("[Na+].[Cl-]"))
    assert both_ions.num_nodes == 2 and both_ions.edge_index.shape == (2, 0)


def test_hu_single_atom_has_no_edges():
    g = hu_graph(mol("C"))
    assert g.x.tolist() == [[5, 0]]
    assert g.edge_index.shape == (2, 0) and g.edge_attr.shape == (0, 2)
    assert g.edge_index.dtype == g.edge_attr.dtype == torch.long
    assert hu_graph(Chem.Mol()).x.shape == (0, 2)  # an empty molecule still has two columns


def test_hu_indices_fit_the_published_embedding_tables(nci_mols):
    for m in nci_mols[:500]:
        try:
            g = hu_graph(m)
        except FeaturizeError:
            continue
        assert 0 <= int(g.x[:, 0].min()) and int(g.x[:, 0].max()) < graph_hu.MASK_ATOM_INDEX
        assert int(g.x[:, 1].max()) < graph_hu.NUM_CHIRALITY_TAG
        if g.edge_attr.numel():
            assert int(g.edge_attr[:, 0].max()) < graph_hu.SELF_LOOP_BOND_INDEX
            assert int(g.edge_attr[:, 1].max()) < graph_hu.NUM_BOND_DIRECTION


def test_hu_fast_path_equals_reference_on_nci5k(nci_mols):
    hand = [
        "C[C@H](F)Cl",
        "F/C=C\\F",
        "C/C=C/C[C@@H](O)c1ccccc1",
        "[2H]C([2H])O",
        "[H][H]",
        "C1CC[C@H]2CC[C@@H](C1)C2",
        "O=C(O)/C=C\\C(=O)O.[K+]",
    ]
    for m in nci_mols + [mol(s) for s in hand]:
        try:
            expected = reference_hu(m)
        except FeaturizeError as error:
            with pytest.raises(FeaturizeError) as caught:
                hu_graph(m)
            assert str(caught.value) == str(error)  # same reason, word for word
            continue
        assert_same_graph(hu_graph(m), expected)


# -- Hu et al.: rejects ---------------------------------------------------------------------
def test_hu_rejects_dummy_atom():
    with pytest.raises(FeaturizeError, match="atomic number 0"):
        hu_graph(mol("*CC"))


def test_hu_rejects_dative_bond():
    with pytest.raises(FeaturizeError, match="DATIVE"):
        hu_graph(mol("[NH3]->[Fe]"))


def test_hu_rejects_the_nci_ferrocene():
    ferrocene = mol(nci5k()[FERROCENE_ROW])
    assert "Fe" in Chem.MolToSmiles(ferrocene)
    with pytest.raises(FeaturizeError, match="bond 15 is DATIVE"):
        hu_graph(ferrocene)


def test_hu_rejects_square_planar_chirality():
    platin = mol("[Pt@SP1](Cl)(Cl)([NH3])[NH3]")  # RDKit parses it ...
    assert platin.GetAtomWithIdx(0).GetChiralTag() == Chem.ChiralType.CHI_SQUAREPLANAR
    with pytest.raises(FeaturizeError, match="chiral tag"):  # ... the Hu tables cannot hold it
        hu_graph(platin)


# -- OGB-style graph ------------------------------------------------------------------------
def test_ogb_shapes_and_tables(nci_mols):
    for m in nci_mols[:1000]:
        g = ogb_graph(m)
        assert g.x.shape == (m.GetNumAtoms(), 9) and g.x.dtype == torch.long
        assert g.edge_attr.shape == (2 * m.GetNumBonds(), 3)
        for j, name in enumerate(ATOM_FEATURES):
            assert 0 <= int(g.x[:, j].min()) and int(g.x[:, j].max()) < len(x_map[name]), name
        for j, name in enumerate(BOND_FEATURES):
            if g.edge_attr.numel():
                assert int(g.edge_attr[:, j].max()) < len(e_map[name]), name


def test_ogb_matches_pyg_from_rdmol(nci_mols):
    # same values as PyG's own function; only the edge order differs (PyG sorts edges)
    for m in nci_mols[:300]:
        ours, theirs = ogb_graph(m), from_rdmol(m)
        assert torch.equal(ours.x, theirs.x)
        edges = lambda g: sorted(  # noqa: E731
            tuple(e) + tuple(a) for e, a in zip(g.edge_index.t().tolist(), g.edge_attr.tolist())
        )
        assert edges(ours) == edges(theirs)


def test_ogb_ethanol_values():
    g = ogb_graph(mol("CCO"))
    oxygen = dict(zip(ATOM_FEATURES, g.x[2].tolist()))
    assert x_map["atomic_num"][oxygen["atomic_num"]] == 8
    assert x_map["degree"][oxygen["degree"]] == 2  # C and one H
    assert x_map["num_hs"][oxygen["num_hs"]] == 1
    assert x_map["hybridization"][oxygen["hybridization"]] == "SP3"
    assert g.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]


def test_ogb_out_of_table_values_use_documented_slots():
    charge = x_map["formal_charge"]
    assert ogb_graph(mol("[Fe+7]")).x[0, 3] == charge.index(6)  # clamped to the end
    assert ogb_graph(mol("[C-6]")).x[0, 3] == charge.index(-5)
    assert ogb_graph(mol("[FeH9]")).x[0, 4] == len(x_map["num_hs"]) - 1  # "8 or more"
    tungsten = ogb_graph(mol("[W](C)(C)(C)(C)(C)(C)(C)(C)(C)(C)(C)"))
    assert tungsten.x[0, 2] == len(x_map["degree"]) - 1  # degree 11 -> "10 or more"
    odd = Chem.RWMol(mol("C"))
    odd.GetAtomWithIdx(0).SetHybridization(Chem.HybridizationType.SP2D)  # not in PyG's list
    assert ogb_graph(odd).x[0, 6] == x_map["hybridization"].index("OTHER")
    platin = ogb_graph(mol("[Pt@SP1](Cl)(Cl)([NH3])[NH3]"))  # real entries, no reject
    assert x_map["chirality"][platin.x[0, 1]] == "CHI_SQUAREPLANAR"
    assert x_map["atomic_num"][ogb_graph(mol("*C")).x[0, 0]] == 0
    assert e_map["bond_type"][ogb_graph(mol("[NH3]->[Fe]")).edge_attr[0, 0]] == "DATIVE"


def test_ogb_rejects_atropisomer_stereo():
    biaryl = Chem.RWMol(mol("Cc1cccc(C)c1-c1c(C)cccc1C"))
    (axis,) = [
        b
        for b in biaryl.GetBonds()
        if b.GetBeginAtom().GetIsAromatic() and b.GetEndAtom().GetIsAromatic() and not b.IsInRing()
    ]
    begin, end = axis.GetBeginAtom(), axis.GetEndAtom()
    left = next(a.GetIdx() for a in begin.GetNeighbors() if a.GetIdx() != end.GetIdx())
    right = next(a.GetIdx() for a in end.GetNeighbors() if a.GetIdx() != begin.GetIdx())
    axis.SetStereoAtoms(left, right)
    axis.SetStereo(Chem.BondStereo.STEREOATROPCW)
    with pytest.raises(FeaturizeError, match="STEREOATROPCW"):
        ogb_graph(biaryl)


# -- the package entry points ---------------------------------------------------------------
HOSTILE = [
    "CCO",
    "not a smiles",
    "",
    None,
    "CC(=O)[O-].[Na+]",
    "[Xx]",  # unknown element
    "*C",  # dummy atom
    "C1CC",  # unclosed ring
    float("nan"),
    42,
    "c1ccccc1",
    "   ",
    "[NH3]->[Fe]",
]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_featurize_smiles_never_crashes_and_counts_add_up(scheme):
    result = featurize_smiles(HOSTILE, scheme)
    assert result.n_read == len(HOSTILE) == len(result.items) + len(result.rejects)
    assert len(result.rows) == len(result.items)
    assert sorted(result.rows.tolist() + result.rejects["row"].tolist()) == list(
        range(len(HOSTILE))
    )
    assert list(result.rejects.columns) == ["row", "smiles", "reason"]
    assert result.rejects["reason"].map(lambda r: isinstance(r, str) and r != "").all()
    kept = set(result.rows.tolist())
    assert {0, 4, 10} <= kept  # ethanol, the salt (whole) and benzene survive every scheme
    assert not {1, 2, 3, 5, 7, 8, 9, 11} & kept  # the unparsable never do
    assert result.rejects.set_index("row").loc[3, "smiles"] == ""  # None -> empty, kept a row
    if scheme == "hu":
        assert {6, 12} <= set(result.rejects["row"])  # '*' and the dative bond
    for row, item in zip(result.rows, result.items):
        expected = featurize_mol(parse_smiles(HOSTILE[row]).mol, scheme)
        if isinstance(item, np.ndarray):
            assert np.array_equal(item, expected)
        else:
            assert torch.equal(
                item.pos if scheme == "3d" else item.x,
                expected.pos if scheme == "3d" else expected.x,
            )


def test_featurize_smiles_empty_input():
    result = featurize_smiles(iter([]), "hu")
    assert result.n_read == 0 and result.items == [] and result.rows.dtype == np.int64
    assert list(result.rejects.columns) == ["row", "smiles", "reason"] and result.rejects.empty


def test_featurize_smiles_hu_on_nci5k_reads_everything():
    smiles = nci5k()
    result = featurize_smiles(smiles, "hu")
    assert result.n_read == len(smiles) == len(result) + len(result.rejects)
    assert FERROCENE_ROW in set(result.rejects["row"])
    valence = result.rejects["reason"].str.contains("valence", case=False).sum()
    assert valence == 8 and len(result.rejects) == 9


def test_featurize_mol_types_and_versions():
    ethanol = mol("CCO")
    assert isinstance(featurize_mol(ethanol, "hu"), Data)
    assert featurize_mol(ethanol, "ogb").x.shape == (3, 9)
    assert featurize_mol(ethanol, "ecfp", n_bits=64).shape == (64,)
    assert featurize_mol(ethanol, "maccs").shape == (167,)
    assert featurize_mol(ethanol, "3d").pos.shape == (3, 3)
    versions = {s: scheme_version(s) for s in SCHEMES}
    assert versions["hu"] == graph_hu.VERSION and versions["ogb"] == graph_ogb.VERSION
    assert len(set(versions.values())) == len(SCHEMES)
    assert rdkit.__version__ in versions["3d"]  # ETKDG output depends on the release
    with pytest.raises(ValueError, match="unknown featurization scheme"):
        featurize_mol(ethanol, "smiles")
    with pytest.raises(ValueError, match="unknown featurization scheme"):
        scheme_version("nope")
    with pytest.raises(TypeError):
        featurize_mol(None, "hu")
    with pytest.raises(TypeError, match="takes no options"):
        featurize_mol(ethanol, "hu", radius=2)


def test_featurize_result_matrix():
    result = featurize_smiles(["CCO", "bad", "c1ccccc1"], "ecfp", n_bits=128)
    assert result.matrix().shape == (2, 128)
    with pytest.raises(TypeError):
        featurize_smiles(["CCO"], "hu").matrix()
    assert math.isclose(result.matrix().sum(), sum(item.sum() for item in result.items))
