"""How fast does a SMILES become a Hu et al. graph, and what does the on-disk cache buy?

On the NCI 5K molecules that ship inside RDKit (4,999 SMILES; ``--n`` takes the first n, or
cycles the list for more), on one thread:

(a) bare ``Chem.MolFromSmiles``: the floor any SMILES featurizer stands on. As (b) and (c)
    keep the graphs they make, (a) keeps its molecules in a list. Throwing each molecule away
    at once can be faster (freed memory is reused while hot in cache); that rate is printed
    too, as (a'), but it is not what a loader does;
(b) ``cpmkit.featurize.featurize_smiles(smiles, "hu")``: parse + checks + Hu graph, rejects
    kept with their reasons (8 valence errors and 1 dative bond in this set);
(c) ``torch_geometric.utils.from_smiles``: PyG's SMILES -> graph (9 OGB-style features);
(d) ``cpmkit.data.dataset.MoleculeDataset("nci5k", scheme="hu")`` built in a fresh folder
    (read, parse, featurize, save), then loaded again from that cache. Without the dataset
    class it falls back to ``torch.save``/``torch.load`` of the collated graph list;
(e) ``featurize_smiles(smiles, "hu", num_workers=2)`` against ``num_workers=1`` on the same
    molecules in this run, in wall-clock seconds (the work happens in the workers, whose CPU
    time this process does not see), worker start-up included. Both give the same result.

Times (a)-(d) are CPU seconds (``time.process_time``, as the machine may be shared), the best of
``--repeats`` runs, each rate (a)-(c) measured in a fresh interpreter so that one measurement's
leftover memory does not speed up or slow down the next.
The last line printed is one JSON object: ``vs_rdkit_parse`` = rate (b) / rate (a),
``vs_pyg_from_smiles`` = rate (b) / rate (c), ``cached_reload_speedup`` = build / reload time
of (d) (targets: >= 0.7, >= 2, >= 50), ``vs_rdkit_parse_dropped`` = rate (b) / rate (a'), and
``parallel_speedup`` = wall time of (e) on 1 process / on 2 (at most ~2 on two free cores).
Where the time of (b) goes, for the average NCI molecule (16 atoms, 17 bonds): the parse; then
reading the atoms (~10 us) and the bonds (~30 us: each RDKit bond object seen from Python costs
~0.6 us and each enum-valued getter, bond type and bond direction, ~0.5 us more); then three
tensors and one ``Data`` (~20 us). That floor of the RDKit Python API, not the code around it,
keeps (b)/(a) near 0.5 (``hu_graph`` went from ~110 us to ~60 us per molecule; see its
docstring). Tests never assert timings. Run:
``python benchmarks/featurize.py [--n 5000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rdkit  # noqa: E402
import torch  # noqa: E402
import torch_geometric  # noqa: E402
from rdkit import Chem  # noqa: E402

from cpmkit.featurize import featurize_smiles, quiet_rdkit  # noqa: E402

N_NCI = 4999  # lines in RDKit's Data/NCI/first_5K.smi


def nci5k_smiles(n: int | None = None) -> list[str]:
    """The NCI SMILES in file order; ``n`` > 4,999 cycles through them again."""
    path = os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")
    with open(path) as handle:
        smiles = [line.split()[0] for line in handle if line.strip()]
    if n is None:
        return smiles
    return list(itertools.islice(itertools.cycle(smiles), n))


def best_times(fns: dict, repeats: int) -> dict:
    """Smallest CPU time of each function, taking turns, so a busy spell hits all of them."""
    times: dict = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return {name: min(values) for name, values in times.items()}


def bare_parse(smiles: list[str]) -> list:
    with quiet_rdkit():
        return [Chem.MolFromSmiles(text) for text in smiles]


def bare_parse_dropped(smiles: list[str]) -> None:
    with quiet_rdkit():
        for text in smiles:
            Chem.MolFromSmiles(text)


def pyg_from_smiles(smiles: list[str]) -> list:
    from torch_geometric.utils import from_smiles

    with quiet_rdkit():
        return [from_smiles(text) for text in smiles]


def cached_reload(n: int | None, graphs: list, repeats: int) -> tuple[str, float, float]:
    """``(what, build seconds, reload seconds)`` of the dataset cache (or the fallback)."""
    try:
        from cpmkit.data.dataset import MoleculeDataset
    except ImportError:
        MoleculeDataset = None
    with tempfile.TemporaryDirectory() as tmp:
        if MoleculeDataset is not None:
            subset = n if n is not None and n < N_NCI else None
            roots = [Path(tmp) / f"build{i}" for i in range(repeats)]

            def build() -> None:
                MoleculeDataset("nci5k", scheme="hu", root=roots.pop(), subset=subset)

            def reload() -> None:
                MoleculeDataset("nci5k", scheme="hu", root=Path(tmp) / "build0", subset=subset)

            times = best_times({"build": build}, repeats)
            times.update(best_times({"reload": reload}, repeats))
            return "MoleculeDataset('nci5k', scheme='hu')", times["build"], times["reload"]

        from torch_geometric.data import InMemoryDataset

        path = Path(tmp) / "graphs.pt"
        times = best_times({"save": lambda: torch.save(InMemoryDataset.collate(graphs), path)}, 1)
        times.update(best_times({"reload": lambda: torch.load(path, weights_only=False)}, repeats))
        return "torch.save/torch.load of the collated graphs", times["save"], times["reload"]


def parallel_times(smiles: list[str], repeats: int) -> tuple[float, float]:
    """Best wall seconds of ``featurize_smiles(.., "hu")`` on 1 and on 2 processes, taking
    turns; the two results are checked equal (rows and every graph's tensors)."""
    torch.set_num_threads(1)
    times: dict = {1: [], 2: []}
    results = {}
    for _ in range(repeats):
        for workers in (1, 2):
            start = time.perf_counter()
            results[workers] = featurize_smiles(smiles, "hu", num_workers=workers)
            times[workers].append(time.perf_counter() - start)
    one, two = results[1], results[2]
    assert one.rows.tolist() == two.rows.tolist() and one.rejects.equals(two.rejects)
    assert all(torch.equal(a.x, b.x) and torch.equal(a.edge_attr, b.edge_attr)
               for a, b in zip(one.items, two.items))  # fmt: skip
    return min(times[1]), min(times[2])


MEASURES = {
    "parse": bare_parse,
    "parse_dropped": bare_parse_dropped,
    "ours": lambda smiles: featurize_smiles(smiles, "hu"),
    "pyg": pyg_from_smiles,
}


def measure_here(name: str, n: int | None, repeats: int) -> float:
    """Best CPU seconds of one measurement, in this process."""
    smiles = nci5k_smiles(n)
    torch.set_num_threads(1)
    fn = MEASURES[name]
    fn(smiles)  # warm up: imports, first-call caches
    return best_times({name: lambda: fn(smiles)}, repeats)[name]


def measure_fresh(name: str, n: int | None, repeats: int) -> float:
    """Run :func:`measure_here` in a new interpreter: the memory one measurement leaves behind
    (5,000 molecules allocated and freed) changes the next one's speed by up to 2x."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", name]
    command += ["--repeats", str(repeats)] + ([] if n is None else ["--n", str(n)])
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=None, help="molecules (default: all 4,999)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per rate; best is kept")
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # child process of measure_fresh
        print(measure_here(args.measure, args.n, args.repeats))
        return {}
    smiles = nci5k_smiles(args.n)
    n = len(smiles)
    print(
        f"{n} NCI SMILES | Python {platform.python_version()} | RDKit {rdkit.__version__} | "
        f"torch {torch.__version__} | PyG {torch_geometric.__version__} | 1 thread, CPU time, "
        "one fresh process per rate"
    )
    times = {name: measure_fresh(name, args.n, args.repeats) for name in MEASURES}
    result = featurize_smiles(smiles, "hu")
    what, t_build, t_reload = cached_reload(args.n, result.items, args.repeats)
    t_one, t_two = parallel_times(smiles, args.repeats)
    t_ours, t_parse, t_pyg = times["ours"], times["parse"], times["pyg"]

    def rate(seconds: float) -> str:
        return f"{n / seconds:7.0f} mol/s ({seconds / n * 1e6:6.1f} us/mol)"

    reasons = result.rejects["reason"].str.split(":").str[0].str.split(";").str[0]
    counts = ", ".join(f"{count} x {reason}" for reason, count in reasons.value_counts().items())
    print(f"(a)  Chem.MolFromSmiles, kept     {rate(t_parse)}")
    print(f"(a') Chem.MolFromSmiles, dropped  {rate(times['parse_dropped'])}")
    print(f"(b)  featurize_smiles(.., 'hu')   {rate(t_ours)}")
    print(f"     kept {len(result)}, rejected {len(result.rejects)}: {counts}")
    print(f"(c)  torch_geometric from_smiles  {rate(t_pyg)}")
    print(f"(d)  {what}: build {t_build:.2f} s, cached reload {t_reload * 1e3:.1f} ms")
    print(f"(e)  featurize_smiles(.., 'hu'), wall time: 1 process {t_one:.2f} s, "
          f"2 processes {t_two:.2f} s (same result)")  # fmt: skip
    ratios = {
        "vs_rdkit_parse": round(t_parse / t_ours, 3),
        "vs_pyg_from_smiles": round(t_pyg / t_ours, 3),
        "cached_reload_speedup": round(t_build / t_reload, 1),
        "vs_rdkit_parse_dropped": round(times["parse_dropped"] / t_ours, 3),
        "parallel_speedup": round(t_one / t_two, 2),
    }
    print(
        f"(b)/(a) = {ratios['vs_rdkit_parse']:.2f} [target >= 0.7] "
        f"((b)/(a') = {times['parse_dropped'] / t_ours:.2f}); "
        f"(b)/(c) = {ratios['vs_pyg_from_smiles']:.2f} [>= 2]; "
        f"build/reload = {ratios['cached_reload_speedup']:.0f}x [>= 50] "
        f"(featurize_smiles alone / reload = {t_ours / t_reload:.0f}x); "
        f"2 processes / 1 = {ratios['parallel_speedup']:.2f}x faster"
    )
    print(json.dumps(ratios))
    return ratios


if __name__ == "__main__":
    main()
