"""Three run sizes for every lesson: ``ci`` (seconds), ``teach`` (minutes on a laptop), ``paper``.

A notebook keeps a small table of settings per profile, and its ``parameters`` cell holds
``profile = None`` plus one ``None`` per override. :func:`resolve` turns those into a
:class:`Config`, the one object the rest of the notebook reads and saves with its results::

    TABLE = {
        "ci":    {"num_epochs": 1,   "num_seeds": 1},
        "teach": {"num_epochs": 20,  "num_seeds": 3},
        "paper": {"num_epochs": 100, "num_seeds": 10},
    }
    config = resolve(profile, TABLE, num_epochs=num_epochs)
    config  # prints one line per setting; overrides are marked

``profile = None`` means "take ``$CPMKIT_PROFILE``, else ``teach``": nbval cannot inject
parameters, so the test run sets the variable to ``ci`` instead. Overrides fail loudly when
their name or type is wrong, because a silently ignored ``num_epoch=5`` wastes an afternoon.

Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
from collections.abc import Iterator, Mapping
from typing import Any

PROFILES = ("ci", "teach", "paper")
DEFAULT_PROFILE = "teach"
PROFILE_ENV = "CPMKIT_PROFILE"


class UnknownSettingError(KeyError, TypeError):
    """An override names a setting that the profile table does not have.

    It is a ``KeyError`` (a missing key) and a ``TypeError`` (like an unexpected keyword
    argument), so either ``except`` clause catches it.
    """

    def __str__(self) -> str:  # KeyError would print the message inside quotes
        return str(self.args[0]) if self.args else ""


def default_profile() -> str:
    """The profile used when a notebook says ``profile = None``: ``$CPMKIT_PROFILE``, else teach.

    Taught in ``notebooks/00_quickstart``.
    """
    return _check_profile(os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE, source=f"${PROFILE_ENV}")


def _check_profile(profile: Any, source: str = "profile") -> str:
    if profile not in PROFILES:
        raise ValueError(
            f"unknown profile {profile!r} (from {source}); choose one of {', '.join(PROFILES)}"
        )
    return profile


class Config(Mapping):
    """Resolved settings of one run: read them as ``config.lr`` or ``config["lr"]``.

    The object is read-only so that what the notebook used is what it saves; derive a changed
    copy with :meth:`replace`. ``profile`` says which column of the table it came from and
    ``overridden`` which settings the parameters cell changed.

    Taught in ``notebooks/00_quickstart``.
    """

    __slots__ = ("_values", "_profile", "_overridden", "_profile_source", "_table")

    def __init__(
        self,
        values: Mapping[str, Any],
        profile: str,
        overridden: frozenset[str] = frozenset(),
        profile_source: str = "argument",
        table: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_profile", profile)
        object.__setattr__(self, "_overridden", frozenset(overridden))
        object.__setattr__(self, "_profile_source", profile_source)
        object.__setattr__(self, "_table", table)

    # --- mapping and attribute access -------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails, i.e. for the settings themselves
        values = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(
                f"config has no setting {name!r}; settings: {', '.join(values)}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"Config is read-only; use config.replace({name}=...) or an override in the "
            "parameters cell"
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._profile == other._profile and self._values == other._values
        return NotImplemented

    __hash__ = None  # mutable-looking mapping semantics; never used as a dict key

    # --- metadata ---------------------------------------------------------------------------
    @property
    def profile(self) -> str:
        """Which profile (``ci``, ``teach`` or ``paper``) the settings came from."""
        return self._profile

    @property
    def overridden(self) -> frozenset[str]:
        """Names of the settings that an override changed from the profile's value."""
        return self._overridden

    # --- conversions ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy: ``{"profile": ..., <setting>: <value>, ...}``.

        Tuples become lists, as they would after a JSON round trip.
        """
        out: dict[str, Any] = {"profile": self._profile}
        out.update({k: _jsonable(v) for k, v in self._values.items()})
        json.dumps(out)  # fail here, naming nothing vague, rather than when results are saved
        return out

    def to_dataclass(self, cls: type, **extra: Any) -> Any:
        """Build a dataclass (e.g. ``FinetuneConfig``) from the settings whose names it has.

        Settings the dataclass does not know are skipped; ``extra`` fills or overrides fields.
        """
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls!r} is not a dataclass")
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        kwargs = {k: v for k, v in self._values.items() if k in names}
        kwargs.update(extra)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed, checked like overrides of :func:`resolve`."""
        if self._table is None:
            checked = {k: v for k, v in changes.items() if v is not None}
        else:
            checked = _check_overrides(self._table, changes)
        values = {**self._values, **checked}
        overridden = {
            k for k in self._overridden | set(checked) if values[k] != self._base_value(k)
        }
        return Config(
            values, self._profile, frozenset(overridden), self._profile_source, self._table
        )

    def _base_value(self, key: str) -> Any:
        if self._table is None:
            return self._values.get(key)
        return self._table[self._profile][key]

    # --- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        width = max((len(k) for k in self._values), default=0)
        shown = {k: repr(v) for k, v in self._values.items()}
        value_width = max((len(v) for v in shown.values()), default=0)
        lines = [f"Config(profile={self._profile!r})  # from {self._profile_source}"]
        for key, text in shown.items():
            line = f"  {key:<{width}} = {text}"
            if key in self._overridden:
                base = self._base_value(key)
                line = f"{line:<{width + value_width + 5}}"
                line += f"  # overridden ({self._profile}: {base!r})"
            lines.append(line)
        return "\n".join(lines)

    def show(self) -> None:
        """Print the resolved settings, one per line, marking overridden ones."""
        print(repr(self))

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display of a bare `config`
        printer.text(repr(self))


# names a setting cannot take, because `config.<name>` already means something
_RESERVED = {name for name in dir(Config) if not name.startswith("_")}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _type_name(kind: type) -> str:
    return {
        bool: "bool",
        int: "int",
        float: "float (or int)",
        str: "str",
        list: "list (or tuple)",
        dict: "dict",
    }.get(kind, kind.__name__)


def _kind(value: Any) -> type:
    """The coarse type of a table value that overrides must match."""
    if isinstance(value, bool):
        return bool
    if isinstance(value, numbers.Integral):
        return int
    if isinstance(value, numbers.Real):
        return float
    if isinstance(value, list | tuple):
        return list
    if isinstance(value, Mapping):
        return dict
    return type(value)


def _expected_kinds(table: Mapping[str, Mapping[str, Any]], key: str) -> list[type]:
    """Kinds an override of ``key`` may have: the teach value's, else any non-None value's."""
    teach = table.get(DEFAULT_PROFILE, {}).get(key)
    if teach is not None:
        return [_kind(teach)]
    kinds: list[type] = []
    for profile in PROFILES:
        value = table.get(profile, {}).get(key)
        if value is not None and _kind(value) not in kinds:
            kinds.append(_kind(value))
    return kinds  # empty: None everywhere, so any value is accepted


def _coerce(key: str, value: Any, kinds: list[type]) -> Any:
    if not kinds:
        return value
    got = _kind(value)
    for kind in kinds:
        if got is kind:
            return int(value) if kind is int else value
        if kind is float and got is int:  # `lr = 1` where 1e-3 was expected is fine
            return float(value)
    expected = " or ".join(_type_name(k) for k in kinds)
    raise TypeError(
        f"override {key}={value!r} has type {type(value).__name__}; expected {expected}"
    )


def _check_table(table: Mapping[str, Mapping[str, Any]]) -> None:
    if not isinstance(table, Mapping):
        raise TypeError(f"the profile table must be a dict of profile -> settings, got {table!r}")
    missing = [p for p in PROFILES if p not in table]
    extra = [p for p in table if p not in PROFILES]
    if missing or extra:
        raise ValueError(
            f"the profile table must have exactly the profiles {', '.join(PROFILES)}; "
            f"missing: {missing or 'none'}, unknown: {extra or 'none'}"
        )
    keys = list(table[DEFAULT_PROFILE])
    reserved = sorted(set(keys) & _RESERVED)
    if reserved:
        raise ValueError(
            f"setting name(s) {', '.join(reserved)} clash with Config's own attributes; rename"
        )
    for profile in PROFILES:
        if set(table[profile]) != set(keys):
            diff = sorted(set(keys) ^ set(table[profile]))
            raise ValueError(
                f"profile {profile!r} and 'teach' must list the same settings; differ in: "
                f"{', '.join(diff)}"
            )


def _check_overrides(
    table: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    valid = list(table[DEFAULT_PROFILE])
    checked: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in valid:
            raise UnknownSettingError(
                f"unknown setting {key!r}; valid settings: {', '.join(valid)}"
            )
        if value is None:  # the parameters cell's default: "not set"
            continue
        value = _coerce(key, value, _expected_kinds(table, key))
        template = table[DEFAULT_PROFILE][key]
        if isinstance(value, list | tuple) and isinstance(template, list | tuple):
            value = type(template)(value)  # keep the table's own sequence type
        checked[key] = value
    return checked


def resolve(
    profile: str | None, table: Mapping[str, Mapping[str, Any]], **overrides: Any
) -> Config:
    """Pick one profile's settings from ``table`` and apply the notebook's overrides.

    Parameters
    ----------
    profile
        ``"ci"``, ``"teach"``, ``"paper"``, or ``None`` for ``$CPMKIT_PROFILE`` (else teach).
    table
        ``{profile: {setting: literal}}`` with the same settings under each profile.
    **overrides
        ``setting=value`` pairs from the parameters cell; a ``None`` value means "not set".
        The type must match the teach value (an ``int`` is fine where a ``float`` is
        expected; a list or a tuple where either is).

    Returns
    -------
    Config
        Read-only settings with ``.profile``, ``.overridden``, ``.to_dict()``.

    Raises
    ------
    ValueError
        unknown profile (the message lists the three).
    UnknownSettingError
        (a ``KeyError`` and ``TypeError``) an override names no setting; lists the valid ones.
    TypeError
        an override has the wrong type; names the key, the expected and the given type.

    Taught in ``notebooks/00_quickstart``.
    """
    if profile is None:
        env = os.environ.get(PROFILE_ENV)
        source = f"${PROFILE_ENV}" if env else "the default"
        profile = _check_profile(env or DEFAULT_PROFILE, source)
    else:
        source = "the parameters cell"
        profile = _check_profile(profile)
    _check_table(table)
    checked = _check_overrides(table, overrides)
    values = {key: table[profile][key] for key in table[DEFAULT_PROFILE]}
    overridden = {k for k, v in checked.items() if v != values[k]}
    values.update(checked)
    return Config(values, profile, frozenset(overridden), source, table)


__all__ = [
    "PROFILES",
    "Config",
    "UnknownSettingError",
    "default_profile",
    "resolve",
]
