r"""Metrics for generated SMILES against a reference set, with the MOSES definitions.

MOSES (Polykovskiy et al. 2020, "Molecular Sets (MOSES)", arXiv:1811.12823) fixed how a molecular
generator is scored; MolGPT and most later papers print its columns. Its package (``molsets``) no
longer installs, so this module re-states each definition with RDKit, numpy and scipy, following
the MOSES source (``moses/metrics/metrics.py`` and ``utils.py``) where the paper is vague.
Let :math:`S` be the samples, :math:`V \subseteq S` the valid ones (in sample order, duplicates
kept), :math:`U` the set of their canonical SMILES, :math:`R` the reference and :math:`T` the
training set; :math:`\mathrm{sim}` is the Tanimoto similarity of Morgan bits (radius 2, 1024 bits).

.. math::
    \mathrm{valid} = \frac{|V|}{|S|}, \qquad
    \mathrm{unique@}k = \frac{|\mathrm{set}(V_{1..k})|}{|V_{1..k}|}, \qquad
    \mathrm{novelty} = \frac{|U \setminus T|}{|U|}

.. math::
    \mathrm{IntDiv}_p = 1 - \frac{1}{|V|} \sum_{x \in V}
        \Big(\frac{1}{|V|} \sum_{y \in V} \mathrm{sim}(x, y)^p\Big)^{1/p}, \qquad
    \mathrm{SNN} = \frac{1}{|V|} \sum_{x \in V} \max_{y \in R} \mathrm{sim}(x, y)

Scaf and Frag are the cosine similarity of two count vectors (Bemis-Murcko scaffolds, or BRICS
fragments) of the samples and the reference; FCD is the Fréchet distance between Gaussians fitted
to ChemNet activations (Preuer et al. 2018), computed by the ``fcd`` package. Invalid samples are
counted by ``valid`` and then left out of every other metric; they never raise.
Taught in ``notebooks/12_molecular_generation``.
"""

from __future__ import annotations

import gzip
import hashlib
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from scipy.spatial.distance import cosine
from threadpoolctl import threadpool_limits

from cpmkit.featurize.parse import canonical_smiles, parse_smiles, quiet_rdkit
from cpmkit.featurize.scaffold import murcko_scaffold

# The MOSES defaults: Morgan radius 2 folded to 1024 bits, unique@k with k = 1,000 and 10,000,
# and scaffolds counted only when they keep at least two rings (``compute_scaffolds``).
MORGAN_RADIUS = 2
MORGAN_BITS = 1024
SCAFFOLD_MIN_RINGS = 2
DEFAULT_K = (1_000, 10_000)


def _valid_mols(smiles: Iterable) -> list[Chem.Mol]:
    # One parse per sample; parse_smiles already keeps RDKit's log quiet and never raises.
    return [mol for mol in (parse_smiles(s).mol for s in smiles) if mol is not None]


def _valid_canonical(smiles: Iterable) -> list[str]:
    return [canonical_smiles(mol) for mol in _valid_mols(smiles)]


def _check_nonempty(samples: Sequence, what: str = "samples") -> None:
    if len(samples) == 0:
        raise ValueError(f"{what} is empty: a metric of no molecules is undefined")


def validity(samples: Sequence) -> float:
    """Fraction of samples that RDKit parses and sanitises (MOSES ``valid``).

    Parameters
    ----------
    samples : sequence
        Generated SMILES; ``None``, empty strings and garbage count as invalid.

    Returns
    -------
    float
        ``|valid| / |samples|``.

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    return len(_valid_mols(samples)) / len(samples)


def uniqueness(samples: Sequence, k: int | None = None) -> float:
    """Fraction of distinct canonical SMILES among the first ``k`` valid samples (unique@k).

    Invalid samples are dropped first, as MOSES does before ``fraction_unique``; with fewer than
    ``k`` valid samples a warning is raised and all of them are used (MOSES does the same).
    ``OCC`` and ``CCO`` are one molecule, so ``["CCO", "OCC", "C"]`` gives 2/3.

    Parameters
    ----------
    samples : sequence
        Generated SMILES, in generation order.
    k : int, optional
        Count only the first ``k`` valid samples; ``None`` = all.

    Returns
    -------
    float
        NaN when no sample is valid.

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    canonical = _valid_canonical(samples)
    if k is not None:
        if len(canonical) < k:
            warnings.warn(f"unique@{k}: only {len(canonical)} valid samples", stacklevel=2)
        canonical = canonical[:k]
    return len(set(canonical)) / len(canonical) if canonical else float("nan")


class CanonicalSmilesSet(frozenset):
    """A set of SMILES already in the kit's canonical form: :func:`novelty` uses it as is.

    What :func:`canonical_training_set` returns, so a 1.58M-molecule training set is not
    canonicalised again on every call. Taught in ``notebooks/12_molecular_generation``.
    """


#: bump when the cached file's content changes
_CANONICAL_FORMAT = "cpmkit-canonical-set-1"


def canonical_training_set(source="moses_train") -> CanonicalSmilesSet:
    """The distinct canonical SMILES of a whole training set, built once and cached.

    MolGPT's ``generate.py`` measures novelty against the *full* MOSES training set (1.58M
    molecules), not against the sample a small model was trained on; a sample counts far more
    molecules as novel. Canonicalising 1.58M SMILES takes several minutes (about 15 on a busy
    2-core machine), so the result is written once to ``cache_dir()/canonical/`` as gzipped
    text (sorted, one SMILES a line) under a hash of the source file's sha256, the RDKit version
    and the format, and read back (seconds) by every later call.

    Parameters
    ----------
    source
        A registry name (default ``"moses_train"``) or a CSV path; invalid rows are left out.

    Taught in ``notebooks/12_molecular_generation``.
    """
    from cpmkit.atomic import atomic_path
    from cpmkit.data.fetch import cache_dir, sha256_file
    from cpmkit.data.registry import get_dataset_info
    from cpmkit.data.tables import load_frame

    try:
        info = get_dataset_info(str(source))
        digest = info.main_file.sha256 if info.files else str(info.embedded)
        stem = info.name
    except (KeyError, ValueError):
        path = Path(source).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(source)!r} is neither a registry dataset nor a file"
            ) from None
        digest, stem = sha256_file(path), path.name.split(".")[0]
    key = hashlib.sha256(f"{_CANONICAL_FORMAT}|{digest}|{rdkit.__version__}".encode()).hexdigest()
    target = cache_dir() / "canonical" / f"{stem}-{key[:16]}.txt.gz"
    if not target.is_file():
        frame, smiles_col, _, _ = load_frame(str(source))
        canonical = sorted(set(_valid_canonical(frame[smiles_col].tolist())))
        target.parent.mkdir(parents=True, exist_ok=True)
        # no name and mtime 0 in the gzip header: the same inputs give the same bytes
        with (
            atomic_path(target) as tmp,
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle,
        ):
            handle.write(("\n".join(canonical) + "\n").encode())
    with gzip.open(target, "rt", encoding="utf-8") as handle:
        return CanonicalSmilesSet(line for line in handle.read().split("\n") if line)


def novelty_train_set(mode: str, corpus: str, corpus_smiles: Iterable):
    """What novelty is measured against: ``"full"`` the whole training set ``corpus`` (a
    :class:`CanonicalSmilesSet` from :func:`canonical_training_set`; MolGPT's choice, the one to
    put beside a published value) or ``"corpus"`` the molecules a model was trained on
    (``corpus_smiles``). Taught in ``notebooks/12_molecular_generation``.
    """
    if mode == "full":
        return canonical_training_set(corpus)
    if mode == "corpus":
        return list(corpus_smiles)
    raise ValueError(f"novelty_train must be 'full' or 'corpus', got {mode!r}")


def novelty(samples: Sequence, train: Iterable) -> float:
    """Fraction of the distinct valid samples whose canonical SMILES is not in ``train``.

    Both sides are canonicalised, so a training SMILES written another way still counts as seen
    (MOSES assumes its training SMILES are already canonical and compares strings); a
    :class:`CanonicalSmilesSet` is used as it is.

    Parameters
    ----------
    samples : sequence
        Generated SMILES.
    train : iterable
        Training SMILES; invalid ones are ignored. Which training set matters: MolGPT and MOSES
        use the *full* training set (:func:`canonical_training_set`).

    Returns
    -------
    float
        NaN when no sample is valid.

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    generated = set(_valid_canonical(samples))
    if not generated:
        return float("nan")
    seen = train if isinstance(train, CanonicalSmilesSet) else set(_valid_canonical(train))
    return len(generated - seen) / len(generated)


def _fingerprints(mols: Sequence[Chem.Mol]) -> list:
    # RDKit bit vectors (not numpy arrays), so BulkTanimotoSimilarity can use its popcounts.
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)
    return [generator.GetFingerprint(mol) for mol in mols]


def internal_diversity(samples: Sequence, p: int = 1) -> float:
    """IntDiv_p: one minus the power mean of Tanimoto similarities within the valid samples.

    Follows the MOSES code: the full |V| x |V| matrix (self-pairs and duplicates included), the
    power mean taken per row, then averaged over rows. For p = 1 this is the paper's
    :math:`1 - \\frac{1}{|V|^2}\\sum T`; for p = 2 the per-row root makes it differ slightly from
    the paper's single global root. Two molecules of similarity t give
    :math:`1 - ((1 + t^p) / 2)^{1/p}`; one molecule repeated gives 0.

    Parameters
    ----------
    samples : sequence
        Generated SMILES; invalid ones are dropped.
    p : int
        1 for MOSES ``IntDiv``, 2 for ``IntDiv2``.

    Returns
    -------
    float
        NaN when no sample is valid. Costs |V|^2 similarities (10,000 samples: some seconds).

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    return _internal_diversity(_fingerprints(_valid_mols(samples)), (p,))[p]


def _internal_diversity(fps: list, powers: Sequence[int]) -> dict[int, float]:
    if not fps:
        return {p: float("nan") for p in powers}
    row_means = {p: np.empty(len(fps)) for p in powers}
    # One row of the matrix at a time: 30,000 samples would need 7 GB as a float64 matrix; the
    # row is reused for every p, so IntDiv and IntDiv2 cost one pass.
    for i, fp in enumerate(fps):
        row = np.asarray(DataStructs.BulkTanimotoSimilarity(fp, fps))
        for p in powers:
            row_means[p][i] = np.mean(row**p)
    return {p: float(1.0 - np.mean(means ** (1.0 / p))) for p, means in row_means.items()}


def snn(samples: Sequence, reference: Sequence) -> float:
    """SNN: mean over valid samples of the Tanimoto similarity to the nearest reference molecule.

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    sample_fps = _fingerprints(_valid_mols(samples))
    reference_fps = _fingerprints(_valid_mols(reference))
    if not sample_fps or not reference_fps:
        return float("nan")
    nearest = [max(DataStructs.BulkTanimotoSimilarity(fp, reference_fps)) for fp in sample_fps]
    return float(np.mean(nearest))


def _scaffold(mol: Chem.Mol, min_rings: int) -> str | None:
    try:  # at least one ring: the empty scaffold of an acyclic molecule is never counted
        return murcko_scaffold(mol, include_chirality=True, min_rings=max(min_rings, 1))
    except (RuntimeError, ValueError):  # RDKit raises these on odd valences; MOSES skips them too
        return None


def scaffold_counts(smiles: Iterable, min_rings: int = SCAFFOLD_MIN_RINGS) -> Counter:
    """Bemis-Murcko scaffold SMILES of the valid molecules, counted.

    As in MOSES, a scaffold with fewer than ``min_rings`` rings (2 by default; an acyclic
    molecule has none) is not counted. Taught in ``notebooks/12_molecular_generation``.
    """
    with quiet_rdkit():
        scaffolds = (_scaffold(mol, min_rings) for mol in _valid_mols(smiles))
        return Counter(s for s in scaffolds if s is not None)


def fragment_counts(smiles: Iterable) -> Counter:
    """BRICS fragments (with their numbered attachment points) of the valid molecules, counted.

    Taught in ``notebooks/12_molecular_generation``.
    """
    counts: Counter = Counter()
    with quiet_rdkit():
        for mol in _valid_mols(smiles):
            counts.update(Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(mol)).split("."))
    return counts


def count_cosine(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """Cosine similarity of two ``{name: count}`` tables, absent names counting 0.

    NaN when either table is empty (MOSES does the same). Taught in
    ``notebooks/12_molecular_generation``.
    """
    if not a or not b:
        return float("nan")
    keys = sorted(set(a) | set(b))
    u = np.array([a.get(key, 0) for key in keys], dtype=float)
    v = np.array([b.get(key, 0) for key in keys], dtype=float)
    return float(1.0 - cosine(u, v))


def scaffold_similarity(
    samples: Sequence, reference: Sequence, min_rings: int = SCAFFOLD_MIN_RINGS
) -> float:
    """Scaf: cosine similarity of the scaffold counts of samples and reference.

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    return count_cosine(scaffold_counts(samples, min_rings), scaffold_counts(reference, min_rings))


def fragment_similarity(samples: Sequence, reference: Sequence) -> float:
    """Frag: cosine similarity of the BRICS fragment counts of samples and reference.

    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    return count_cosine(fragment_counts(samples), fragment_counts(reference))


def _import_fcd():
    try:
        import fcd
    except ImportError as error:  # the metric is optional; everything else here works without
        raise ImportError(
            "FCD needs the 'fcd' package (pip install fcd; its wheel ships the ChemNet weights)"
        ) from error
    return fcd


def chemnet_activations(smiles: Sequence, device: str | None = None) -> np.ndarray:
    """ChemNet's penultimate activations (N, 512) of the valid molecules, canonical SMILES in.

    Uses the ChemNet weights inside the ``fcd`` wheel (no network). ``device`` defaults to CUDA
    when available, else CPU. Taught in ``notebooks/12_molecular_generation``.
    """
    fcd = _import_fcd()
    canonical = _valid_canonical(smiles)
    if not canonical:
        return np.zeros((0, 512), dtype=np.float32)
    with warnings.catch_warnings():
        # fcd 1.2 calls numpy/torch APIs that now warn; the warnings are theirs, not the user's.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        # n_jobs=0: tokenise in this process; a DataLoader worker per call costs more than it
        # saves.
        return fcd.get_predictions(fcd.load_ref_model(), canonical, n_jobs=0, device=device)


def fcd_distance(samples: Sequence, reference: Sequence, device: str | None = None) -> float:
    """FCD: Fréchet distance between Gaussians fitted to the ChemNet activations of both sets.

    .. math::
        d^2 = \\lVert \\mu_S - \\mu_R \\rVert^2
              + \\mathrm{Tr}\\big(\\Sigma_S + \\Sigma_R - 2 (\\Sigma_S \\Sigma_R)^{1/2}\\big)

    Valid samples only, canonicalised (as the ``fcd`` package advises). NaN when either side has
    fewer than two valid molecules (no covariance; MOSES returns NaN too). A set against itself
    gives ~0 (tiny negative values are round-off). Raises ``ImportError`` without ``fcd``.
    Taught in ``notebooks/12_molecular_generation``.
    """
    _check_nonempty(samples)
    fcd = _import_fcd()
    acts_s = chemnet_activations(samples, device)
    acts_r = chemnet_activations(reference, device)
    if len(acts_s) < 2 or len(acts_r) < 2:
        warnings.warn("FCD needs at least two valid molecules on each side", stacklevel=2)
        return float("nan")
    # One BLAS thread: sqrtm of a 512 x 512 matrix takes ~0.2 s on one core, while a threaded
    # OpenBLAS on a busy machine (other jobs on the same cores) was seen to take 10-20x longer.
    # threadpoolctl comes with scikit-learn.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=) inside fcd
        return float(
            fcd.calculate_frechet_distance(
                acts_s.mean(0), np.cov(acts_s.T), acts_r.mean(0), np.cov(acts_r.T)
            )
        )


@dataclass
class GenerationMetrics:
    """The MOSES columns for one set of samples; NaN where a metric was not computed.

    ``unique`` maps k to unique@k. :meth:`as_dict` flattens it with MOSES's key names
    (``unique@1000``). Taught in ``notebooks/12_molecular_generation``.
    """

    n_samples: int
    n_valid: int
    valid: float
    unique: dict[int, float] = field(default_factory=dict)
    novelty: float = float("nan")
    IntDiv: float = float("nan")
    IntDiv2: float = float("nan")
    FCD: float = float("nan")
    SNN: float = float("nan")
    Frag: float = float("nan")
    Scaf: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        row = asdict(self)
        unique = row.pop("unique")
        out = {key: row.pop(key) for key in ("n_samples", "n_valid", "valid")}
        out.update({f"unique@{k}": value for k, value in unique.items()})
        out.update(row)
        return out


def generation_metrics(
    samples: Sequence,
    reference: Sequence,
    train: Iterable | None = None,
    k: int | Sequence[int] = DEFAULT_K,
    fcd: bool = True,
    device: str | None = None,
) -> dict[str, float]:
    """All the MOSES metrics of ``samples`` against ``reference`` (and ``train`` for novelty).

    Parameters
    ----------
    samples : sequence
        Generated SMILES in generation order (unique@k counts the first k valid ones).
    reference : sequence
        Reference SMILES (MOSES: its test set) for FCD, SNN, Frag and Scaf.
    train : iterable, optional
        Training SMILES; novelty is NaN without them.
    k : int or sequence of int
        The k of unique@k (MOSES prints 1,000 and 10,000).
    fcd : bool
        Compute FCD (needs the ``fcd`` package; ChemNet on CPU is ~20 ms per molecule).
    device : str, optional
        Device for ChemNet.

    Returns
    -------
    dict
        ``n_samples, n_valid, valid, unique@k..., novelty, IntDiv, IntDiv2, FCD, SNN, Frag,
        Scaf`` (MOSES's names, without its ``/Test`` suffix); see :class:`GenerationMetrics`.

    Taught in ``notebooks/12_molecular_generation``.
    """
    samples = list(samples)
    _check_nonempty(samples)
    reference = list(reference)
    # Parse once: every metric below works on the valid samples' canonical SMILES.
    valid = _valid_canonical(samples)
    ks = [k] if isinstance(k, int) else list(k)
    result = GenerationMetrics(
        n_samples=len(samples), n_valid=len(valid), valid=len(valid) / len(samples)
    )
    if valid:
        result.unique = {kk: uniqueness(valid, kk) for kk in ks}
        if train is not None:
            result.novelty = novelty(valid, train)
        diversity = _internal_diversity(_fingerprints(_valid_mols(valid)), (1, 2))
        result.IntDiv, result.IntDiv2 = diversity[1], diversity[2]
        result.SNN = snn(valid, reference)
        result.Frag = fragment_similarity(valid, reference)
        result.Scaf = scaffold_similarity(valid, reference)
        if fcd:
            result.FCD = fcd_distance(valid, reference, device=device)
    else:
        result.unique = {kk: float("nan") for kk in ks}
    return result.as_dict()


def metrics_table(runs: Mapping[str, Mapping[str, float]], digits: int | None = 3) -> pd.DataFrame:
    """One row per model from ``{name: generation_metrics(...)}``, MOSES's columns in order.

    Taught in ``notebooks/12_molecular_generation``.
    """
    table = pd.DataFrame.from_dict({name: dict(row) for name, row in runs.items()}, orient="index")
    table.index.name = "model"
    return table.round(digits) if digits is not None else table


def _pieces(smiles: str) -> list[str]:
    # imported here: the tokenizer module loads transformers, which the MOSES metrics never need
    from cpmkit.featurize.tokenizer import smiles_pieces

    return smiles_pieces(smiles)


def token_hits(output: str, target: str) -> int:
    """How many of ``target``'s SMILES tokens ``output`` has at the same position.

    Both strings are split with :func:`cpmkit.featurize.tokenizer.smiles_pieces`; positions
    past the shorter one count as misses. Divide by the target's token count for a per-molecule
    token accuracy of a free-running decoder. Taught in ``notebooks/02_autoencoding``.
    """
    return sum(a == b for a, b in zip(_pieces(output), _pieces(target)))


def token_similarity(output: str, target: str) -> float:
    r"""One minus the token edit distance over the longer length: Levenshtein on SMILES tokens.

    .. math::
        \mathrm{sim}(o, t) = 1 - \frac{\mathrm{lev}(o, t)}{\max(|o|, |t|, 1)}

    with :math:`|\cdot|` counted in :func:`cpmkit.featurize.tokenizer.smiles_pieces`. Unlike
    :func:`token_hits` it forgives one inserted or dropped token: the rest still lines up.
    1.0 for identical strings (and for two empty ones), 0.0 when nothing can be kept.
    Taught in ``notebooks/02_autoencoding``.
    """
    a, b = _pieces(output), _pieces(target)
    previous = list(range(len(b) + 1))
    for i, token in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token != other))
            )
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b), 1)


__all__ = [
    "DEFAULT_K",
    "CanonicalSmilesSet",
    "GenerationMetrics",
    "canonical_smiles",
    "canonical_training_set",
    "chemnet_activations",
    "count_cosine",
    "fcd_distance",
    "fragment_counts",
    "fragment_similarity",
    "generation_metrics",
    "internal_diversity",
    "metrics_table",
    "novelty",
    "novelty_train_set",
    "scaffold_counts",
    "scaffold_similarity",
    "snn",
    "token_hits",
    "token_similarity",
    "uniqueness",
    "validity",
]
