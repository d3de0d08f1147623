"""The ``cpmkit`` command line: argument parsing only, each command calls one library function.

::

    cpmkit datasets                                   # the registry, with where each file is
    cpmkit fetch bbbp                                 # cache <- mirror <- URL, sha256-checked
    cpmkit featurize mols.csv --smiles-col smiles --scheme hu --out feats --num-workers 2
    cpmkit run 00_quickstart --profile ci -p num_epochs 2
    cpmkit report reproductions/runs/teach

``python -m cpmkit ...`` works the same. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cpmkit.profiles import PROFILES, default_profile

# copies of cpmkit.featurize's tuples, so that `cpmkit --help` does not import torch
SCHEMES = ("hu", "ogb", "ecfp", "maccs", "3d", "hu3d")
FINGERPRINT_SCHEMES = ("ecfp", "maccs")


class CommandError(Exception):
    """A problem with the user's input, reported as one clear line (no traceback)."""


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
    from cpmkit.data.features_file import featurize_csv

    try:
        result = featurize_csv(args.input, args.scheme, args.out, smiles_col=args.smiles_col,
                               num_workers=args.num_workers)  # fmt: skip
    except KeyError as err:  # a missing column is the user's input, like a missing file
        raise CommandError(err.args[0] if err.args else str(err)) from None
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
    print(
        f"{record.notebook}: {record.status} in {record.runtime_s:.0f} s -> {record.output_path}"
    )
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
    p.add_argument(
        "--smiles-col", default=None, help="column holding SMILES (default: guess smiles/smi/mol)"
    )
    p.add_argument("--scheme", required=True, choices=SCHEMES, help="featurizer")
    p.add_argument(
        "--out", required=True, help="output path; .pt is added for graphs, .npz for fingerprints"
    )
    p.add_argument(
        "--num-workers",
        type=int,
        default=1,
        metavar="N",
        help="processes to featurize on (same output as one; default 1)",
    )
    p.set_defaults(func=cmd_featurize)

    p = sub.add_parser("run", help="execute lesson notebooks with papermill")
    p.add_argument(
        "notebooks",
        nargs="*",
        metavar="NOTEBOOK",
        help="paths or names such as 00_quickstart (default: all)",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="run size (default: $CPMKIT_PROFILE, else teach)",
    )
    p.add_argument(
        "--out", default=None, help="run folder (default: reproductions/runs/<profile>)"
    )
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("KEY", "VALUE"),
        help="inject a parameter (Python literal, else text); repeatable",
    )
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("reproduce", help="run a reproduction spec (reproductions/*.yml)")
    p.add_argument("spec", metavar="SPEC", help="e.g. reproductions/hu2020_table2.yml")
    p.add_argument(
        "--scale",
        default="teach",
        help="which scale of the spec: teach (committed CPU scale) or paper",
    )
    p.add_argument("--out", default=None, help="default: reproductions/<name>/<scale>")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("lessons", help="the lesson table, made from the notebooks' headers")
    p.add_argument(
        "--update",
        metavar="README",
        default=None,
        help="rewrite the table between the markers of this file",
    )
    p.set_defaults(func=cmd_lessons)

    p = sub.add_parser("report", help="write SUMMARY.md for a run folder")
    p.add_argument(
        "run_dir",
        nargs="?",
        default=None,
        metavar="RUN_DIR",
        help="default: reproductions/runs/<profile>",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="which default run folder (default: $CPMKIT_PROFILE, else teach)",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("site", help="build the course site from the executed teach copies")
    p.add_argument("--out", default=None, help="site folder (default: build/site)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on a missing or stale lesson copy and on Sphinx warnings",
    )
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
