"""A multi-task pre-training corpus with the downstream held-out molecules removed (Hu et al.).

Hu et al.'s supervised pre-training stage (``cpmkit.pretrain.supervised.SupervisedPretraining``)
reads 456K ChEMBL molecules with 1,310 assays, which the offline data mirror does not hold.
:func:`supervised_corpus` builds the stand-in: by default ToxCast's 617 in-vitro assays on
~8.6K molecules (the teach corpus; ToxCast's many bio-assays are the closest the mirror has to
ChEMBL's), or ``sources=("toxcast", "muv", "hiv")`` for the paper-profile choice.

Leaks are removed by one of two named rules (``leak_rule=``):

- ``"chembl_filtered"`` (the default, Hu et al.'s rule from pretrain-gnns ``chem/loader.py``,
  dataset ``chembl_filtered``): every *validation and test* molecule of the downstream scaffold
  splits (the 8 classification sets plus ESOL, FreeSolv, Lipophilicity) contributes the
  stereo-free InChI of each of its species (the SMILES split on ``'.'``); a corpus molecule is
  keyed by the stereo-free InChI of its largest species (:func:`standardized_mol_id`, their
  ``create_standardized_mol_id``) and removed when that key is among them; a corpus molecule
  whose weight (all species) lies outside 50-900 Da, or that has no InChI, is dropped first (a
  reject with its reason), as in their loader. This rule decides which molecules the published
  encoders never saw, so the reproduction uses it.
- ``"test_smiles"`` (the kit's earlier rule, kept as a reported alternative): only *test*
  molecules are removed, matched by RDKit canonical isomeric SMILES (:func:`molecule_key`); no
  weight filter. Validation molecules (which choose the reported epoch) and stereo or salt
  variants of test molecules stay in.

:func:`compare_leak_rules` counts the removals per downstream set under both. Building the
corpus is data work (merge, dedupe, leak removal, an on-disk cache), so it lives in the data
layer. Taught in ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
from rdkit import Chem
from rdkit.Chem import Descriptors

from cpmkit.atomic import atomic_write_text
from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.fetch import cache_dir, sha256_file
from cpmkit.data.splits import DEFAULT_FRAC, scaffold_split
from cpmkit.data.tables import load_frame
from cpmkit.featurize.parse import canonical_smiles, quiet_rdkit

# bump when what supervised_corpus() writes changes, so old corpus files are not served
CORPUS_FORMAT = "cpmkit-supervised-corpus-2"
_REMOVED_COLUMNS = ("source", "row", "smiles", "excluded_dataset")
_REJECT_COLUMNS = ("source", "row", "smiles", "reason")
_OVERLAP_COLUMNS = ("source", "excluded_dataset", "n_held_out", "n_overlap", "n_removed")
#: Hu et al.'s 8 classification sets (Table 1)
CLASSIFICATION_DOWNSTREAM = ("bbbp", "tox21", "toxcast", "sider", "clintox", "muv", "hiv", "bace")
#: the 11 sets whose held-out molecules Hu et al.'s ``chembl_filtered`` removes (registry names;
#: their ``delaney`` is the registry's ``esol``)
DOWNSTREAM = (*CLASSIFICATION_DOWNSTREAM, "esol", "freesolv", "lipophilicity")
#: the leak rules by name: which parts of the downstream split are held out, how molecules match
LEAK_RULES = {
    "chembl_filtered": (
        "valid+test, stereo-free InChI per species; corpus: largest species, 50-900 Da"
    ),
    "test_smiles": "test only, RDKit canonical isomeric SMILES",
}
DEFAULT_LEAK_RULE = "chembl_filtered"
#: Hu et al.'s molecular-weight window for the corpus (Da, inclusive)
MW_RANGE = (50.0, 900.0)


@dataclass
class SupervisedCorpus:
    """What :func:`supervised_corpus` built, with every source row accounted for.

    Attributes
    ----------
    dataset : MoleculeDataset
        One graph per distinct molecule; ``y`` holds the union of its labels, NaN elsewhere.
    tasks : list of str
        The label columns, ``"<source>:<task>"`` (``dataset.label_cols``).
    overlap : DataFrame
        One row per (source, excluded dataset): ``n_held_out`` (molecules in that dataset's
        held-out part: valid + test under ``chembl_filtered``, test under ``test_smiles``),
        ``n_overlap`` (source rows found there) and ``n_removed`` (source rows removed on its
        account: a row found in several held-out parts is charged to the first in ``exclude``
        order, so ``n_removed`` sums to :attr:`n_removed`).
    counts : DataFrame
        Per source: ``n_read == n_kept + n_rejected + n_removed`` (rows).
    removed, rejects : DataFrame
        The removed rows (``source, row, smiles, excluded_dataset``) and the rows refused
        (``source, row, smiles, reason``): by the parser or the featurizer, and under
        ``chembl_filtered`` for the weight window or a missing InChI; ``row`` is the 0-based
        data row.
    leak_rule : str
        The rule used (a key of :data:`LEAK_RULES`).
    n_source, n_rejected, n_removed : int
        Rows read from all sources, rows rejected, rows removed for overlap.
    n_merged : int
        Kept rows folded into an earlier row of the same molecule (a molecule in two sources, or
        twice in one).
    n_kept : int
        Distinct molecules in the corpus, ``len(dataset)``; so
        ``n_source == n_kept + n_merged + n_rejected + n_removed``.
    n_conflicts : int
        Labels set to NaN because two rows of one molecule disagreed on the same assay.
    path : Path
        The corpus CSV (``smiles`` + one column per task); ``key`` is the hash in its name.

    ``len(corpus)`` and ``corpus[i]`` are those of ``dataset``, so
    ``pretrain(strategy, corpus, ...)`` takes the corpus itself (its ``name`` and ``key`` then
    identify the run's input).
    """

    dataset: MoleculeDataset
    tasks: list[str]
    overlap: pd.DataFrame
    counts: pd.DataFrame
    removed: pd.DataFrame
    rejects: pd.DataFrame
    n_source: int
    n_rejected: int
    n_removed: int
    n_merged: int
    n_kept: int
    n_conflicts: int
    path: Path
    key: str
    leak_rule: str = DEFAULT_LEAK_RULE

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    @property
    def name(self) -> str:
        """The corpus file's stem, e.g. ``supervised-toxcast-<hash>``."""
        return self.path.stem

    # a corpus is its dataset to the loop: pretrain(strategy, corpus) needs len and indexing
    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]

    def summary(self) -> str:
        """One line: ``read N rows -> K molecules (R rejected, X removed, M merged), T tasks``."""
        return (
            f"read {self.n_source} rows -> {self.n_kept} molecules ({self.n_rejected} rejected, "
            f"{self.n_removed} removed as downstream held-out molecules ({self.leak_rule}), "
            f"{self.n_merged} merged), "
            f"{self.num_tasks} tasks"
        )

    def __repr__(self) -> str:
        return f"SupervisedCorpus({self.summary()}, path={str(self.path)!r})"


def molecule_key(smiles: str) -> str:
    """RDKit's canonical isomeric SMILES: the ``test_smiles`` rule's match, and the identity
    under which corpus rows of one molecule are merged (under both rules).

    Two inputs with the same canonical isomeric SMILES give the same Hu et al. graph (atoms,
    chirality, bonds), so it is the right key for merging labels. As a *leak* rule it is
    narrower than Hu et al.'s (:func:`standardized_mol_id`): a stereoisomer or another salt form
    of a held-out molecule is a different key, so it stays in the corpus; InChI also merges
    tautomers and mobile-H forms that featurize differently. The reproduction follows the
    paper's rule, since that decides which molecules the published encoder never saw.
    Taught in ``notebooks/05_context_prediction``.
    """
    key = canonical_smiles(smiles, isomeric=True)
    if key is None:
        raise ValueError(f"cannot parse {smiles!r}")
    return key


def _largest_species(mol: Chem.Mol) -> Chem.Mol:
    """The species with the most atoms (the first of equals, in canonical SMILES order), as Hu
    et al.'s ``split_rdkit_mol_obj`` + ``get_largest_mol`` pick it."""
    species = [Chem.MolFromSmiles(s) for s in Chem.MolToSmiles(mol).split(".")]
    species = [m for m in species if m is not None]
    sizes = [m.GetNumAtoms() for m in species]
    return species[sizes.index(max(sizes))]


def standardized_mol_id(smiles: str) -> str | None:
    """Hu et al.'s ``create_standardized_mol_id``: the stereo-free InChI of the largest species.

    The SMILES is written again without stereochemistry (``isomericSmiles=False``), parsed, and
    when it holds several species (a salt, a solvate) the one with the most atoms is kept; its
    standard InChI is the key. ``None`` when the SMILES does not parse or has no InChI. A
    stereoisomer and a salt of one molecule therefore share its key. Taught in
    ``notebooks/05_context_prediction``.
    """
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
        if mol is None:
            return None
        flat = Chem.MolToSmiles(mol, isomericSmiles=False)
        mol = Chem.MolFromSmiles(flat)
        if mol is None:
            return None
        if "." in flat:
            mol = _largest_species(mol)
        inchi = Chem.MolToInchi(mol)
    return inchi or None


def species_ids(smiles: str) -> set[str]:
    """The keys a held-out downstream molecule contributes under ``chembl_filtered``: the
    stereo-free InChI of *every* species (the SMILES split on ``'.'``), as in Hu et al.'s
    loader; species without an InChI contribute nothing. Taught in
    ``notebooks/05_context_prediction``.
    """
    keys = {standardized_mol_id(part) for part in str(smiles).split(".")}
    keys.discard(None)
    return keys


def _spec(name) -> tuple[str, str, bool]:
    """``(prefix, sha256 of the input, is_registry)`` for a registry name or a CSV path."""
    from cpmkit.data.registry import list_datasets

    registry = {info.name: info for info in list_datasets()}
    if isinstance(name, str) and name in registry:
        info = registry[name]
        return name, (info.main_file.sha256 if info.files else str(info.embedded)), True
    path = Path(name).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{str(name)!r} is neither a registry dataset nor a file")
    return path.name.split(".")[0], sha256_file(path), False


def _load_source(name, scheme: str) -> MoleculeDataset:
    """A source as a MoleculeDataset; a CSV's columns other than the SMILES are its labels."""
    _, _, is_registry = _spec(name)
    if is_registry:
        return MoleculeDataset(name, scheme)
    frame, smiles_col, _, _ = load_frame(str(name), nrows=0)
    labels = [str(c) for c in frame.columns if c != smiles_col]
    return MoleculeDataset(str(name), scheme, smiles_col=smiles_col, label_cols=labels)


def _held_out_keys(name, scheme: str, frac, leak_rule: str) -> tuple[set[str], int]:
    """Keys of the held-out part of ``name``'s scaffold split as fine-tuning makes it (over the
    molecules the same featurizer keeps, so the indices are the harness's), and its size."""
    smiles = MoleculeDataset(str(name), scheme).smiles
    split = scaffold_split(smiles, frac)
    if leak_rule == "test_smiles":
        return {molecule_key(smiles[i]) for i in split.test}, len(split.test)
    held_out = [*split.valid.tolist(), *split.test.tolist()]
    keys: set[str] = set()
    for i in held_out:
        keys |= species_ids(smiles[i])
    return keys, len(held_out)


def _weight_reason(smiles: str) -> str | None:
    """Why ``chembl_filtered`` drops a corpus molecule before matching, or ``None``."""
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return "does not parse"
    weight = Descriptors.MolWt(mol)
    low, high = MW_RANGE
    if not low <= weight <= high:
        return f"molecular weight {weight:.1f} Da outside {low:g}-{high:g} Da (Hu et al.)"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_") or "corpus"


def _build(sources, exclude, scheme: str, frac, leak_rule: str) -> tuple[pd.DataFrame, dict]:
    """The corpus table (``smiles`` + tasks) and its bookkeeping, from the inputs."""
    tests, sizes = {}, {}
    for name in exclude:
        tests[str(name)], sizes[str(name)] = _held_out_keys(name, scheme, frac, leak_rule)
    hu_rule = leak_rule == "chembl_filtered"
    index: dict[str, int] = {}  # molecule key -> corpus row
    smiles_out: list[str] = []
    blocks: list[tuple[np.ndarray, np.ndarray, int]] = []  # corpus rows, labels, task offset
    tasks: list[str] = []
    counts, overlap, removed, rejects = [], [], [], []
    n_merged = 0
    for name in sources:
        prefix = _spec(name)[0]
        data = _load_source(name, scheme)
        labels = data.labels.numpy().astype(np.float64)
        hits = {excl: 0 for excl in tests}
        charged = {excl: 0 for excl in tests}
        kept_at, kept_rows = [], []
        filtered: list[tuple] = []  # dropped by chembl_filtered's weight window or for no InChI
        for i, (smiles, row) in enumerate(zip(data.smiles, data.rows.tolist())):
            key = molecule_key(smiles)  # merge identity (the graph), under both rules
            match = key
            if hu_rule:
                reason = _weight_reason(smiles)
                match = standardized_mol_id(smiles)
                if reason is None and match is None:
                    reason = "no InChI (Hu et al. drop it)"
                if reason is not None:
                    filtered.append((prefix, int(row), smiles, reason))
                    continue
            found = [excl for excl, keys in tests.items() if match in keys]
            for excl in found:
                hits[excl] += 1
            if found:
                charged[found[0]] += 1
                removed.append((prefix, int(row), smiles, found[0]))
                continue
            if key in index:
                n_merged += 1
            else:
                index[key] = len(smiles_out)
                smiles_out.append(smiles)  # the source's own text: it is known to featurize
            kept_at.append(index[key])
            kept_rows.append(i)
        blocks.append((np.asarray(kept_at, dtype=np.int64), labels[kept_rows], len(tasks)))
        tasks.extend(f"{prefix}:{col}" for col in data.label_cols)
        refused = [
            (prefix, int(b.row), b.smiles, b.reason) for b in data.rejects.itertuples(index=False)
        ]
        rejects.extend(sorted(refused + filtered, key=lambda r: r[1]))  # in data-row order
        counts.append(
            {
                "source": prefix,
                "n_read": int(data.n_read),
                "n_kept": len(kept_rows),
                "n_rejected": len(refused) + len(filtered),
                "n_removed": sum(charged.values()),
            }
        )
        for excl in tests:
            overlap.append(
                {
                    "source": prefix,
                    "excluded_dataset": excl,
                    "n_held_out": sizes[excl],
                    "n_overlap": hits[excl],
                    "n_removed": charged[excl],
                }
            )
    values = np.full((len(smiles_out), len(tasks)), np.nan)
    conflict = np.zeros_like(values, dtype=bool)
    for at, labels, offset in blocks:
        for k, row_labels in zip(at.tolist(), labels):
            cols = slice(offset, offset + len(row_labels))
            old, new = values[k, cols], row_labels
            clash = ~np.isnan(old) & ~np.isnan(new) & (old != new)
            conflict[k, cols] |= clash
            values[k, cols] = np.where(np.isnan(old), new, old)
    values[conflict] = np.nan  # a molecule measured both ways: unknown, not a coin flip
    table = pd.DataFrame(values, columns=tasks)
    table.insert(0, "smiles", smiles_out)
    meta = {
        "tasks": tasks,
        "counts": counts,
        "overlap": overlap,
        "removed": [dict(zip(_REMOVED_COLUMNS, r)) for r in removed],
        "rejects": [dict(zip(_REJECT_COLUMNS, r)) for r in rejects],
        "n_merged": n_merged,
        "n_kept": len(smiles_out),
        "n_conflicts": int(conflict.sum()),
    }
    return table, meta


def _frame(records: list[dict], columns: list[str], ints: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=columns)
    return frame.astype({col: "int64" for col in ints})


def supervised_corpus(
    sources: Sequence = ("toxcast",),
    exclude: Sequence = DOWNSTREAM,
    scheme: str = "hu",
    frac: Sequence[float] = DEFAULT_FRAC,
    leak_rule: str = DEFAULT_LEAK_RULE,
) -> SupervisedCorpus:
    """A multi-task pre-training corpus with downstream held-out molecules removed.

    Parameters
    ----------
    sources
        Registry names (or CSV paths, whose non-SMILES columns are the labels) whose molecules
        and binary labels make the corpus. The default ``("toxcast",)`` (617 assays, ~8.6K
        molecules) is the teach corpus, the mirror's closest stand-in for Hu et al.'s ChEMBL
        (456K molecules, 1,310 assays); ``("toxcast", "muv", "hiv")`` (142,790 rows, 635
        assays) is the paper-profile choice. With the default 11 downstream sets (RDKit
        2026.09): ToxCast keeps 6,076 molecules under ``chembl_filtered`` (2,398 rows removed,
        102 rejected) against 7,173 under ``test_smiles`` (1,403 removed); ToxCast + MUV + HIV
        keeps 112,100 (29,446 removed, 765 rejected) against 127,246 (14,980 removed).
    exclude
        Downstream datasets (registry names or CSV paths; default :data:`DOWNSTREAM`, Hu et
        al.'s 11). Every source molecule that appears in the held-out part of one of their
        scaffold splits (:func:`cpmkit.data.splits.scaffold_split` over the molecules
        ``MoleculeDataset(name, scheme)`` keeps, i.e. the split fine-tuning uses) is removed.
        Their train molecules remain: with ``sources=("toxcast",)``, ToxCast's own training
        molecules and labels are pre-trained on (Table 1 says so in its note column).
    scheme
        The graph scheme of the corpus (and of the downstream splits).
    frac
        The downstream scaffold split fractions.
    leak_rule
        A key of :data:`LEAK_RULES`: ``"chembl_filtered"`` (default; Hu et al.: valid + test
        held out, stereo-free InChI per species, 50-900 Da) or ``"test_smiles"`` (test only,
        canonical isomeric SMILES); see the module docstring.

    Returns
    -------
    SupervisedCorpus
        ``dataset`` (one graph per distinct molecule, labels merged across sources: the union,
        NaN where a source lacks the molecule; two rows disagreeing on one assay give NaN),
        ``tasks`` (``"<source>:<task>"``), ``overlap``, ``counts``, ``removed``, ``rejects`` and
        the row counts (``n_source == n_kept + n_merged + n_rejected + n_removed``).

    Rows of one molecule (:func:`molecule_key`) are merged under both rules. The CSV is
    written once to ``cache_dir()/corpora/`` under a hash of the inputs (their file hashes, the
    scheme and its version, ``frac``, the leak rule, the RDKit version) and reused by the next
    call with the same inputs; it and its ``.json`` bookkeeping are written atomically, the
    JSON last.
    Taught in ``notebooks/05_context_prediction``.
    """
    from cpmkit.featurize import scheme_version

    sources, exclude = list(sources), list(exclude)
    if leak_rule not in LEAK_RULES:
        raise ValueError(f"unknown leak_rule {leak_rule!r}; choose one of {sorted(LEAK_RULES)}")
    if not sources:
        raise ValueError("sources is empty: name at least one dataset to pre-train on")
    frac = tuple(float(f) for f in frac)
    specs = [_spec(name) for name in sources]
    prefixes = [prefix for prefix, _, _ in specs]
    if len(set(prefixes)) != len(prefixes):
        raise ValueError(f"sources must have distinct names (they prefix the tasks): {prefixes}")
    ingredients = {
        "format": CORPUS_FORMAT,
        "sources": [[prefix, digest] for prefix, digest, _ in specs],
        "exclude": [[str(name), _spec(name)[1]] for name in exclude],
        "scheme": scheme,
        "scheme_version": str(scheme_version(scheme)),
        "frac": list(frac),
        "leak_rule": leak_rule,
        "rdkit": rdkit.__version__,
    }
    key = hashlib.sha256(json.dumps(ingredients, sort_keys=True).encode()).hexdigest()
    folder = cache_dir() / "corpora"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"supervised-{_slug('+'.join(prefixes))}-{key[:16]}"
    csv_path, meta_path = folder / f"{stem}.csv", folder / f"{stem}.json"
    meta = None
    if csv_path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("key") != key or meta.get("csv_sha256") != sha256_file(csv_path):
            meta = None  # a stale or foreign pair: build again
    if meta is None:
        table, meta = _build(sources, exclude, scheme, frac, leak_rule)
        atomic_write_text(csv_path, table.to_csv(index=False, lineterminator="\n"))
        meta.update(key=key, ingredients=ingredients, csv_sha256=sha256_file(csv_path))
        atomic_write_text(meta_path, json.dumps(meta, indent=1))  # last: marks the pair complete
    tasks = list(meta["tasks"])
    dataset = MoleculeDataset(csv_path, scheme, smiles_col="smiles", label_cols=tasks)
    if len(dataset) != meta["n_kept"]:
        raise RuntimeError(
            f"{csv_path} featurized to {len(dataset)} graphs, expected {meta['n_kept']}; "
            f"rejects: {dataset.rejects.head().to_dict('records')}"
        )
    counts = _frame(
        meta["counts"],
        ["source", "n_read", "n_kept", "n_rejected", "n_removed"],
        ["n_read", "n_kept", "n_rejected", "n_removed"],
    )
    overlap = _frame(
        meta["overlap"],
        list(_OVERLAP_COLUMNS),
        ["n_held_out", "n_overlap", "n_removed"],
    )
    removed = _frame(meta["removed"], list(_REMOVED_COLUMNS), ["row"])
    rejects = _frame(meta["rejects"], list(_REJECT_COLUMNS), ["row"])
    return SupervisedCorpus(
        dataset=dataset,
        tasks=tasks,
        overlap=overlap,
        counts=counts,
        removed=removed,
        rejects=rejects,
        n_source=int(counts["n_read"].sum()),
        n_rejected=len(rejects),
        n_removed=len(removed),
        n_merged=int(meta["n_merged"]),
        n_kept=int(meta["n_kept"]),
        n_conflicts=int(meta["n_conflicts"]),
        path=csv_path,
        key=key,
        leak_rule=leak_rule,
    )


def compare_leak_rules(
    sources: Sequence = ("toxcast",),
    exclude: Sequence = DOWNSTREAM,
    scheme: str = "hu",
    frac: Sequence[float] = DEFAULT_FRAC,
    rules: Sequence[str] = tuple(LEAK_RULES),
) -> pd.DataFrame:
    """Removed corpus rows per downstream set under each leak rule, side by side.

    One row per excluded dataset (summed over ``sources``): ``n_held_out (<rule>)`` (molecules
    in its held-out part), ``n_overlap (<rule>)`` (corpus rows found there) and
    ``n_removed (<rule>)`` (rows removed on its account, charged to the first set in
    ``exclude`` order that holds them), plus a ``total`` row. Each rule's corpus is built (or
    reloaded) by :func:`supervised_corpus`. Taught in ``notebooks/05_context_prediction``.
    """
    merged = None
    for rule in rules:
        corpus = supervised_corpus(sources, exclude, scheme, frac, leak_rule=rule)
        per_set = corpus.overlap.groupby("excluded_dataset", sort=False)[
            ["n_overlap", "n_removed"]
        ].sum()
        per_set.insert(
            0,
            "n_held_out",
            corpus.overlap.groupby("excluded_dataset", sort=False)["n_held_out"].first(),
        )
        per_set.columns = [f"{col} ({rule})" for col in per_set.columns]
        merged = per_set if merged is None else merged.join(per_set)
    table = merged.reset_index()
    total = {"excluded_dataset": "total", **table.drop(columns="excluded_dataset").sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


__all__ = [
    "CLASSIFICATION_DOWNSTREAM",
    "CORPUS_FORMAT",
    "DEFAULT_LEAK_RULE",
    "DOWNSTREAM",
    "LEAK_RULES",
    "MW_RANGE",
    "SupervisedCorpus",
    "compare_leak_rules",
    "molecule_key",
    "species_ids",
    "standardized_mol_id",
    "supervised_corpus",
]
