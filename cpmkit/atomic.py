"""Write a file so that no reader ever sees half of it: a temporary file beside it, then a rename.

Every file the kit writes for another step to read (a cached dataset, a checkpoint, a results
JSON, a split) goes through :func:`atomic_path`, so an interrupted run leaves either the old
file or the new one, never a torn one. The temporary name is unique per call, so two processes
that build the same file never write into each other's copy. Taught in
``notebooks/00_quickstart`` (results as data).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The parent folder is created. On an exception the temporary file is removed and ``path``
    is left as it was.

    Examples
    --------
    >>> with atomic_path("out/model.pt") as tmp:   # doctest: +SKIP
    ...     torch.save(state, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    tmp = Path(name)
    # mkstemp makes the file owner-only; a shared cache or mirror needs the umask's usual mode
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    return Path(path)


def atomic_torch_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` atomically; returns ``path``."""
    import torch  # only here: the data layer uses this module without needing torch loaded

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


__all__ = ["atomic_path", "atomic_torch_save", "atomic_write_text"]
