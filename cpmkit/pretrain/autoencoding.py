r"""Autoencoding (survey section 2.1): reconstruct the molecule from its own encoding.

Two members: on graphs, Hu et al.'s edge prediction (:class:`EdgePrediction`); on SMILES, the
SMILES Transformer of Honda et al. (:class:`SmilesAutoencoding`, below, with its own equation).

Edge prediction: the encoder's atom vectors must reconstruct the molecule's adjacency: a bonded
pair scores high, a random non-bonded pair low (a graph autoencoder with an inner-product
decoder, as in GraphSAGE's unsupervised loss and Hu et al.'s ``pretrain_edgepred.py``):

.. math::
    \mathcal{L}_{\mathrm{EP}} = -\frac{1}{|E^+|}\sum_{(u,v) \in E^+} \log \sigma(h_u^\top h_v)
        - \frac{1}{|E^-|}\sum_{(u,v) \in E^-} \log\big(1 - \sigma(h_u^\top h_v)\big)

:math:`E^+` holds every bond once; :math:`E^-` holds as many distinct non-bonded atom pairs
of the same molecule, drawn uniformly (Hu et al.'s ``NegativeEdge`` draws ``|E|/2`` of them,
``|E|`` counting both directions). Taught in ``notebooks/04_masked_components`` and
``notebooks/02_autoencoding``.
"""

from __future__ import annotations

import torch

from cpmkit.featurize.augment import canonical_smiles, randomize_smiles
from cpmkit.featurize.parse import parse_smiles
from cpmkit.pretrain.base import Strategy, binary_pair_loss
from cpmkit.pretrain.smiles import encode, item_smiles, pad_batch, sequence_hparams


def negative_edges(data, oversample: int = 5):
    """Add ``negative_edge_index``: distinct non-bonded atom pairs of one molecule.

    Draws ``oversample * E`` random ordered pairs (torch's global generator), drops self pairs,
    bonded pairs and repeats (keeping the first draw), and keeps the first ``E / 2``, as Hu et
    al.'s ``NegativeEdge``. A molecule without room for them (one atom, or every pair bonded)
    gets fewer, possibly none. Taught in ``notebooks/04_masked_components``.
    """
    data = data.clone()
    n, num_edges = data.num_nodes, data.edge_index.size(1)
    want = num_edges // 2
    pairs = torch.randint(0, n, (2, max(oversample * num_edges, 1)))
    code = pairs[0] * n + pairs[1]
    bonded = data.edge_index[0] * n + data.edge_index[1]
    ok = (pairs[0] != pairs[1]) & ~torch.isin(code, bonded)
    position = ok.nonzero().view(-1)
    unique, inverse = torch.unique(code[position], return_inverse=True)
    # first draw of each distinct pair, in draw order
    first = torch.full((unique.numel(),), position.numel(), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(position.numel()), reduce="amin")
    keep = position[first.sort().values[:want]]
    data.negative_edge_index = pairs[:, keep]
    return data


class EdgePrediction(Strategy):
    """Tell bonded atom pairs from random non-bonded pairs by the inner product of their vectors.

    Taught in ``notebooks/04_masked_components``.
    """

    name = "edgepred"

    def transform(self, data):
        return negative_edges(data)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        pos = batch.edge_index[:, ::2]  # each bond once
        neg = batch.negative_edge_index
        pos_score = (nodes[pos[0]] * nodes[pos[1]]).sum(dim=1)
        neg_score = (nodes[neg[0]] * nodes[neg[1]]).sum(dim=1)
        pair = binary_pair_loss(pos_score, neg_score)
        return pair.pos + pair.neg, {"acc": pair.accuracy()}


# -- SMILES autoencoding: SMILES Transformer (Honda et al. 2019) ------------------------------
# A separate method on another input (SMILES strings, not graphs); it shares only the family.


#: the decoder targets of :class:`SmilesAutoencoding`
OBJECTIVES = ("canonical", "copy")


class SmilesAutoencoding(Strategy):
    r"""SMILES Transformer's pre-training: an encoder-decoder rebuilds the molecule's SMILES.

    The encoder reads :math:`\tilde x` (a random SMILES of the molecule when ``randomize``,
    else the given SMILES), the decoder writes the target :math:`y` token by token, causally:

    .. math:: \mathcal{L}_{\mathrm{AE}} = -\frac{1}{|y|}\sum_{t} \log p\big(y_t \mid y_{<t},
              \mathrm{Enc}(\tilde x)\big),

    with ``objective="canonical"`` (the default): :math:`y` = the canonical SMILES, a
    random-to-canonical translation, the method as the paper describes it (Honda et al. 2019:
    the model "translates" enumerated SMILES); or ``objective="copy"``: :math:`y = \tilde x`,
    the same random string, which is what the authors' ``pretrain_trfm.py`` trains.

    What the reference code does that the kit does not (read at DSPsleeporg/smiles-transformer
    ``smiles_transformer/pretrain_trfm.py``): its ``nn.Transformer`` decoder is fed the target
    itself, unshifted and without a causal mask, so each position can read its own answer and the
    loss can fall without the encoder; its sinusoidal positional encoding is indexed by the batch
    axis of a ``(T, B, H)`` tensor (``pe[:, :x.size(1)]``), so every token of a molecule gets the
    same "position" (its slot in the batch); the feed-forward width equals the hidden width; every
    string is padded to 220 tokens and the encoder has no padding mask (it attends to the
    padding; the loss skips it); the vocabulary holds only the corpus's tokens seen 500 times or
    more (``build_vocab.py``); ``range(1, n_epoch)`` runs 4 of the 5 epochs asked for; Adam at
    1e-4, batch 8. The kit keeps a working seq2seq (BART: shifted, causal decoder, learned
    positions, padding masked, feed-forward ``4 x width`` unless the config's
    ``intermediate_size`` says otherwise) under both objectives, because the reference's
    shortcut would teach nothing a lesson could show; ``objective="copy"`` reproduces its
    *target*, not its shortcut. With the kit's tokenizer, ``common_tokens=False`` gives a
    corpus-only vocabulary like theirs.

    Parameters
    ----------
    encoder : transformers.BartForConditionalGeneration
        ``cpmkit.models.smiles_transformer.build_smiles_transformer(tokenizer, config)``; the
        whole encoder-decoder is saved (``smiles_fingerprint`` reads its encoder).
    tokenizer : transformers.PreTrainedTokenizerFast
    randomize : bool
        Honda et al. feed enumerated SMILES (``True``); ``False`` reads the canonical SMILES.
    max_length : int, optional
        A molecule whose input or target has more tokens is skipped; default: the model's
        positions. A SMILES that RDKit cannot parse is skipped too (no canonical target).
    objective : {"canonical", "copy"}
        The decoder's target, see above.

    Taught in ``notebooks/02_autoencoding``.
    """

    name = "smiles_ae"
    input_family = "sequence"

    def __init__(
        self,
        encoder,
        tokenizer,
        randomize: bool = True,
        max_length: int | None = None,
        objective: str = "canonical",
    ):
        super().__init__(encoder)
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        self.tokenizer = tokenizer
        self.randomize = bool(randomize)
        self.objective = objective
        self.max_length = int(max_length or encoder.config.max_position_embeddings)

    def transform(self, item):
        mol = parse_smiles(item_smiles(item)).mol
        if mol is None:
            return None
        canonical = canonical_smiles(mol)
        source = randomize_smiles(mol) if self.randomize else canonical
        target = source if self.objective == "copy" else canonical
        source_ids = encode(self.tokenizer, source, self.max_length, truncate=False)
        target_ids = encode(self.tokenizer, target, self.max_length, truncate=False)
        if source_ids is None or target_ids is None:
            return None
        # the decoder starts from <s> (decoder_start_token_id) and writes y_1 ... </s>
        return {"input_ids": source_ids, "labels": target_ids[1:]}

    def collate(self, items):
        return pad_batch(items, {"input_ids": self.tokenizer.pad_token_id, "labels": -100})

    def loss(self, batch):
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           labels=batch["labels"])  # fmt: skip
        scored = batch["labels"] != -100
        hits = out.logits.argmax(-1)[scored] == batch["labels"][scored]
        return out.loss, {"acc": hits.float().mean().item()}

    def hparams(self):
        settings = sequence_hparams(self)
        if self.objective != "canonical":  # earlier runs, all canonical, keep their identity
            settings["objective"] = self.objective
        return settings


__all__ = ["OBJECTIVES", "EdgePrediction", "SmilesAutoencoding", "negative_edges"]
