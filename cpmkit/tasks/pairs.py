r"""One harness for pair tasks: drug-target affinity (regression) and drug-drug interaction types.

Any drug encoder of the contract (:mod:`cpmkit.models.encoders`: a Hu et al. ``GNN`` from
scratch or with published or kit-pre-trained weights, a ``SequenceEncoder``, DeepDTA's SMILES
CNN) or the ECFP baseline (:class:`~cpmkit.models.dta.FingerprintMLP`) goes in through a
factory; the harness seeds, builds, trains with Adam and reports the papers' metrics.

Each step encodes every *distinct* drug and target of the mini-batch once and gathers their
vectors for the pairs: Davis has 68 drugs and 442 proteins behind 30,056 pairs, so this is
what makes the protein CNN affordable on a CPU. ``batching="target"`` goes further and
fills a batch with all training pairs of a few targets (each protein encoded once per step);
``"random"`` is DeepDTA's random mini-batch. A frozen drug encoder is run once, in eval mode,
and its vectors are reused.

Deviations from DeepDTA's training, by name: the epoch count is the profile's (DeepDTA: 100),
the last epoch is reported (DeepDTA also reports the last of a fixed number of epochs), and
``batching="target"`` changes which pairs share a mini-batch (not the loss).
Taught in ``notebooks/13_drug_target_interaction`` and ``notebooks/14_drug_drug_interaction``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch

from cpmkit.data.pairs import PairTable
from cpmkit.data.splits import Split
from cpmkit.featurize.protein import encode_fixed
from cpmkit.models.dta import AffinityHead, DDIConfig, DTAConfig, InteractionHead
from cpmkit.models.encoders import embed, encode
from cpmkit.seed import seed_everything
from cpmkit.tasks.metrics import affinity_metrics, interaction_metrics

# --- drug and target inputs ------------------------------------------------------------------


class Inputs:
    """Featurised entities (drugs or targets), indexable by entity row: ``inputs.batch(rows)``.

    ``kind``: ``"graph"`` (a list of PyG ``Data``), ``"tokens"`` (``input_ids`` and
    ``attention_mask`` tensors) or ``"vectors"`` (a float matrix, e.g. ECFP bits).
    """

    def __init__(self, kind: str, data, attention_mask: torch.Tensor | None = None):
        if kind not in ("graph", "tokens", "vectors"):
            raise ValueError(f"unknown input kind {kind!r}")
        self.kind, self.data, self.attention_mask = kind, data, attention_mask

    def __len__(self) -> int:
        return len(self.data)

    def batch(self, rows: np.ndarray):
        rows = np.asarray(rows)
        if self.kind == "graph":
            return Batch.from_data_list([self.data[i] for i in rows.tolist()])
        index = torch.as_tensor(rows, dtype=torch.long)
        if self.kind == "tokens":
            return SimpleNamespace(
                input_ids=self.data[index], attention_mask=self.attention_mask[index]
            )
        return self.data[index]


def graph_inputs(mols) -> tuple[Inputs, pd.DataFrame]:
    """Hu et al. graphs of ``mols``; molecules the scheme cannot hold are returned as rejects
    (``row, reason``) and get a ``None`` slot (drop their pairs before training)."""
    from cpmkit.featurize.graph_hu import hu_graph
    from cpmkit.featurize.parse import FeaturizeError

    graphs, rows, reasons = [], [], []
    for i, mol in enumerate(mols):
        try:
            graphs.append(hu_graph(mol))
        except FeaturizeError as error:
            graphs.append(None)
            rows.append(i)
            reasons.append(str(error))
    return Inputs("graph", graphs), pd.DataFrame({"row": rows, "reason": reasons})


def token_inputs(tokenizer, texts, max_length: int | None = None) -> Inputs:
    """Padded, cut token ids of ``texts`` (SMILES or sequences) from a HuggingFace tokenizer."""
    return Inputs("tokens", *encode_fixed(tokenizer, texts, max_length))


def fingerprint_inputs(mols, n_bits: int = 1024, radius: int = 2) -> Inputs:
    """ECFP bit vectors (radius 2 = ECFP4) as a float matrix."""
    from cpmkit.featurize.fingerprints import ecfp

    return Inputs(
        "vectors",
        torch.as_tensor(
            np.stack([ecfp(m, radius=radius, n_bits=n_bits) for m in mols]), dtype=torch.float32
        ),
    )


def vectors(encoder: nn.Module, batch, pool: str = "mean") -> torch.Tensor:
    """One vector per entity for any drug or target encoder the harness takes.

    DeepDTA's CNN (``global_max_pool``) is max-pooled over every position; the fingerprint MLP
    maps its matrix; every other encoder goes through :func:`cpmkit.models.encoders.embed`.
    """
    if getattr(encoder, "family", None) == "fingerprint":
        return encoder(batch)
    if getattr(encoder, "global_max_pool", False):
        return encode(encoder, batch).max(dim=1).values
    return embed(encoder, batch, pool)


# --- models ----------------------------------------------------------------------------------


class DTAModel(nn.Module):
    """Drug encoder + target encoder + :class:`~cpmkit.models.dta.AffinityHead`."""

    def __init__(self, drug: nn.Module, target: nn.Module, config: DTAConfig):
        super().__init__()
        self.drug, self.target = drug, target
        self.head = AffinityHead(drug.out_dim, target.out_dim, config)


class DDIModel(nn.Module):
    """Drug encoder + the symmetric :class:`~cpmkit.models.dta.InteractionHead`."""

    def __init__(self, drug: nn.Module, config: DDIConfig):
        super().__init__()
        self.drug = drug
        self.head = InteractionHead(drug.out_dim, config)


@dataclass
class PairConfig:
    """One training run of a pair model. Defaults: DeepDTA's (Adam, lr 1e-3, batch 256, 100
    epochs). ``freeze_drug``: keep the drug encoder fixed (its vectors computed once);
    ``batching``: ``"random"`` or ``"target"`` (``targets_per_batch`` targets per step);
    ``max_train``: keep at most this many training pairs (a seeded subset; ``None``: all)."""

    num_epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    pool: str = "mean"
    freeze_drug: bool = False
    batching: str = "random"
    targets_per_batch: int = 8
    max_train: int | None = None
    eval_every: int = 1
    eval_chunk: int = 4096

    def __post_init__(self):
        if self.batching not in ("random", "target"):
            raise ValueError(f"batching must be 'random' or 'target', got {self.batching!r}")


@dataclass
class PairResult:
    """Metrics on valid and test (last epoch), per-epoch history, test predictions."""

    valid: dict
    test: dict
    history: pd.DataFrame
    test_pred: np.ndarray
    test_true: np.ndarray
    seconds: float
    config: dict = field(default_factory=dict)


def _encode_rows(encoder, inputs: Inputs, rows: np.ndarray, pool: str, chunk: int = 256):
    return (
        torch.cat(
            [
                vectors(encoder, inputs.batch(rows[i : i + chunk]), pool)
                for i in range(0, len(rows), chunk)
            ]
        )
        if len(rows)
        else None
    )


class _Cache:
    """Vectors of a frozen encoder, computed once in eval mode."""

    def __init__(self, encoder, inputs: Inputs, pool: str):
        encoder.eval()
        rows = np.arange(len(inputs))
        if inputs.kind == "graph":  # drugs the scheme could not hold have no graph (and no pairs)
            rows = np.array([i for i in rows if inputs.data[i] is not None], dtype=np.int64)
        with torch.no_grad():
            found = _encode_rows(encoder, inputs, rows, pool)
        self.table = found.new_zeros((len(inputs), found.shape[1]))
        self.table[torch.as_tensor(rows)] = found

    def __call__(self, rows):
        return self.table[torch.as_tensor(rows, dtype=torch.long)]


def _gather(encoder, inputs, rows: np.ndarray, pool: str, cache=None) -> torch.Tensor:
    """Vectors of ``rows`` (entity indices, repeats allowed): distinct entities encoded once."""
    unique, inverse = np.unique(rows, return_inverse=True)
    table = cache(unique) if cache is not None else vectors(encoder, inputs.batch(unique), pool)
    return table[torch.as_tensor(inverse, dtype=torch.long)]


def _batches(
    train_rows: np.ndarray, group: np.ndarray | None, config: PairConfig, rng: np.random.Generator
):
    if config.batching == "random" or group is None:
        order = train_rows[rng.permutation(len(train_rows))]
        return [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    groups = pd.Series(train_rows).groupby(group[train_rows]).indices
    keys = list(groups)
    keys = [keys[i] for i in rng.permutation(len(keys))]
    batches = []
    for i in range(0, len(keys), config.targets_per_batch):
        rows = np.concatenate(
            [train_rows[groups[k]] for k in keys[i : i + config.targets_per_batch]]
        )
        batches.append(rows[rng.permutation(len(rows))])
    return batches


def _columns(table: PairTable):
    pairs = table.pairs
    if table.kind == "dti":
        return pairs["drug"].to_numpy(), pairs["target"].to_numpy(), pairs["y"].to_numpy()
    return pairs["drug1"].to_numpy(), pairs["drug2"].to_numpy(), pairs["y"].to_numpy()


def run_pairs(
    table: PairTable,
    split: Split,
    make_drug: Callable[[], nn.Module],
    drug_inputs: Inputs,
    config: PairConfig,
    model_config: DTAConfig | DDIConfig | None = None,
    make_target: Callable[[], nn.Module] | None = None,
    target_inputs: Inputs | None = None,
) -> PairResult:
    """Train one pair model on ``split.train`` and score ``split.valid`` and ``split.test``.

    ``make_drug`` (and for DTI ``make_target``) build the encoders after the run is seeded, so
    one seed gives the same numbers. DTI: MSE loss, :func:`~cpmkit.tasks.metrics.affinity_metrics`.
    DDI: cross-entropy over the types, :func:`~cpmkit.tasks.metrics.interaction_metrics`.
    Taught in ``notebooks/13_drug_target_interaction`` and ``notebooks/14_drug_drug_interaction``.
    """
    start = time.perf_counter()
    dti = table.kind == "dti"
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    drug = make_drug()
    if dti:
        if make_target is None or target_inputs is None:
            raise TypeError("a drug-target run needs make_target and target_inputs")
        model = DTAModel(drug, make_target(), model_config or DTAConfig())
    else:
        model = DDIModel(drug, model_config or DDIConfig())
    cache = _Cache(drug, drug_inputs, config.pool) if config.freeze_drug else None
    params = [
        p
        for name, p in model.named_parameters()
        if not (config.freeze_drug and name.startswith("drug."))
    ]
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    left, right, y = _columns(table)
    y_tensor = torch.as_tensor(np.array(y), dtype=torch.float32 if dti else torch.long)
    train_rows = np.asarray(split.train)
    if config.max_train is not None and len(train_rows) > config.max_train:
        keep = np.random.default_rng([config.seed, 7]).permutation(len(train_rows))
        train_rows = np.sort(train_rows[keep[: config.max_train]])

    def forward(rows, train: bool):
        d = _gather(model.drug, drug_inputs, left[rows], config.pool, cache)
        if dti:
            t = _gather(model.target, target_inputs, right[rows], config.pool)
            return model.head(d, t)
        return model.head(d, _gather(model.drug, drug_inputs, right[rows], config.pool, cache))

    def predict(rows) -> np.ndarray:
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(rows), config.eval_chunk):
                chunk = rows[i : i + config.eval_chunk]
                pred = forward(chunk, False)
                out.append(pred.numpy() if dti else pred.argmax(1).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def score(rows) -> dict:
        if len(rows) == 0:
            return {}
        pred = predict(rows)
        return affinity_metrics(y[rows], pred) if dti else interaction_metrics(y[rows], pred)

    history = []
    for epoch in range(1, config.num_epochs + 1):
        model.train()
        if config.freeze_drug:
            model.drug.eval()
        losses = []
        for rows in _batches(train_rows, right if dti else None, config, rng):
            if len(rows) < 2:
                continue  # BatchNorm needs two molecules
            pred = forward(rows, True)
            target = y_tensor[torch.as_tensor(rows, dtype=torch.long)]
            loss = F.mse_loss(pred, target) if dti else F.cross_entropy(pred, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        row = {"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else float("nan")}
        if epoch % config.eval_every == 0 or epoch == config.num_epochs:
            row.update({f"valid_{k}": v for k, v in score(np.asarray(split.valid)).items()})
        history.append(row)
    test_rows = np.asarray(split.test)
    test_pred = predict(test_rows)
    test = (
        (
            affinity_metrics(y[test_rows], test_pred)
            if dti
            else interaction_metrics(y[test_rows], test_pred)
        )
        if len(test_rows)
        else {}
    )
    valid = {k[6:]: v for k, v in history[-1].items() if k.startswith("valid_")}
    return PairResult(
        valid,
        test,
        pd.DataFrame(history),
        test_pred,
        y[test_rows],
        time.perf_counter() - start,
        {**asdict(config), "n_train": len(train_rows)},
    )


def result_row(result: PairResult, **labels) -> dict:
    """One results-table row: the labels, then test metrics, then valid metrics prefixed."""
    return {
        **labels,
        **result.test,
        **{f"valid_{k}": v for k, v in result.valid.items()},
        "n_train": result.config.get("n_train"),
        "seconds": round(result.seconds, 1),
    }


def mean_std(runs: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    """``mean ± std`` over seeds of each metric, one row per group, with ``n`` runs."""

    def fmt(v):
        return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v.mean():.3f}"

    grouped = runs.groupby(by, sort=False)
    table = grouped[metrics].agg(fmt)
    table.insert(0, "n", grouped.size())
    return table.reset_index()


def gain_verdict(
    runs: pd.DataFrame,
    metric: str,
    key: str,
    baseline: str,
    treatment: str,
    higher_is_better: bool = True,
) -> dict:
    """Mean difference treatment - baseline over seeds, its standard error, and a verdict:
    ``"better"``/``"worse"`` only when |gain| > 2 standard errors, else ``"unclear"``."""
    a = runs.loc[runs[key] == treatment, metric].to_numpy(dtype=float)
    b = runs.loc[runs[key] == baseline, metric].to_numpy(dtype=float)
    gain = float(a.mean() - b.mean())
    se = float(
        np.sqrt(
            (a.var(ddof=1) / len(a) if len(a) > 1 else 0.0)
            + (b.var(ddof=1) / len(b) if len(b) > 1 else 0.0)
        )
    )
    signed = gain if higher_is_better else -gain
    if len(a) < 2 or len(b) < 2 or abs(gain) <= 2 * se:
        verdict = "unclear"
    else:
        verdict = "better" if signed > 0 else "worse"
    return {"gain": gain, "se": se, "verdict": verdict}


__all__ = [
    "DDIModel",
    "DTAModel",
    "Inputs",
    "PairConfig",
    "PairResult",
    "fingerprint_inputs",
    "gain_verdict",
    "graph_inputs",
    "mean_std",
    "result_row",
    "run_pairs",
    "token_inputs",
    "vectors",
]
