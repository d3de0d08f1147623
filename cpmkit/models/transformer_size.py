"""The size of a small Transformer, shared by the kit's HF model families (ChemBERTa, SMILES
Transformer): one dataclass, so a config is saved and rebuilt the same way for each.
Taught in ``notebooks/04_masked_components`` and ``notebooks/02_autoencoding``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class TransformerSize:
    """Layers, width, heads, feed-forward width (None = 4 x width), positions and dropout."""

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int | None = None
    max_length: int = 128
    dropout: float = 0.1

    def to_dict(self) -> dict:
        """Plain JSON-compatible dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        """Build from a dict, ignoring keys that are not fields."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


__all__ = ["TransformerSize"]
