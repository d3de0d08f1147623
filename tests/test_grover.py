"""GROVER's labels (contextual property, semantic motifs) and its two strategies on the GIN."""

import numpy as np
import pytest
import torch
from rdkit import Chem

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, hu_graph
from cpmkit.featurize.grover_labels import (
    GROVER_FRAGMENTS,
    OTHER,
    ContextVocab,
    atom_context_label,
    graph_context_labels,
    motif_labels,
)
from cpmkit.models.gnn import GNN
from cpmkit.pretrain.grover import GroverContext, GroverMotif

ACETIC_ACID = "CC(=O)O"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return MoleculeDataset("nci5k", subset=64, root=tmp_path_factory.mktemp("cache"))


def test_context_labels_of_acetic_acid_by_hand():
    mol = Chem.MolFromSmiles(ACETIC_ACID)
    by_hand = ["C_C-SINGLE1", "C_C-SINGLE1_O-DOUBLE1_O-SINGLE1", "O_C-DOUBLE1", "O_C-SINGLE1"]
    assert [atom_context_label(mol, i) for i in range(4)] == by_hand
    assert graph_context_labels(hu_graph(mol)) == by_hand
    assert graph_context_labels(hu_graph(mol), [1, 3]) == [by_hand[1], by_hand[3]]


def test_context_labels_of_aspirin_agree_with_rdkit_and_count_neighbours():
    mol = Chem.MolFromSmiles(ASPIRIN)
    reference = [atom_context_label(mol, i) for i in range(mol.GetNumAtoms())]
    assert graph_context_labels(hu_graph(mol)) == reference
    # the ring carbon bearing the ester oxygen: two aromatic carbons and one single-bonded O
    assert reference[4] == "C_C-AROMATIC2_O-SINGLE1"
    # an aromatic CH: two aromatic neighbours only (hydrogens stay implicit)
    assert reference[5] == "C_C-AROMATIC2"


def test_motif_labels_of_aspirin():
    labels = motif_labels(Chem.MolFromSmiles(ASPIRIN))
    assert labels.shape == (85,) and len(GROVER_FRAGMENTS) == 85
    present = {name for name, y in zip(GROVER_FRAGMENTS, labels) if y}
    assert {"fr_benzene", "fr_ester", "fr_COO", "fr_Ar_COO"} <= present
    assert not {"fr_amide", "fr_nitro", "fr_halogen", "fr_pyridine"} & present
    assert set(np.unique(labels)) <= {0.0, 1.0}


def test_vocab_maps_rare_contexts_to_other():
    graphs = [hu_graph(Chem.MolFromSmiles(s)) for s in ["CC", "CC", "CCO"]]
    vocab = ContextVocab.from_graphs(graphs, min_count=2)
    assert vocab.words[0] == OTHER and "C_C-SINGLE1" in vocab.words
    assert "O_C-SINGLE1" not in vocab.words  # seen once
    assert vocab.encode(["O_C-SINGLE1", "C_C-SINGLE1"]).tolist() == [0, vocab.index["C_C-SINGLE1"]]


def test_grover_context_masks_and_labels_the_masked_atoms(corpus):
    vocab = GroverContext.corpus_settings(corpus, {"min_count": 1})["vocab"]
    torch.manual_seed(0)
    strategy = GroverContext(GNN(2, 16), vocab=vocab, min_count=1)
    data = corpus[0]
    view = strategy.transform(data)
    masked = view.masked_atom_index
    assert (view.x[masked, 0] == MASK_ATOM_INDEX).all()
    expected = graph_context_labels(data, masked.tolist())
    assert [vocab[i] for i in view.context_label.tolist()] == expected
    batch = strategy.collate([strategy.transform(corpus[i]) for i in range(16)])
    loss, logs = strategy(batch)
    assert torch.isfinite(loss) and loss.item() > 0 and 0 <= logs["context_acc"] <= 1
    loss.backward()
    assert strategy.encoder.x_embedding1.weight.grad.abs().sum() > 0


def test_grover_context_needs_a_vocabulary():
    with pytest.raises(ValueError, match="vocab"):
        GroverContext(GNN(2, 16))


def test_grover_motif_loss_and_labels_on_a_toy_batch(corpus):
    torch.manual_seed(0)
    strategy = GroverMotif(GNN(2, 16))
    items = [strategy.transform(corpus[i]) for i in range(8)]
    first = motif_labels(Chem.MolFromSmiles(corpus[0].smiles))
    assert np.array_equal(items[0].motif.numpy()[0], first)
    batch = strategy.collate(items)
    assert batch.motif.shape == (8, 85)
    loss, logs = strategy(batch)
    assert loss.item() == pytest.approx(np.log(2), abs=0.3)  # untrained: about chance
    # a few steps on one batch bring the loss down: the head can fit the labels
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    for _ in range(30):
        optimizer.zero_grad()
        step_loss, _ = strategy(batch)
        step_loss.backward()
        optimizer.step()
    assert step_loss.item() < 0.5 * loss.item()


@pytest.mark.parametrize("recipe", ["grover_context", "grover_motif"])
def test_recipe_runs(recipe, corpus, tmp_path, monkeypatch):
    from cpmkit.models.graph_model import GNNConfig
    from cpmkit.pretrain.loop import PretrainConfig
    from cpmkit.pretrain.recipes import pretrain_recipe

    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path))
    gnn = GNNConfig(num_layer=2, emb_dim=16, drop_ratio=0.0)
    config = PretrainConfig(num_epochs=1, batch_size=16, device="cpu")
    (result,) = pretrain_recipe(recipe, gnn, corpus, config, progress=False)
    assert result.trained and result.encoder_path.is_file()
    assert np.isfinite(result.final_loss)
    state = torch.load(result.encoder_path, weights_only=True)
    assert "x_embedding1.weight" in state
