r"""Pair data: drug-target affinities (Davis, KIBA) and typed drug-drug interactions (DrugBank).

A pair table is two entity tables (drugs; targets or drugs again) and one table of pairs that
index them. Drugs are parsed once; a drug RDKit rejects is reported with its row and reason,
and every pair that holds it is dropped and counted, so ``n_pairs_read == len(pairs) +
n_pairs_dropped`` always holds.

* **Davis** (Davis et al. 2011): ``Kd`` in nM, turned into :math:`\mathrm{pK_d} =
  -\log_{10}(K_d / 10^9)` as DeepDTA does (so 10 uM, Davis' "no binding" floor, is 5.0).
* **KIBA** (Tang et al. 2014): KIBA scores as published; ``nan`` marks an unmeasured pair.
* Measured pairs are numbered in row-major order of the drugs x targets matrix, which is
  what DeepDTA's setting-1 fold files index (``np.where(~np.isnan(Y))``).
* **DrugBank DDI** (Ryu et al. 2018, SumGNN's copy): ``Label`` 1-86 is DeepDDI's type number,
  the ``Interaction type`` column of ``Interaction_information.csv`` (checked: the most frequent
  labels 49, 47, 73 are "adverse effects increased", "metabolism decreased" and "serum
  concentration increased", DeepDDI's three largest types). Six drugs have no SMILES.

Splits: :func:`setting1_split` (DeepDTA's folds as shipped), :func:`cold_split` (cold-drug,
cold-target, both-cold for DTI), :func:`cold_drug_pair_split` (DDI) and
:func:`random_pair_split`. All are seeded and deterministic. Taught in
``notebooks/13_drug_target_interaction`` and ``notebooks/14_drug_drug_interaction``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cpmkit.data.fetch import fetch_file
from cpmkit.data.registry import get_dataset_info
from cpmkit.data.splits import Split, _check_frac
from cpmkit.data.tables import make_rejects
from cpmkit.featurize.parse import parse_smiles, quiet_rdkit

DTI_DATASETS = ("davis", "kiba")
_AFFINITY_FILES = {
    "davis": "drug-target_interaction_affinities_Kd__Davis_et_al.2011v1.txt",
    "kiba": "kiba_binding_affinity_v2.txt",
}
DEFAULT_FRAC = (0.8, 0.1, 0.1)


def pkd_from_kd(kd_nm) -> np.ndarray:
    r"""DeepDTA's transform of Davis' :math:`K_d` (nM): :math:`-\log_{10}(K_d / 10^9)`."""
    return -np.log10(np.asarray(kd_nm, dtype=np.float64) / 1e9)


def _parse_drugs(smiles: Sequence[str]):
    """Parse each SMILES once: (kept original indices, mols, rejects table)."""
    kept, mols, rows, bad, reasons = [], [], [], [], []
    with quiet_rdkit():
        for i, smi in enumerate(smiles):
            parsed = parse_smiles(smi)
            if parsed.ok:
                kept.append(i)
                mols.append(parsed.mol)
            else:
                rows.append(i)
                bad.append(smi)
                reasons.append(parsed.reason)
    return kept, mols, make_rejects(rows, bad, reasons)


@dataclass
class PairTable:
    """Drugs, targets and the pairs between them.

    ``drugs`` has columns ``id, smiles, row`` (``row``: the drug's 0-based row in the source);
    ``mols[i]`` is the RDKit molecule of ``drugs`` row ``i``. ``targets`` has ``id`` and
    ``sequence`` for DTI, and is the drug table itself for DDI. ``pairs`` has ``pair`` (the
    pair's number in the source: the measured-pair index for DTI, the file row for DDI),
    ``drug`` and ``target`` (DTI) or ``drug1`` and ``drug2`` (DDI) as row numbers into the
    entity tables, and ``y`` (affinity, or the DDI class 0-85). ``rejects`` lists the drugs
    that did not parse (``row, smiles, reason``); ``dropped`` lists the dropped pairs with
    their reason.
    """

    name: str
    drugs: pd.DataFrame
    mols: list
    targets: pd.DataFrame
    pairs: pd.DataFrame
    rejects: pd.DataFrame
    dropped: pd.DataFrame
    n_pairs_read: int
    kind: str  # "dti" or "ddi"
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def n_pairs_dropped(self) -> int:
        return len(self.dropped)

    def summary(self) -> str:
        return (
            f"{self.name}: {len(self.drugs)} drugs kept ({len(self.rejects)} rejected), "
            f"{len(self.targets)} {'targets' if self.kind == 'dti' else 'drugs'}, "
            f"{len(self.pairs)} pairs kept of {self.n_pairs_read} read "
            f"({self.n_pairs_dropped} dropped)"
        )


def _read_affinities(path: Path, name: str) -> np.ndarray:
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        # KIBA's lines end in a tab (230 fields for 229 targets); Davis is space-separated
        fields = line.rstrip("\t\n ").split("\t") if name == "kiba" else line.split()
        rows.append([float(v) for v in fields])
    return np.asarray(rows, dtype=np.float64)


def load_dti(name: str) -> PairTable:
    """Davis or KIBA as a :class:`PairTable` (``y``: pKd for Davis, KIBA score for KIBA).

    Taught in ``notebooks/13_drug_target_interaction``.
    """
    if name not in DTI_DATASETS:
        raise KeyError(f"unknown drug-target set {name!r}; choose one of {DTI_DATASETS}")
    info = get_dataset_info(name)
    ligands = json.loads(Path(fetch_file(info.file("ligands_can.txt"))).read_text())
    proteins = json.loads(Path(fetch_file(info.file("proteins.txt"))).read_text())
    matrix = _read_affinities(Path(fetch_file(info.file(_AFFINITY_FILES[name]))), name)
    if matrix.shape != (len(ligands), len(proteins)):
        raise ValueError(
            f"{name}: affinity matrix is {matrix.shape}, expected "
            f"({len(ligands)}, {len(proteins)}) drugs x targets"
        )
    if name == "davis":
        matrix = pkd_from_kd(matrix)
    drug_idx, target_idx = np.where(~np.isnan(matrix))  # row-major: DeepDTA's pair numbering
    values = matrix[drug_idx, target_idx]

    drug_ids, drug_smiles = list(ligands), list(ligands.values())
    kept, mols, rejects = _parse_drugs(drug_smiles)
    new_index = np.full(len(drug_ids), -1, dtype=np.int64)
    new_index[kept] = np.arange(len(kept))
    keep = new_index[drug_idx] >= 0
    reason_of = dict(zip(rejects["row"], rejects["reason"]))
    dropped = pd.DataFrame(
        {
            "pair": np.flatnonzero(~keep),
            "drug_row": drug_idx[~keep],
            "reason": [f"drug rejected: {reason_of[r]}" for r in drug_idx[~keep]],
        }
    )
    pairs = pd.DataFrame(
        {
            "pair": np.flatnonzero(keep),
            "drug": new_index[drug_idx[keep]],
            "target": target_idx[keep],
            "y": values[keep],
        }
    )
    drugs = pd.DataFrame(
        {
            "id": [drug_ids[i] for i in kept],
            "smiles": [drug_smiles[i] for i in kept],
            "row": np.asarray(kept, dtype=np.int64),
        }
    )
    targets = pd.DataFrame({"id": list(proteins), "sequence": list(proteins.values())})
    unit = "pKd = -log10(Kd / 1e9)" if name == "davis" else "KIBA score"
    return PairTable(
        name, drugs, mols, targets, pairs, rejects, dropped, len(values), "dti", {"unit": unit}
    )


def setting1_folds(name: str) -> tuple[list[list[int]], list[int]]:
    """DeepDTA's setting-1 folds as shipped: (5 training folds, the test fold), as measured-pair
    indices (the ``pair`` column of :func:`load_dti`)."""
    info = get_dataset_info(name)
    train = json.loads(Path(fetch_file(info.file("folds/train_fold_setting1.txt"))).read_text())
    test = json.loads(Path(fetch_file(info.file("folds/test_fold_setting1.txt"))).read_text())
    return train, test


def setting1_split(table: PairTable, valid_fold: int = 0) -> Split:
    """DeepDTA setting 1: the shipped test fold is ``test``; training fold ``valid_fold`` is
    ``valid`` and the other four are ``train`` (DeepDTA's cross-validation picks its
    hyper-parameters this way). Indices are rows of ``table.pairs``; pairs dropped with a
    rejected drug are left out of every part.

    Taught in ``notebooks/13_drug_target_interaction``.
    """
    train_folds, test = setting1_folds(table.name)
    if not 0 <= valid_fold < len(train_folds):
        raise ValueError(f"valid_fold must be in 0..{len(train_folds) - 1}, got {valid_fold}")
    row_of = pd.Series(np.arange(len(table.pairs)), index=table.pairs["pair"].to_numpy())

    def rows(indices) -> np.ndarray:
        indices = pd.Index(indices)
        return row_of.reindex(indices[indices.isin(row_of.index)]).to_numpy()

    train = np.concatenate([rows(f) for i, f in enumerate(train_folds) if i != valid_fold])
    return Split(
        train, rows(train_folds[valid_fold]), rows(test), f"deepdta_setting1_valid{valid_fold}"
    )


def _entity_parts(entities: np.ndarray, frac, seed: int, stream: int) -> dict:
    """Each distinct entity -> part 0/1/2, a seeded permutation cut by ``frac`` of entities."""
    unique = np.unique(entities)
    order = np.random.default_rng([seed, stream]).permutation(len(unique))
    n_train = round(frac[0] * len(unique))
    n_valid = round(frac[1] * len(unique))
    parts = np.full(len(unique), 2, dtype=np.int64)
    parts[order[:n_train]] = 0
    parts[order[n_train : n_train + n_valid]] = 1
    return dict(zip(unique.tolist(), parts.tolist()))


def _split_from_parts(part: np.ndarray, method: str, seed: int) -> Split:
    return Split(*(np.flatnonzero(part == k) for k in range(3)), method=method, seed=seed)


def cold_split(
    drug, target, kind: str = "drug", seed: int = 0, frac: Sequence[float] = DEFAULT_FRAC
) -> Split:
    """Cold splits of drug-target pairs, indices into the pairs.

    ``kind="drug"``: drugs (``frac`` of the distinct drugs) are dealt to train/valid/test and a
    pair follows its drug, so no test drug is seen in training. ``"target"``: the same with
    targets. ``"both"``: drugs and targets are dealt independently and a pair is kept only when
    both fall in the same part (the rest are left out), so test pairs have a new drug *and* a
    new target. Taught in ``notebooks/13_drug_target_interaction``.
    """
    frac = _check_frac(frac)
    drug, target = np.asarray(drug), np.asarray(target)
    if kind not in ("drug", "target", "both"):
        raise ValueError(f"kind must be 'drug', 'target' or 'both', got {kind!r}")
    drug_part = _entity_parts(drug, frac, seed, 1)
    target_part = _entity_parts(target, frac, seed, 2)
    by_drug = np.array([drug_part[d] for d in drug.tolist()], dtype=np.int64)
    by_target = np.array([target_part[t] for t in target.tolist()], dtype=np.int64)
    if kind == "drug":
        part = by_drug
    elif kind == "target":
        part = by_target
    else:
        part = np.where(by_drug == by_target, by_drug, -1)
    return _split_from_parts(part, f"cold_{kind}", seed)


def cold_drug_pair_split(
    drug1, drug2, seed: int = 0, frac: Sequence[float] = DEFAULT_FRAC
) -> Split:
    """Cold-drug split of drug-drug pairs: drugs are dealt to train/valid/test, and a pair goes
    to the latest part of its two drugs (train < valid < test). Training pairs hold training
    drugs only; every test pair holds at least one drug never seen in training.

    Taught in ``notebooks/14_drug_drug_interaction``.
    """
    frac = _check_frac(frac)
    drug1, drug2 = np.asarray(drug1), np.asarray(drug2)
    parts = _entity_parts(np.concatenate([drug1, drug2]), frac, seed, 1)
    p1 = np.array([parts[d] for d in drug1.tolist()], dtype=np.int64)
    p2 = np.array([parts[d] for d in drug2.tolist()], dtype=np.int64)
    return _split_from_parts(np.maximum(p1, p2), "cold_drug_pairs", seed)


def random_pair_split(
    n: int, seed: int = 0, frac: Sequence[float] = DEFAULT_FRAC, stratify=None
) -> Split:
    """Pairs dealt at random (stratified by ``stratify``, e.g. the DDI type, as DeepDDI does).

    Taught in ``notebooks/14_drug_drug_interaction``.
    """
    frac = _check_frac(frac)
    rng = np.random.default_rng([seed, 0])
    part = np.full(n, 2, dtype=np.int64)
    labels = np.zeros(n, dtype=np.int64) if stratify is None else np.asarray(stratify)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(len(members))]
        n_train = round(frac[0] * len(members))
        n_valid = round(frac[1] * len(members))
        part[members[:n_train]] = 0
        part[members[n_train : n_train + n_valid]] = 1
    return _split_from_parts(
        part, "random_pairs" + ("_stratified" if stratify is not None else ""), seed
    )


def load_ddi(name: str = "drugbank_ddi") -> PairTable:
    """DrugBank's 86-type DDI pairs as a :class:`PairTable` (``y`` = type - 1, 0..85).

    A drug with no SMILES, or one RDKit rejects, is a reject (``row`` = its row in
    ``drug_smiles.csv``, or -1 if it has no row there); its pairs are dropped with the reason.
    ``extra["types"]`` holds the 86 types (``type``, ``description``, ``pairs``).
    Taught in ``notebooks/14_drug_drug_interaction``.
    """
    info = get_dataset_info(name)
    raw = pd.read_csv(fetch_file(info.file("Drugbank.txt")), sep="\t")
    smiles_table = pd.read_csv(fetch_file(info.file("drug_smiles.csv")))
    types = pd.read_csv(fetch_file(info.file("Interaction_information.csv")))

    smiles_of = dict(zip(smiles_table["drug_id"], smiles_table["smiles"]))
    row_of = {d: i for i, d in enumerate(smiles_table["drug_id"])}
    all_ids = sorted(set(raw["drug1"]) | set(raw["drug2"]))
    with_smiles = [d for d in all_ids if d in smiles_of]
    kept_pos, mols, parse_rejects = _parse_drugs([smiles_of[d] for d in with_smiles])
    kept_ids = [with_smiles[i] for i in kept_pos]
    reasons = {
        with_smiles[r]: why for r, why in zip(parse_rejects["row"], parse_rejects["reason"])
    }
    reasons.update({d: "no SMILES in drug_smiles.csv" for d in all_ids if d not in smiles_of})
    rejects = make_rejects(
        [row_of.get(d, -1) for d in reasons],
        [smiles_of.get(d) for d in reasons],
        [f"{d}: {why}" for d, why in reasons.items()],
    )
    index = {d: i for i, d in enumerate(kept_ids)}
    d1 = raw["drug1"].map(index)
    d2 = raw["drug2"].map(index)
    keep = (d1.notna() & d2.notna()).to_numpy()
    why = [
        reasons.get(a) or reasons.get(b) for a, b in zip(raw["drug1"][~keep], raw["drug2"][~keep])
    ]
    dropped = pd.DataFrame(
        {"pair": np.flatnonzero(~keep), "reason": [f"drug rejected: {w}" for w in why]}
    )
    pairs = pd.DataFrame(
        {
            "pair": np.flatnonzero(keep),
            "drug1": d1[keep].astype(np.int64).to_numpy(),
            "drug2": d2[keep].astype(np.int64).to_numpy(),
            "y": raw["Label"][keep].astype(np.int64).to_numpy() - 1,
        }
    )
    drugs = pd.DataFrame(
        {
            "id": kept_ids,
            "smiles": [smiles_of[d] for d in kept_ids],
            "row": [row_of[d] for d in kept_ids],
        }
    )
    type_table = (
        types.rename(columns={"Interaction type": "type", "Description": "description"})[
            ["type", "description"]
        ]
        .sort_values("type")
        .reset_index(drop=True)
    )
    counts = pairs["y"].value_counts()
    type_table["pairs"] = [int(counts.get(t - 1, 0)) for t in type_table["type"]]
    return PairTable(
        name, drugs, mols, drugs, pairs, rejects, dropped, len(raw), "ddi", {"types": type_table}
    )


def drop_drugs(table: PairTable, rows, reasons) -> PairTable:
    """``table`` without the pairs of drug rows ``rows`` (e.g. drugs a featurizer cannot hold);
    the drugs keep their rows, their pairs move to ``dropped`` with the reason, so the counts
    still add up. Taught in ``notebooks/13_drug_target_interaction``."""
    rows = list(rows)
    if not rows:
        return table
    why = dict(zip(rows, reasons))
    cols = ["drug"] if table.kind == "dti" else ["drug1", "drug2"]
    hit = table.pairs[cols].isin(rows).any(axis=1).to_numpy()
    first = table.pairs.loc[hit, cols[0]].to_numpy()
    other = table.pairs.loc[hit, cols[-1]].to_numpy()
    dropped = pd.DataFrame(
        {
            "pair": table.pairs.loc[hit, "pair"].to_numpy(),
            "reason": [
                f"drug not featurized: {why.get(a, why.get(b))}" for a, b in zip(first, other)
            ],
        }
    )
    return PairTable(
        table.name,
        table.drugs,
        table.mols,
        table.targets,
        table.pairs[~hit].reset_index(drop=True),
        table.rejects,
        pd.concat([table.dropped, dropped], ignore_index=True),
        table.n_pairs_read,
        table.kind,
        table.extra,
    )


def describe_interaction(description: str, drug1: str, drug2: str) -> str:
    """The type's template sentence with the two drug names filled in."""
    return description.replace("#Drug1", drug1).replace("#Drug2", drug2)


__all__ = [
    "DTI_DATASETS",
    "PairTable",
    "cold_drug_pair_split",
    "cold_split",
    "describe_interaction",
    "drop_drugs",
    "load_ddi",
    "load_dti",
    "pkd_from_kd",
    "random_pair_split",
    "setting1_folds",
    "setting1_split",
]
