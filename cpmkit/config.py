"""Plain dataclass configs that save as JSON and refuse what they do not know.

Every config of the kit (``GNNConfig``, ``TransformerSize`` and the model configs built on it,
``PretrainConfig``, ``FinetuneConfig``) is a dataclass with this mixin: ``to_dict()`` gives
plain JSON, and ``from_dict`` builds it back and raises on a key that is not a field, so a typo
in a parameter fails loudly instead of being ignored. ``strict=False`` takes the fields out of a
larger dict (a lesson's whole resolved profile). Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any


class ConfigDict:
    """Mixin for dataclass configs: ``to_dict()`` and a strict ``from_dict()``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (tuples become lists, as JSON would make them)."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self).items()}  # fmt: skip

    @classmethod
    def field_names(cls) -> set[str]:
        """The names this config knows."""
        return {f.name for f in fields(cls)}

    @classmethod
    def from_dict(cls, values: dict[str, Any], strict: bool = True):
        """Build from a dict; an unknown key raises ``TypeError`` unless ``strict=False``."""
        names = cls.field_names()
        unknown = set(values) - names
        if unknown and strict:
            raise TypeError(
                f"unknown {cls.__name__} keys: {sorted(unknown)}; known: {sorted(names)} "
                "(pass strict=False to take the known ones out of a larger dict)"
            )
        return cls(**{key: value for key, value in values.items() if key in names})


__all__ = ["ConfigDict"]
