"""The data layer: registry (the manifest), fetch (cache -> mirror -> URL), tables, datasets
with an on-disk cache, and splits. Taught in ``notebooks/00_quickstart`` and
``notebooks/11_property_prediction``.
"""

from cpmkit.data.embedded import freesolv, nci5k_smiles, solubility
from cpmkit.data.fetch import (
    DataFetchError,
    cache_dir,
    fetch_dataset,
    fetch_file,
    file_status,
    mirror_dir,
)
from cpmkit.data.registry import DatasetInfo, FileEntry, get_dataset_info, list_datasets
from cpmkit.data.splits import (
    Split,
    make_split,
    random_scaffold_split,
    random_split,
    scaffold_split,
)
from cpmkit.data.tables import MoleculeTable, read_molecules


def __getattr__(name):
    # MoleculeDataset pulls in torch_geometric (seconds); `cpmkit datasets` should not wait
    if name == "MoleculeDataset":
        from cpmkit.data.dataset import MoleculeDataset

        return MoleculeDataset
    raise AttributeError(f"module 'cpmkit.data' has no attribute {name!r}")


__all__ = [
    "DataFetchError",
    "DatasetInfo",
    "FileEntry",
    "MoleculeDataset",
    "MoleculeTable",
    "Split",
    "cache_dir",
    "fetch_dataset",
    "fetch_file",
    "file_status",
    "freesolv",
    "get_dataset_info",
    "list_datasets",
    "make_split",
    "mirror_dir",
    "nci5k_smiles",
    "random_scaffold_split",
    "random_split",
    "read_molecules",
    "scaffold_split",
    "solubility",
]
