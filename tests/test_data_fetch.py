"""fetch_file: cache -> mirror -> URL, sha256 checked, atomic, with errors that say what to do."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cpmkit.data import fetch as fetch_module
from cpmkit.data.fetch import (
    DataFetchError,
    cache_dir,
    fetch_dataset,
    fetch_file,
    file_status,
    mirror_dir,
)
from cpmkit.data.registry import FileEntry, get_dataset_info

MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")
needs_mirror = pytest.mark.skipif(
    not (MIRROR / "MANIFEST.tsv").is_file(),
    reason="set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)",
)

CONTENT = b"smiles,y\nCCO,1\nc1ccccc1,0\n"
URL = "https://example.invalid/toy/toy.csv"


def make_entry(content: bytes = CONTENT, path: str = "toy/toy.csv") -> FileEntry:
    digest = hashlib.sha256(content).hexdigest()
    return FileEntry(
        path=path, url=URL, sha256=digest, sha256_uncompressed=digest, bytes=len(content)
    )


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


class FakeResponse(io.BytesIO):
    """What urlopen returns, serving fixed bytes, optionally failing part-way."""

    def __init__(self, content: bytes, fail_after: int | None = None):
        super().__init__(content)
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def offline(monkeypatch):
    """No network: every urlopen fails like an unplugged cable."""

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A tmp cache and a tmp mirror holding one toy file."""
    cache, mirror = tmp_path / "cache", tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "toy.csv").write_bytes(CONTENT)
    monkeypatch.setenv("CPMKIT_CACHE", str(cache))
    monkeypatch.setenv("CPMKIT_DATA_MIRROR", str(mirror))
    return cache, mirror


def test_env_vars_choose_the_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "c"))
    monkeypatch.delenv("CPMKIT_DATA_MIRROR", raising=False)
    assert cache_dir() == tmp_path / "c"
    assert mirror_dir() is None
    monkeypatch.delenv("CPMKIT_CACHE")
    # inside this checkout the default cache is <repo>/data/cache
    assert cache_dir() == Path(__file__).resolve().parents[1] / "data" / "cache"


def test_mirror_copy_then_cache(toy, offline, monkeypatch):
    cache, mirror = toy
    entry = make_entry()
    assert file_status(entry) == "mirror"
    path = fetch_file(entry)
    assert path == cache / "toy" / "toy.csv"
    assert path.read_bytes() == CONTENT
    assert file_status(entry) == "cached"
    # the second call needs neither the mirror nor the network
    monkeypatch.setenv("CPMKIT_DATA_MIRROR", str(mirror / "gone"))
    assert fetch_file(entry) == path
    assert leftovers(cache) == [path]


def test_corrupt_cached_file_is_replaced_from_the_mirror(toy, offline):
    cache, _ = toy
    entry = make_entry()
    target = cache / "toy" / "toy.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"smiles,y\nCCO,1\n")  # a truncated earlier download
    assert file_status(entry) == "mirror"
    with pytest.warns(UserWarning, match="fetching it again"):
        path = fetch_file(entry)
    assert path.read_bytes() == CONTENT


def test_corrupt_mirror_copy_is_refused(toy, offline):
    cache, mirror = toy
    (mirror / "toy" / "toy.csv").write_bytes(CONTENT.replace(b"CCO", b"CCN"))
    entry = make_entry()
    with pytest.raises(DataFetchError) as info:
        fetch_file(entry)
    message = str(info.value)
    actual = hashlib.sha256(CONTENT.replace(b"CCO", b"CCN")).hexdigest()
    for part in ("toy/toy.csv", str(mirror), URL, entry.sha256, actual, "CPMKIT_DATA_MIRROR"):
        assert part in message
    assert leftovers(cache) == []  # neither the bad file nor a temporary one


def test_offline_without_mirror_names_url_and_variable(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CPMKIT_DATA_MIRROR", raising=False)
    with pytest.raises(DataFetchError) as info:
        fetch_file(make_entry())
    message = str(info.value)
    assert "toy/toy.csv" in message and URL in message
    assert "CPMKIT_DATA_MIRROR" in message and "offline" in message
    assert leftovers(tmp_path / "cache") == []


def test_mirror_without_the_file_falls_back_to_download(toy, monkeypatch):
    cache, mirror = toy
    (mirror / "toy" / "toy.csv").unlink()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(CONTENT))
    assert file_status(make_entry()) == "download"
    assert fetch_file(make_entry()).read_bytes() == CONTENT


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CPMKIT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(fetch_module, "CHUNK", 8)
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: FakeResponse(CONTENT, fail_after=16)
    )
    with pytest.raises(DataFetchError, match="connection reset"):
        fetch_file(make_entry())
    assert leftovers(tmp_path / "cache") == []


def test_download_with_wrong_bytes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CPMKIT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: FakeResponse(b"<html>rate limited</html>")
    )
    with pytest.raises(DataFetchError, match="expects"):
        fetch_file(make_entry())
    assert leftovers(tmp_path / "cache") == []


def test_gz_entry_served_uncompressed_is_stored_gzipped(tmp_path, monkeypatch):
    # MOSES upstream serves plain CSV for a file the registry stores as .gz
    packed = gzip.compress(CONTENT, mtime=0)
    entry = FileEntry(
        path="toy/toy.csv.gz",
        url=URL,
        sha256=hashlib.sha256(packed).hexdigest(),
        sha256_uncompressed=hashlib.sha256(CONTENT).hexdigest(),
        bytes=len(packed),
    )
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CPMKIT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(CONTENT))
    path = fetch_file(entry)
    assert path.name == "toy.csv.gz" and gzip.decompress(path.read_bytes()) == CONTENT
    assert file_status(entry) == "cached"


@needs_mirror
def test_real_mirror_file_into_empty_cache(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CPMKIT_DATA_MIRROR", str(MIRROR))
    entry = get_dataset_info("bbbp").main_file
    assert file_status(entry) == "mirror"
    path = fetch_file(entry)
    assert path == tmp_path / "cache" / "moleculenet" / "bbbp.csv"
    assert path.read_bytes() == (MIRROR / entry.path).read_bytes()
    assert file_status(entry) == "cached"
    # a .gz stays compressed; its sha256 is of the stored bytes
    (hiv,) = fetch_dataset("hiv")
    assert hiv.name == "hiv.csv.gz" and hiv.read_bytes()[:2] == b"\x1f\x8b"


def test_embedded_dataset_has_nothing_to_fetch(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    assert fetch_dataset("nci5k") == []
