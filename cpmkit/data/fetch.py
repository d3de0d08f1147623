"""Get a registry file onto local disk: cache, else mirror folder, else the canonical URL.

Every byte that reaches the cache is checked against the registry's sha256 first, and is
written to a temporary file in the cache folder that is renamed into place only once it is
complete and verified, so an interrupted copy or download never leaves a half file that a later
run trusts (the trap of ``download_url`` in PyG). A cached file with the wrong hash is removed
and fetched again once; a source that still gives the wrong bytes is refused. Taught in
``notebooks/00_quickstart``.

Environment variables:

* ``CPMKIT_CACHE``: the cache folder (default ``<checkout>/data/cache`` inside a git checkout of
  the kit, else ``~/.cache/cpmkit``).
* ``CPMKIT_DATA_MIRROR``: a folder laid out like the registry paths (``moleculenet/bbbp.csv``);
  files are copied from it, never downloaded. Set it on an offline machine.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
import warnings
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from cpmkit.atomic import atomic_path
from cpmkit.data.registry import FileEntry, get_dataset_info

CACHE_ENV = "CPMKIT_CACHE"
MIRROR_ENV = "CPMKIT_DATA_MIRROR"
DOWNLOAD_TIMEOUT_S = 60
CHUNK = 1 << 20


class DataFetchError(RuntimeError):
    """A file could not be found, copied or downloaded with the expected sha256."""


def cache_dir() -> Path:
    """The local cache folder: ``$CPMKIT_CACHE``, else ``data/cache`` in a checkout, else
    ``~/.cache/cpmkit`` (it may not exist yet). Taught in ``notebooks/00_quickstart``."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    root = Path(__file__).resolve().parents[2]
    # an editable install or a plain checkout keeps data beside the code, as the README says
    if (root / "pyproject.toml").is_file() and (root / "cpmkit" / "__init__.py").is_file():
        return root / "data" / "cache"
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or "~/.cache"
    return Path(base).expanduser() / "cpmkit"


def mirror_dir() -> Path | None:
    """``$CPMKIT_DATA_MIRROR`` as a path, or ``None`` when it is unset or empty."""
    env = os.environ.get(MIRROR_ENV, "").strip()
    return Path(env).expanduser() if env else None


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's stored bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_gunzip(path: Path) -> str | None:
    """The sha256 of a gzip file's content, or None when it is not valid gzip."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def verify_file(path: Path, entry: FileEntry) -> tuple[bool, str]:
    """Whether ``path`` holds ``entry``'s data, and the sha256 of its stored bytes.

    The stored bytes must match ``entry.sha256``, or, for a ``.gz`` entry, the decompressed
    content must match ``entry.sha256_uncompressed`` (a download recompressed here, or served
    gzipped differently upstream, holds the same data in different bytes).
    Taught in ``notebooks/00_quickstart``.
    """
    actual = sha256_file(path)
    if actual == entry.sha256:
        return True, actual
    if entry.compressed and entry.sha256_uncompressed != entry.sha256:
        if _sha256_gunzip(path) == entry.sha256_uncompressed:
            return True, actual
    return False, actual


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _write_verified(chunks: Iterable[bytes], target: Path, entry: FileEntry, source: str) -> Path:
    """Stream ``chunks`` into a temporary file beside ``target``, verify, then rename.

    When a ``.gz`` entry arrives uncompressed (MOSES upstream serves plain CSV) and its content
    hash matches, it is gzipped here so the cache path keeps its meaning.
    """
    # the kit's one atomic write: a refused or interrupted file never reaches the cache path
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        ok, actual = verify_file(tmp, entry)
        if not ok and entry.compressed and not _is_gzip(tmp):
            if sha256_file(tmp) == entry.sha256_uncompressed:
                packed = tmp.with_suffix(".gz.part")
                try:
                    with open(tmp, "rb") as src, gzip.open(packed, "wb") as dst:
                        shutil.copyfileobj(src, dst, CHUNK)
                    os.replace(packed, tmp)
                finally:
                    packed.unlink(missing_ok=True)
                ok = True
        if not ok:
            raise DataFetchError(
                f"refusing {entry.path} from {source}: its sha256 is {actual}, but the registry "
                f"expects {entry.sha256} (content sha256 {entry.sha256_uncompressed}). Nothing "
                f"was kept in the cache. If {source} is a damaged or outdated copy, replace it, "
                f"or point {MIRROR_ENV} at a good mirror; the canonical URL is {entry.url}"
            )
    return target


def _read_chunks(handle) -> Iterator[bytes]:
    yield from iter(lambda: handle.read(CHUNK), b"")


def _copy_from_mirror(src: Path, target: Path, entry: FileEntry) -> Path:
    with open(src, "rb") as handle:
        return _write_verified(_read_chunks(handle), target, entry, f"the mirror file {src}")


def _download(target: Path, entry: FileEntry, why_not_mirror: str) -> Path:
    request = urllib.request.Request(entry.url, headers={"User-Agent": "cpmkit"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            return _write_verified(_read_chunks(response), target, entry, entry.url)
    except DataFetchError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise DataFetchError(
            f"could not fetch {entry.path}: it is not in the cache ({target}), {why_not_mirror}, "
            f"and downloading {entry.url} failed ({err}). On an offline machine, set "
            f"{MIRROR_ENV} to a folder holding a copy of the data mirror (with {entry.path} "
            "inside it)."
        ) from err


def _fetch_from_source(entry: FileEntry, target: Path) -> Path:
    mirror = mirror_dir()
    if mirror is None:
        why = f"{MIRROR_ENV} is not set"
    elif not mirror.is_dir():
        why = f"{MIRROR_ENV}={mirror} is not a folder"
    elif not (mirror / entry.path).is_file():
        why = f"the mirror {MIRROR_ENV}={mirror} has no {entry.path}"
    else:
        return _copy_from_mirror(mirror / entry.path, target, entry)
    return _download(target, entry, why)


def fetch_file(entry: FileEntry) -> Path:
    """A verified local path for ``entry``: from the cache, else copied from
    ``$CPMKIT_DATA_MIRROR``, else downloaded from ``entry.url``.

    Raises :class:`DataFetchError` naming the file, the URL and ``CPMKIT_DATA_MIRROR`` when no
    source gives the expected bytes. ``.gz`` files stay compressed; pandas reads them as they
    are. Taught in ``notebooks/00_quickstart``.
    """
    target = cache_dir() / entry.path
    if target.is_file():
        ok, actual = verify_file(target, entry)
        if ok:
            return target
        warnings.warn(
            f"cached {target} has sha256 {actual}, expected {entry.sha256}: removing it and "
            "fetching it again",
            stacklevel=2,
        )
        target.unlink()
    return _fetch_from_source(entry, target)


def file_status(entry: FileEntry) -> str:
    """Where ``fetch_file`` would take ``entry`` from now: ``"cached"`` (verified copy in the
    cache), ``"mirror"`` (in ``$CPMKIT_DATA_MIRROR``) or ``"download"``."""
    target = cache_dir() / entry.path
    if target.is_file() and verify_file(target, entry)[0]:
        return "cached"
    mirror = mirror_dir()
    if mirror is not None and (mirror / entry.path).is_file():
        return "mirror"
    return "download"


def fetch_dataset(name: str) -> list[Path]:
    """Fetch every file of dataset ``name``; an embedded dataset has none (returns ``[]``).

    Taught in ``notebooks/00_quickstart``.
    """
    return [fetch_file(entry) for entry in get_dataset_info(name).files]


__all__ = [
    "CACHE_ENV",
    "MIRROR_ENV",
    "DataFetchError",
    "cache_dir",
    "fetch_dataset",
    "fetch_file",
    "file_status",
    "mirror_dir",
    "sha256_file",
    "verify_file",
]
