"""A multi-task pre-training corpus with the downstream test molecules removed (Hu et al.).

Hu et al.'s supervised pre-training stage (``cpmkit.pretrain.supervised.SupervisedPretraining``)
reads 456K ChEMBL molecules with 1,310 assays, which the offline data mirror does not hold.
:func:`supervised_corpus` builds the stand-in: by default ToxCast's 617 in-vitro assays on
~8.6K molecules (the teach corpus; ToxCast's many bio-assays are the closest the mirror has to
ChEMBL's), or ``sources=("toxcast", "muv", "hiv")`` for the paper-profile choice. To keep
fine-tuning scores honest it removes every pre-training molecule that sits in the *test* part of
a downstream scaffold split, so fine-tuning never scores a molecule whose labels the encoder was
trained on (train and valid molecules of downstream sets may stay). Building it is data work
(merge, dedupe, leak removal, an on-disk cache), so it lives in the data layer.
Taught in ``notebooks/05_context_prediction``.
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

from cpmkit.atomic import atomic_write_text
from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.fetch import cache_dir, sha256_file
from cpmkit.data.splits import DEFAULT_FRAC, scaffold_split
from cpmkit.data.tables import load_frame
from cpmkit.featurize.parse import canonical_smiles

# bump when what supervised_corpus() writes changes, so old corpus files are not served
CORPUS_FORMAT = "cpmkit-supervised-corpus-1"
_REMOVED_COLUMNS = ("source", "row", "smiles", "excluded_dataset")
_REJECT_COLUMNS = ("source", "row", "smiles", "reason")
DOWNSTREAM = ("bbbp", "tox21", "toxcast", "sider", "clintox", "muv", "hiv", "bace")


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
        One row per (source, excluded dataset): ``n_test`` (distinct molecules in that dataset's
        scaffold test part), ``n_overlap`` (source rows found there) and ``n_removed`` (source rows
        removed on its account: a row found in several test parts is charged to the first in
        ``exclude`` order, so ``n_removed`` sums to :attr:`n_removed`).
    counts : DataFrame
        Per source: ``n_read == n_kept + n_rejected + n_removed`` (rows).
    removed, rejects : DataFrame
        The removed rows (``source, row, smiles, excluded_dataset``) and the rows the parser or
        the featurizer refused (``source, row, smiles, reason``); ``row`` is the 0-based data row.
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
            f"{self.n_removed} removed as downstream test molecules, {self.n_merged} merged), "
            f"{self.num_tasks} tasks"
        )

    def __repr__(self) -> str:
        return f"SupervisedCorpus({self.summary()}, path={str(self.path)!r})"


def molecule_key(smiles: str) -> str:
    """The identity used to match molecules: RDKit's canonical isomeric SMILES.

    Why not the InChIKey: the leak that matters is the *graph* the encoder sees, and two inputs
    with the same canonical isomeric SMILES give the same Hu et al. graph (atoms, chirality,
    bonds), while InChI merges tautomers and mobile-H forms that featurize differently (and
    would remove molecules the test set never held). The scaffold split reads the same SMILES
    with the same RDKit. Different salt forms stay different molecules under both rules.
    Taught in ``notebooks/05_context_prediction``.
    """
    key = canonical_smiles(smiles, isomeric=True)
    if key is None:
        raise ValueError(f"cannot parse {smiles!r}")
    return key


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


def _test_keys(name, scheme: str, frac) -> set[str]:
    """Molecule keys of the test part of ``name``'s scaffold split, as fine-tuning will make it
    (over the molecules the same featurizer keeps, so the indices are the harness's)."""
    smiles = MoleculeDataset(str(name), scheme).smiles
    return {molecule_key(smiles[i]) for i in scaffold_split(smiles, frac).test}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_") or "corpus"


def _build(sources, exclude, scheme: str, frac) -> tuple[pd.DataFrame, dict]:
    """The corpus table (``smiles`` + tasks) and its bookkeeping, from the inputs."""
    tests = {str(name): _test_keys(name, scheme, frac) for name in exclude}
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
        for i, (smiles, row) in enumerate(zip(data.smiles, data.rows.tolist())):
            key = molecule_key(smiles)
            found = [excl for excl, keys in tests.items() if key in keys]
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
        for bad in data.rejects.itertuples(index=False):
            rejects.append((prefix, int(bad.row), bad.smiles, bad.reason))
        counts.append(
            {
                "source": prefix,
                "n_read": int(data.n_read),
                "n_kept": len(kept_rows),
                "n_rejected": len(data.rejects),
                "n_removed": sum(charged.values()),
            }
        )
        for excl in tests:
            overlap.append(
                {
                    "source": prefix,
                    "excluded_dataset": excl,
                    "n_test": len(tests[excl]),
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
) -> SupervisedCorpus:
    """A multi-task pre-training corpus with downstream test molecules removed.

    Parameters
    ----------
    sources
        Registry names (or CSV paths, whose non-SMILES columns are the labels) whose molecules
        and binary labels make the corpus. The default ``("toxcast",)`` (617 assays, ~8.6K
        molecules) is the teach corpus, the mirror's closest stand-in for Hu et al.'s ChEMBL
        (456K molecules, 1,310 assays); ``("toxcast", "muv", "hiv")`` (142,790 rows, 635
        assays; ~127K molecules once downstream test molecules are gone) is the paper-profile
        choice.
    exclude
        Downstream datasets (registry names or CSV paths). Every source molecule that appears in
        the *test* part of one of their scaffold splits (:func:`cpmkit.data.splits.scaffold_split`
        over the molecules ``MoleculeDataset(name, scheme)`` keeps, i.e. the split fine-tuning
        uses) is removed. Train and valid molecules of downstream sets may remain (only test
        molecules are removed): with the defaults, ToxCast's own train and valid molecules stay.
    scheme
        The graph scheme of the corpus (and of the downstream splits).
    frac
        The downstream scaffold split fractions.

    Returns
    -------
    SupervisedCorpus
        ``dataset`` (one graph per distinct molecule, labels merged across sources: the union,
        NaN where a source lacks the molecule; two rows disagreeing on one assay give NaN),
        ``tasks`` (``"<source>:<task>"``), ``overlap``, ``counts``, ``removed``, ``rejects`` and
        the row counts (``n_source == n_kept + n_merged + n_rejected + n_removed``).

    Molecules are matched by RDKit canonical isomeric SMILES (:func:`molecule_key`). The CSV is
    written once to ``cache_dir()/corpora/`` under a hash of the inputs (their file hashes, the
    scheme and its version, ``frac``, the RDKit version) and reused by the next call with the
    same inputs; it and its ``.json`` bookkeeping are written atomically, the JSON last.
    Taught in ``notebooks/05_context_prediction``.
    """
    from cpmkit.featurize import scheme_version

    sources, exclude = list(sources), list(exclude)
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
        "match": "rdkit-canonical-isomeric-smiles",
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
        table, meta = _build(sources, exclude, scheme, frac)
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
        ["source", "excluded_dataset", "n_test", "n_overlap", "n_removed"],
        ["n_test", "n_overlap", "n_removed"],
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
    )


__all__ = [
    "CORPUS_FORMAT",
    "DOWNSTREAM",
    "SupervisedCorpus",
    "molecule_key",
    "supervised_corpus",
]
