"""GPT-GNN and MGSSL: generation orders, their inputs, losses on a toy batch, and recipes."""

import numpy as np
import pytest
import torch
from rdkit import Chem
from toys import ToyGraphEncoder

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.featurize.graph_hu import hu_graph
from cpmkit.featurize.motifs import OTHER, motif_tree, motif_vocabulary, traversal
from cpmkit.models.graph_model import GNNConfig
from cpmkit.pretrain import PretrainConfig
from cpmkit.pretrain.graph_autoregressive import (
    GPTGNN,
    MGSSL,
    generation_order,
    generation_steps,
    motif_steps,
)
from cpmkit.pretrain.recipes import STRATEGIES, pretrain_recipe
from cpmkit.seed import seed_everything

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "CN1CCC[C@H]1c1cccnc1", "CCN(CC)CCOC(=O)C1CCCCC1",
          "OCC(O)CO", "[Na+].CC(=O)[O-]", "O=C(O)CCc1ccc(O)cc1"]  # fmt: skip


def graph(smiles):
    data = hu_graph(Chem.MolFromSmiles(smiles))
    data.smiles = smiles
    return data


@pytest.mark.parametrize("order", ["bfs", "canonical"])
@pytest.mark.parametrize("smiles", SMILES)
def test_generation_order_is_a_permutation(smiles, order):
    data = graph(smiles)
    for seed in range(3):
        torch.manual_seed(seed)
        perm = generation_order(data, order)
        assert sorted(perm.tolist()) == list(range(data.num_nodes))


def test_bfs_grows_a_connected_graph_from_a_random_atom():
    data = graph(SMILES[2])
    bonded = {tuple(e) for e in data.edge_index.t().tolist()}
    starts = set()
    for seed in range(10):
        torch.manual_seed(seed)
        perm = generation_order(data, "bfs").tolist()
        starts.add(perm[0])
        for t in range(1, len(perm)):  # one fragment: each new atom bonds to an earlier one
            assert any((perm[t], j) in bonded for j in perm[:t])
    assert len(starts) > 1


def test_canonical_order_is_the_same_for_every_way_of_writing_the_molecule():
    elements = []
    for smiles in ["OC(=O)c1ccccc1OC(C)=O", "CC(=O)Oc1ccccc1C(=O)O", "c1cccc(C(O)=O)c1OC(=O)C"]:
        data = graph(smiles)
        torch.manual_seed(0)
        first = generation_order(data, "canonical")
        torch.manual_seed(1)
        assert torch.equal(first, generation_order(data, "canonical"))  # no randomness
        mol = Chem.MolFromSmiles(smiles)
        elements.append([mol.GetAtomWithIdx(i).GetSymbol() for i in first.tolist()])
    assert elements[0] == elements[1] == elements[2]


def test_partial_graphs_hold_the_earlier_atoms_only_and_the_new_atoms_bonds():
    data = graph(SMILES[0])
    mol = Chem.MolFromSmiles(SMILES[0])
    torch.manual_seed(0)
    order = generation_order(data, "bfs")
    positions = [1, 5, data.num_nodes - 1]
    steps = generation_steps(data, order, positions)
    offset = 0
    for step, t in enumerate(positions):
        atoms = order[:t].tolist()
        mine = (steps.node_step == step).nonzero().view(-1)
        assert mine.tolist() == list(range(offset, offset + t))
        assert torch.equal(steps.x[mine], data.x[order[:t]])
        new = int(order[t])
        assert int(steps.target_type[step]) == mol.GetAtomWithIdx(new).GetAtomicNum() - 1
        # the candidates: every earlier atom; positive exactly when bonded to the new atom
        cands = steps.cand_node[steps.cand_step == step] - offset
        pos = steps.cand_pos[steps.cand_step == step]
        for c, p in zip(cands.tolist(), pos.tolist()):
            assert p == (mol.GetBondBetweenAtoms(atoms[c], new) is not None)
        # the partial graph's bonds are the molecule's bonds among the earlier atoms
        inside = steps.edge_index[:, (steps.edge_index[0] >= offset)
                                  & (steps.edge_index[0] < offset + t)] - offset  # fmt: skip
        expected = sum(1 for b in mol.GetBonds()
                       if b.GetBeginAtomIdx() in atoms and b.GetEndAtomIdx() in atoms)  # fmt: skip
        assert inside.size(1) == 2 * expected
        offset += t


def test_the_new_atom_does_not_leak_into_its_own_step():
    data = graph(SMILES[2])
    torch.manual_seed(0)
    order = generation_order(data, "bfs")
    t = 6
    other = data.clone()
    other.x[order[t], 0] = 16  # another element at the atom to be generated
    a = generation_steps(data, order, [t])
    b = generation_steps(other, order, [t])
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    assert a.target_type.item() != b.target_type.item()


def toy_batch(strategy):
    torch.manual_seed(0)
    return strategy.collate([strategy.transform(graph(s)) for s in SMILES])


def vocab():
    return motif_vocabulary(SMILES, min_count=2)


@pytest.mark.parametrize(
    "make", [lambda e: GPTGNN(e, order="bfs"), lambda e: GPTGNN(e, order="canonical"),
             lambda e: MGSSL(e, vocab(), order="dfs"), lambda e: MGSSL(e, vocab(), order="bfs")],
)  # fmt: skip
def test_losses_on_a_toy_batch_are_finite_reach_the_encoder_and_fall(make):
    seed_everything(0)
    strategy = make(ToyGraphEncoder(16))
    batch = toy_batch(strategy)
    loss, logs = strategy.loss(batch)
    assert torch.isfinite(loss) and loss.dim() == 0
    assert {"acc"} <= set(logs)
    loss.backward()
    grads = [p.grad for p in strategy.encoder.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    first = float(loss.detach())
    for _ in range(30):
        optimizer.zero_grad()
        loss, _ = strategy.loss(batch)
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < first


def test_gptgnn_edge_loss_is_the_softmax_of_the_bond_against_unbonded_atoms():
    seed_everything(0)
    strategy = GPTGNN(ToyGraphEncoder(8), steps_per_molecule=3)
    batch = toy_batch(strategy)
    _, logs = strategy.loss(batch)
    # by hand: every positive candidate against the negatives of its step
    h = strategy.encoder(batch.x, batch.edge_index, batch.edge_attr)
    n = batch.target_type.size(0)
    from torch_geometric.nn import global_mean_pool

    ctx = torch.cat([global_mean_pool(h, batch.node_step, size=n), h[batch.last_node]], 1)
    q = strategy.query(torch.cat([ctx, strategy.type_embedding(batch.target_type)], 1))
    k = strategy.key(h[batch.cand_node])
    s = (q[batch.cand_step] * k).sum(1) / k.size(1) ** 0.5
    terms = []
    for c in batch.cand_pos.nonzero().view(-1).tolist():
        step = batch.cand_step[c]
        negs = s[(batch.cand_step == step) & ~batch.cand_pos]
        if len(negs):
            terms.append(-torch.log_softmax(torch.cat([s[c : c + 1], negs]), 0)[0])
    assert terms
    assert logs["edge_loss"] == pytest.approx(float(torch.stack(terms).mean()), rel=1e-5)


def test_mgssl_steps_follow_the_tree_and_the_vocabulary():
    smiles = SMILES[0]
    data = graph(smiles)
    tree = motif_tree(Chem.MolFromSmiles(smiles))
    vocab_list = ["C", "O", OTHER]  # the benzene ring is rare here: "other"
    index = {label: i for i, label in enumerate(vocab_list)}
    for order in ("bfs", "dfs"):
        steps = motif_steps(data, tree, index, order)
        decisions = traversal(tree, order)
        assert steps.step_expand.tolist() == [float(c is not None) for _, c in decisions]
        added = [tree.labels[c] for _, c in decisions if c is not None]
        expected = [index.get(label, index[OTHER]) for label in added]
        assert steps.step_label[steps.step_expand.bool()].tolist() == expected
        assert (steps.step_label[~steps.step_expand.bool()] == -100).all()
        assert index[OTHER] in steps.step_label.tolist()
        # teacher forcing: each step sees the previous outcome (stop = len(index))
        assert steps.step_prev[0] == steps.root_label[0]
        for t in range(1, len(decisions)):
            prev = decisions[t - 1][1]
            want = len(index) if prev is None else index.get(tree.labels[prev], index[OTHER])
            assert steps.step_prev[t] == want


def test_mgssl_recipe_builds_the_corpus_vocabulary(corpus):
    """pretrain_recipe asks MGSSL for its corpus settings: the corpus's own motifs, as MGSSL."""
    settings = {"min_count": 2}
    built = MGSSL.corpus_settings(corpus, settings)
    assert built == {"vocab": motif_vocabulary(corpus.smiles, min_count=2)}
    assert "min_count" not in settings  # consumed: MGSSL itself takes no min_count
    assert MGSSL.corpus_settings(corpus, {"vocab": vocab()}) == {}  # a given vocabulary wins
    assert MGSSL(ToyGraphEncoder(8), **built).hparams()["vocab_source"] == "given"


def test_mgssl_without_a_vocabulary_takes_the_default_and_says_so():
    given = MGSSL(ToyGraphEncoder(8), vocab())
    default = MGSSL(ToyGraphEncoder(8))
    assert given.hparams()["vocab_source"] == "given"
    assert default.hparams()["vocab_source"] == "nci5k default"
    assert default.vocab[-1] == OTHER and "c1ccccc1" in default.vocab
    assert default.hparams()["vocab_sha256"] != given.hparams()["vocab_sha256"]
    with pytest.raises(ValueError, match="vocabulary"):
        MGSSL(ToyGraphEncoder(8), [])


@pytest.fixture(scope="module")
def corpus():
    return MoleculeDataset("nci5k", subset=96)


@pytest.mark.parametrize("name, corpus_vocab", [("gptgnn", False), ("mgssl", True),
                                                ("mgssl", False)])  # fmt: skip
def test_recipes_run_through_the_loop_and_learn(corpus, tmp_path, name, corpus_vocab, monkeypatch):
    assert name in STRATEGIES
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path))
    hparams = {}  # the recipe with its defaults, or MGSSL with the corpus's vocabulary
    if corpus_vocab:
        hparams = {"mgssl": {"vocab": motif_vocabulary(corpus.smiles, min_count=2)}}
    gnn = GNNConfig(num_layer=2, emb_dim=16, JK="last", drop_ratio=0.0, gnn_type="gin")
    config = PretrainConfig(num_epochs=4, batch_size=32, lr=3e-3, seed=0)
    result = pretrain_recipe(name, gnn, corpus, config, hparams=hparams, progress=False)[-1]
    epochs = result.epoch_losses()
    assert np.isfinite(epochs["loss"]).all()
    assert epochs["loss"].iloc[-1] < epochs["loss"].iloc[0], epochs
    state = torch.load(result.encoder_path, weights_only=True)
    assert any(key.startswith("x_embedding1") for key in state)  # a Hu et al. GIN to fine-tune
