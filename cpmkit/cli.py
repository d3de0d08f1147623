"""The ``cpmkit`` command line: argument parsing only, each command calls one library function.

::

    cpmkit datasets                                   # the registry, with where each file is
    cpmkit fetch bbbp                                 # cache <- mirror <- URL, sha256-checked
    cpmkit featurize mols.csv --smiles-col smiles --scheme hu --out feats
    cpmkit run 00_quickstart --profile ci -p num_epochs 2
    cpmkit report reproductions/runs/teach

``python -m cpmkit ...`` works the same. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cpmkit.profiles import PROFILES, default_profile

SCHEMES = ("hu", "ogb", "ecfp", "maccs", "3d")
FINGERPRINT_SCHEMES = ("ecfp", "maccs")
FEATURES_FORMAT = "cpmkit.features/1"


class CommandError(Exception):
    """A problem with the user's input, reported as one clear line (no traceback)."""


# --------------------------------------------------------------------------------------------
# featurize: a CSV in, a feature file and a rejects CSV out
# --------------------------------------------------------------------------------------------
@dataclass
class FeaturizeFileResult:
    """What :func:`featurize_csv` wrote: ``n_read == n_kept + n_rejected``."""

    n_read: int
    n_kept: int
    n_rejected: int
    features_path: Path
    rejects_path: Path


def _feature_path(out: str | os.PathLike, scheme: str) -> Path:
    suffix = ".npz" if scheme in FINGERPRINT_SCHEMES else ".pt"
    out = Path(out)
    if out.suffix == suffix:
        return out
    if out.suffix in (".pt", ".npz", ".npy", ".csv"):
        raise CommandError(
            f"scheme {scheme!r} writes a {suffix} file; use --out {out.stem}{suffix}"
        )
    return out.with_name(out.name + suffix)


def _read_input(source: str, smiles_col: str | None) -> tuple[list[Any], str]:
    from cpmkit.data.tables import load_frame

    if not Path(source).is_file() and ("/" in source or "." in source):
        raise CommandError(f"input file not found: {source}")
    try:
        frame, col, _, _ = load_frame(source, smiles_col=smiles_col)
    except FileNotFoundError as err:
        raise CommandError(str(err)) from None
    except (KeyError, ValueError) as err:  # no SMILES column could be guessed, unknown dataset
        raise CommandError(err.args[0] if err.args else str(err)) from None
    if col not in frame.columns:
        raise CommandError(
            f"{source} has no column {col!r}; its columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    return frame[col].tolist(), col


def _save_graphs(path: Path, items: list, rows: np.ndarray, smiles: list, meta: dict) -> None:
    import torch
    from torch_geometric.data import InMemoryDataset

    for item, row in zip(items, rows):
        if "row" not in item:  # so that graph i of the saved set still names its source row
            item.row = torch.tensor([int(row)])
    data, slices = (InMemoryDataset.collate(items) if items else (None, None))
    # plain tensors, strings and dicts only: loads with torch.load(weights_only=True)
    torch.save(
        {
            **meta,
            "rows": torch.as_tensor(rows, dtype=torch.long),
            "smiles": list(smiles),
            "data": data.to_dict() if data is not None else {},
            "slices": dict(slices) if slices is not None else {},
        },
        path,
    )


def _save_fingerprints(
    path: Path, items: list, rows: np.ndarray, smiles: list, meta: dict
) -> None:
    X = np.stack([np.asarray(x) for x in items]) if items else np.zeros((0, 0), dtype=np.uint8)
    np.savez_compressed(
        path,
        X=X,
        rows=np.asarray(rows, dtype=np.int64),
        smiles=np.asarray(smiles, dtype=str),
        **{k: np.asarray(v) for k, v in meta.items()},
    )


def featurize_csv(
    source: str,
    scheme: str,
    out: str | os.PathLike,
    smiles_col: str | None = None,
) -> FeaturizeFileResult:
    """Featurize a CSV's SMILES column into ``OUT.pt`` (graphs) or ``OUT.npz`` (fingerprints).

    Graph schemes (``hu``, ``ogb``, ``3d``) are saved as a PyG collate (``data`` dict +
    ``slices``) with the kept ``rows`` and ``smiles``; fingerprints as ``X`` (N, bits) with
    ``rows`` and ``smiles``. Rejected rows go to ``<OUT>.rejects.csv`` (row, smiles, reason).
    Read them back with :func:`load_features`.

    Used by ``cpmkit featurize``; taught in ``notebooks/00_quickstart``.
    """
    if scheme not in SCHEMES:
        raise CommandError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    features_path = _feature_path(out, scheme)
    smiles, _ = _read_input(source, smiles_col)  # input problems first, before heavy imports

    from cpmkit.featurize import featurize_smiles, scheme_version

    result = featurize_smiles(smiles, scheme)
    rows = np.asarray(result.rows, dtype=np.int64)
    kept_smiles = ["" if smiles[r] is None else str(smiles[r]) for r in rows]
    meta = {"format": FEATURES_FORMAT, "scheme": scheme, "version": scheme_version(scheme),
            "n_read": int(result.n_read), "source": str(source)}
    features_path.parent.mkdir(parents=True, exist_ok=True)
    save = _save_fingerprints if scheme in FINGERPRINT_SCHEMES else _save_graphs
    save(features_path, list(result.items), rows, kept_smiles, meta)
    rejects_path = features_path.with_name(features_path.stem + ".rejects.csv")
    rejects = result.rejects.reindex(columns=["row", "smiles", "reason"])
    rejects.to_csv(rejects_path, index=False)
    return FeaturizeFileResult(
        n_read=int(result.n_read),
        n_kept=len(rows),
        n_rejected=len(rejects),
        features_path=features_path,
        rejects_path=rejects_path,
    )


def load_features(path: str | os.PathLike):
    """Read a file written by :func:`featurize_csv`.

    Returns a PyG ``InMemoryDataset`` for a ``.pt`` file (graph ``i`` has ``.row``, its
    source row) and a dict with ``X``, ``rows``, ``smiles``, ``scheme`` for a ``.npz`` file.
    """
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return {k: (npz[k].item() if npz[k].ndim == 0 else npz[k]) for k in npz.files}
    import torch
    from torch_geometric.data import Data, InMemoryDataset

    saved = torch.load(path, weights_only=True)
    dataset = InMemoryDataset()
    if saved["data"]:
        dataset._data = Data.from_dict(saved["data"])
        dataset.slices = saved["slices"]
    dataset.rows = saved["rows"]
    dataset.smiles_list = saved["smiles"]
    dataset.scheme = saved["scheme"]
    return dataset


# --------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------
def _dataset_status(info) -> str:
    from cpmkit.data.fetch import file_status

    if not info.files:
        return "embedded"
    statuses = {file_status(entry) for entry in info.files}
    for status in ("download", "mirror"):  # the worst file decides
        if status in statuses:
            return status
    return "cached"


def _dataset_rows(info) -> str:
    try:
        rows = info.main_file.rows
    except (ValueError, KeyError):
        rows = (info.extra or {}).get("rows")
    return "" if rows is None else str(rows)


def cmd_datasets(args: argparse.Namespace) -> int:
    from cpmkit.data.registry import list_datasets

    rows = [
        [info.name, info.task_type, _dataset_rows(info), info.metric or "", _dataset_status(info)]
        for info in list_datasets()
    ]
    print(_text_table(["name", "task", "rows", "metric", "status"], rows, right={"rows"}))
    return 0


def _text_table(header: list[str], rows: list[list[str]], right: set[str] = frozenset()) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = []
    for row in [header, *rows]:
        cells = [
            str(x).rjust(w) if name in right else str(x).ljust(w)
            for name, x, w in zip(header, row, widths)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def cmd_fetch(args: argparse.Namespace) -> int:
    from cpmkit.data.fetch import fetch_dataset
    from cpmkit.data.registry import get_dataset_info

    for name in args.names:
        info = get_dataset_info(name)
        paths = fetch_dataset(name)
        if not paths:
            print(f"{name}: nothing to fetch (embedded: {info.embedded})")
        for path in paths:
            print(f"{name}: {path}")
    return 0


def cmd_featurize(args: argparse.Namespace) -> int:
    result = featurize_csv(args.input, args.scheme, args.out, smiles_col=args.smiles_col)
    print(f"read {result.n_read} / kept {result.n_kept} / rejected {result.n_rejected}")
    print(f"features: {result.features_path}")
    print(f"rejects:  {result.rejects_path}")
    return 0


def _literal(text: str) -> Any:
    """``"3"`` -> 3, ``"1e-3"`` -> 0.001, ``"True"``/``"None"``, ``"[1, 2]"``; else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def cmd_run(args: argparse.Namespace) -> int:
    from cpmkit.run import run_notebooks

    parameters = {key: _literal(value) for key, value in (args.param or [])}
    records = run_notebooks(
        args.notebooks or None,
        profile=args.profile or default_profile(),
        out_dir=args.out,
        parameters=parameters,
        timeout=args.timeout,
        progress=not args.quiet,
    )
    failed = [r for r in records if r.status != "ok"]
    summary = _run_dir(args.out, args.profile) / "SUMMARY.md"
    print(f"{len(records) - len(failed)} ok, {len(failed)} failed; summary: {summary}")
    return 1 if failed else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from cpmkit.reproduce import reproduce

    record = reproduce(args.spec, scale=args.scale, out_dir=args.out, progress=not args.quiet)
    print(f"{record.notebook}: {record.status} in {record.runtime_s:.0f} s -> {record.output_path}")
    return 0 if record.status == "ok" else 1


def cmd_lessons(args: argparse.Namespace) -> int:
    from cpmkit.lessons import lesson_table, update_readme

    if args.update:
        changed = update_readme(args.update)
        print(f"{args.update}: {'updated' if changed else 'already current'}")
    else:
        print(lesson_table(), end="")
    return 0


def _run_dir(given: str | None, profile: str | None) -> Path:
    from cpmkit.run import default_run_dir

    return Path(given) if given else default_run_dir(profile or default_profile())


def cmd_report(args: argparse.Namespace) -> int:
    from cpmkit.report import write_summary

    path = write_summary(_run_dir(args.run_dir, args.profile))
    print(path.read_text(encoding="utf-8"), end="")
    print(f"\n(written to {path})")
    return 0


def cmd_site(args: argparse.Namespace) -> int:
    from cpmkit.site import build_site

    index, warnings = build_site(out=args.out, strict=args.strict, quiet=not args.verbose)
    print(f"site: {index} ({len(warnings)} warning(s)); open it in a browser")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cpmkit",
        formatter_class=lambda prog: argparse.HelpFormatter(prog, max_help_position=32),
        description="Teaching kit for chemical pre-trained models: data, features, lessons.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("datasets", help="list the dataset registry and where each file is")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("fetch", help="fetch a dataset's files into the cache")
    p.add_argument("names", nargs="+", metavar="NAME", help="dataset name(s), e.g. bbbp")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("featurize", help="featurize a CSV's SMILES column to a file")
    p.add_argument("input", metavar="INPUT", help="a CSV/TSV file (or a registry dataset name)")
    p.add_argument("--smiles-col", default=None,
                   help="column holding SMILES (default: guess smiles/smi/mol)")
    p.add_argument("--scheme", required=True, choices=SCHEMES, help="featurizer")
    p.add_argument("--out", required=True,
                   help="output path; .pt is added for graphs, .npz for fingerprints")
    p.set_defaults(func=cmd_featurize)

    p = sub.add_parser("run", help="execute lesson notebooks with papermill")
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                   help="paths or names such as 00_quickstart (default: all)")
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="run size (default: $CPMKIT_PROFILE, else teach)")
    p.add_argument("--out", default=None,
                   help="run folder (default: reproductions/runs/<profile>)")
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"),
                   help="inject a parameter (Python literal, else text); repeatable")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("reproduce", help="run a reproduction spec (reproductions/*.yml)")
    p.add_argument("spec", metavar="SPEC", help="e.g. reproductions/hu2020_table2.yml")
    p.add_argument("--scale", default="teach",
                   help="which scale of the spec: teach (committed CPU scale) or paper")
    p.add_argument("--out", default=None, help="default: reproductions/<name>/<scale>")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("lessons", help="the lesson table, made from the notebooks' headers")
    p.add_argument("--update", metavar="README", default=None,
                   help="rewrite the table between the markers of this file")
    p.set_defaults(func=cmd_lessons)

    p = sub.add_parser("report", help="write SUMMARY.md for a run folder")
    p.add_argument("run_dir", nargs="?", default=None, metavar="RUN_DIR",
                   help="default: reproductions/runs/<profile>")
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="which default run folder (default: $CPMKIT_PROFILE, else teach)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("site", help="build the course site from the executed teach copies")
    p.add_argument("--out", default=None, help="site folder (default: build/site)")
    p.add_argument("--strict", action="store_true",
                   help="fail on a missing or stale lesson copy and on Sphinx warnings")
    p.add_argument("-v", "--verbose", action="store_true", help="show Sphinx's progress")
    p.set_defaults(func=cmd_site)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cpmkit`` script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CommandError, OSError, KeyError, ValueError, RuntimeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"cpmkit {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(err, CommandError | OSError) else 1


if __name__ == "__main__":
    raise SystemExit(main())
