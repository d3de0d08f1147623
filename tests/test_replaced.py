"""MPG's cut-and-recombine input and strategy (featurize.recombine, pretrain.replaced)."""

import pytest
import torch
from rdkit import Chem

from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, hu_graph
from cpmkit.featurize.recombine import (
    cut_bonds,
    cut_molecule,
    half_mols,
    reassemble,
    recombine,
    split_at_bond,
)
from cpmkit.models.gnn import GNN
from cpmkit.pretrain.recipes import STRATEGIES, build_strategy
from cpmkit.pretrain.replaced import ReplacedComponents, pair_batch

SMILES = [
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol: two BRICS bonds
    "CN1CCN(Cc2ccc(cc2)C(=O)Nc2ccc(C)c(Nc3nccc(n3)-c3cccnc3)c2)CC1",  # imatinib
    "CCO",  # no BRICS bond: an acyclic single bond is cut
    "OC(=O)c1ccccc1Cl",
    "CCN(CC)CCOC(=O)c1ccc(N)cc1",  # procaine
]


def graph(smiles):
    data = hu_graph(Chem.MolFromSmiles(smiles))
    data.smiles = smiles
    return data


def sorted_edges(data):
    order = torch.argsort(data.edge_index[0] * data.num_nodes + data.edge_index[1])
    return data.edge_index[:, order]


def test_cut_bonds_prefers_brics_then_acyclic_single_bonds():
    bonds, kind = cut_bonds(Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1"))
    assert kind == "brics" and bonds == [(1, 3), (3, 4)]  # amide C-N and N-aryl
    bonds, kind = cut_bonds(Chem.MolFromSmiles("CCO"))
    assert kind == "acyclic" and bonds == [(0, 1), (1, 2)]
    assert cut_bonds(Chem.MolFromSmiles("c1ccccc1")) == ([], "none")
    assert cut_bonds(Chem.MolFromSmiles("C=C")) == ([], "none")  # a double bond is not cut
    assert cut_molecule(graph("c1ccccc1")) is None


@pytest.mark.parametrize("smiles", SMILES)
def test_halves_partition_the_atoms_and_reassemble(smiles):
    data = graph(smiles)
    torch.manual_seed(0)
    for _ in range(5):
        halves = cut_molecule(data)
        atoms = torch.cat([halves.first.origin_atom, halves.second.origin_atom])
        assert sorted(atoms.tolist()) == list(range(data.num_nodes))  # each atom exactly once
        u, v = halves.bond
        assert u in halves.first.origin_atom.tolist() and v in halves.second.origin_atom.tolist()
        # every bond but the cut one survives inside a half
        kept = halves.first.edge_index.size(1) + halves.second.edge_index.size(1)
        assert kept == data.edge_index.size(1) - 2
        back = reassemble(halves)
        assert torch.equal(back.x, data.x)
        assert torch.equal(back.edge_index, sorted_edges(data))


def test_a_ring_bond_is_refused():
    data = graph("Cc1ccccc1")
    with pytest.raises(ValueError, match="ring"):
        split_at_bond(data, (1, 2))
    with pytest.raises(ValueError, match="not bonded"):
        split_at_bond(data, (0, 3))


def test_rdkit_halves_match_the_graph_halves():
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    halves = split_at_bond(graph("CC(=O)Nc1ccc(O)cc1"), (3, 4))
    first, second = half_mols(mol, (3, 4))
    # one dummy atom marks the cut in each RDKit half
    assert first.GetNumAtoms() == halves.first.num_nodes + 1
    assert second.GetNumAtoms() == halves.second.num_nodes + 1
    assert Chem.MolToSmiles(first) == "*NC(C)=O"


def test_recombined_atoms_trace_back_to_their_source_and_the_label_says_which():
    data = [graph(s) for s in SMILES]
    torch.manual_seed(1)
    items = [cut_molecule(d) for d in data]
    graphs = pair_batch(items, replace_prob=0.5)
    labels = [int(g.pair_label) for g in graphs]
    assert 0 in labels and 1 in labels  # this seed draws both kinds
    for i, g in enumerate(graphs):
        sources = g.source.unique().tolist()
        assert (int(g.pair_label) == 1) == (sources == [i])
        first = g.segment == 0
        assert g.source[first].unique().tolist() == [i]  # the first half is always the anchor's
        if int(g.pair_label) == 0:
            assert len(sources) == 2  # a replaced pair really mixes two molecules
        for s in sources:
            atoms = g.source == s
            # each atom is the very atom of its source molecule
            assert torch.equal(g.x[atoms], data[s].x[g.origin_atom[atoms]])
        # two components, nothing bonded across them
        a, b = g.edge_index
        assert bool((g.segment[a] == g.segment[b]).all())


def test_recombine_labels_one_molecule_as_not_replaced():
    h = cut_molecule(graph("CCN(CC)CCOC(=O)c1ccc(N)cc1"))
    assert int(recombine(h.first, h.second, 3, 3).pair_label) == 1
    assert int(recombine(h.first, h.second, 3, 4).pair_label) == 0


def test_strategy_is_a_graph_recipe_and_its_loss_trains_on_a_toy_batch():
    assert STRATEGIES["mpg"] is ReplacedComponents
    encoder = GNN(num_layer=2, emb_dim=16, JK="last", drop_ratio=0.0, gnn_type="gin")
    torch.manual_seed(0)
    strategy = ReplacedComponents(encoder, replace_prob=0.5, mask_rate=0.15)
    data = [graph(s) for s in SMILES] * 4
    torch.manual_seed(2)
    batch = strategy.collate([strategy.transform(d) for d in data] + [None])
    assert batch.num_graphs == len(data)
    assert bool((batch.x[batch.masked_atom_index, 0] == MASK_ATOM_INDEX).all())
    loss, logs = strategy.loss(batch)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert 0.0 < logs["replaced"] < 1.0 and 0.0 <= logs["pair_acc"] <= 1.0
    loss.backward()
    assert encoder.gnns[0].mlp[0].weight.grad.abs().sum() > 0  # the gradient reaches the GIN
    # a few steps on the same batch fit the pair labels (the task is learnable, not constant)
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        strategy.loss(batch)[0].backward()
        optimizer.step()
    assert strategy.loss(batch)[1]["pair_acc"] == 1.0


def test_pair_task_alone_and_bad_settings():
    strategy = build_strategy("mpg", _gnn_config(), seed=0, replace_prob=0.5, mask_rate=0.0)
    assert strategy.atom_head is None and strategy.hparams()["mask_rate"] == 0.0
    torch.manual_seed(0)
    batch = strategy.collate([strategy.transform(graph(s)) for s in SMILES])
    assert "masked_atom_index" not in batch
    loss, logs = strategy.loss(batch)
    assert "atom_acc" not in logs and torch.isfinite(loss)
    with pytest.raises(ValueError):
        ReplacedComponents(strategy.encoder, replace_prob=1.0)
    assert strategy.collate([None, None]) is None


def _gnn_config():
    from cpmkit.models.graph_model import GNNConfig

    return GNNConfig(num_layer=2, emb_dim=16, JK="last", drop_ratio=0.0, gnn_type="gin")


def test_the_loop_trains_mpg_and_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    from cpmkit.pretrain.loop import PretrainConfig, pretrain

    corpus = [graph(s) for s in SMILES] * 6 + [graph("c1ccccc1")]  # benzene: skipped, no cut
    config = PretrainConfig(num_epochs=2, batch_size=8, lr=1e-3, seed=0)
    whole = pretrain(
        build_strategy("mpg", _gnn_config(), seed=0), corpus, config, out_dir=tmp_path / "a"
    )
    assert whole.trained and {"pair_acc", "atom_acc", "replaced"} <= set(whole.history)
    first = pretrain(
        build_strategy("mpg", _gnn_config(), seed=0),
        corpus,
        PretrainConfig(num_epochs=1, batch_size=8, lr=1e-3, seed=0),
        out_dir=tmp_path / "b",
    )
    assert first.trained
    # the same run continued for its second epoch: the cuts and pairings are seeded by the loop
    resumed = pretrain(
        build_strategy("mpg", _gnn_config(), seed=0), corpus, config, out_dir=tmp_path / "b"
    )
    a = torch.load(whole.encoder_path, weights_only=True)
    b = torch.load(resumed.encoder_path, weights_only=True)
    assert all(torch.allclose(a[k], b[k]) for k in a)


def test_each_half_is_pooled_on_its_own():
    strategy = build_strategy("mpg", _gnn_config(), seed=0, mask_rate=0.0)
    strategy.eval()
    torch.manual_seed(3)
    batch = strategy.collate([strategy.transform(graph(s)) for s in SMILES])
    with torch.no_grad():
        halves, nodes = strategy.half_vectors(batch)
    dim = nodes.size(1)
    for i in range(batch.num_graphs):
        for part in (0, 1):
            atoms = (batch.batch == i) & (batch.segment == part)
            expected = nodes[atoms].mean(0)
            assert torch.allclose(halves[i, part * dim : (part + 1) * dim], expected, atol=1e-6)
