"""The size of a small Transformer, shared by the kit's HF model families (ChemBERTa, SMILES
Transformer, MolGPT): one dataclass, so a config is saved and rebuilt the same way for each.
Taught in ``notebooks/04_masked_components`` and ``notebooks/02_autoencoding``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpmkit.config import ConfigDict


@dataclass
class TransformerSize(ConfigDict):
    """Layers, width, heads, feed-forward width (None = 4 x width), positions and dropout.

    ``to_dict``/``from_dict`` come from :class:`cpmkit.config.ConfigDict` (an unknown key
    raises).
    """

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int | None = None
    max_length: int = 128
    dropout: float = 0.1


__all__ = ["TransformerSize"]
