"""The landing zone: every received file kept exactly as received, named by its content hash.

One small interface so that the landing zone can live in a local folder (here) or in object storage.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class LandedObject:
    source: str
    sha256: str
    key: str  # where the bytes are, relative to the store
    size_bytes: int
    is_new: bool


class LandingStore(Protocol):
    def land(self, source: str, path: Path, known: set[str]) -> tuple[str, LandedObject | None]: ...

    def put(self, source: str, path: Path, sha256: str) -> LandedObject: ...

    def put_bytes(self, source: str, data: bytes, suffix: str) -> LandedObject: ...

    def fetch(self, key: str) -> Path: ...

    def discard_partial(self, source: str) -> int: ...


def put_bytes_via_file(store: LandingStore, source: str, data: bytes, suffix: str) -> LandedObject:
    """Land bytes received from an API (an answer, a document) exactly as received, through the
    store's own `put` (so the same naming, no-op and checks apply)."""
    fd, tmp = tempfile.mkstemp(prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return store.put(source, Path(tmp), hashlib.sha256(data).hexdigest(), suffix=suffix)
    finally:
        Path(tmp).unlink(missing_ok=True)


class ContentChanged(OSError):
    """The file changed while it was being landed (a sender still writing it)."""


def land_hashed_first(store: LandingStore, source: str, path: Path, known: set[str]
                      ) -> tuple[str, LandedObject | None]:
    """`land` for a store that needs the name before the bytes (an object key): hash, then put."""
    sha = sha256_file(path)
    return sha, None if sha in known else store.put(source, path, sha)


def landing_suffix(path: Path) -> str:
    """`.csv`, `.csv.gz`, `.xlsx`…: the file's real extensions only, so that a long or dotted name never
    makes the landed name too long (it is the sha256 plus this)."""
    return "".join(s for s in Path(path).suffixes[-2:] if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", s)).lower()


class LocalLandingStore:
    """`<root>/<source>/<sha256><suffix>`; the same bytes twice is a no-op."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def land(self, source: str, path: Path, known: set[str]) -> tuple[str, LandedObject | None]:
        """A file's sha256 and where its bytes landed (None when they are `known`), in one read: hashed as
        they are copied to a temp name that becomes `<sha256><suffix>`. A file whose size or modification
        time changed while it was read raises ContentChanged: what was read may be half of it."""
        path = Path(path)
        folder = self.root / source
        folder.mkdir(parents=True, exist_ok=True)
        src = open(path, "rb")  # before the temp file: an unreadable inbox file leaves nothing open
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".landing-")
        try:
            h, size = hashlib.sha256(), 0
            with src, os.fdopen(fd, "wb") as out:
                before = os.fstat(src.fileno())
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                after = os.fstat(src.fileno())
                if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != after.st_size:
                    raise ContentChanged(f"{path.name}: content changed while being landed")
                sha = h.hexdigest()
                if sha not in known:
                    out.flush()
                    os.fsync(out.fileno())
            key = f"{source}/{sha}{landing_suffix(path)}"
            if sha in known or (self.root / key).exists():
                Path(tmp).unlink()
                return sha, None if sha in known else LandedObject(source, sha, key, size, is_new=False)
            os.replace(tmp, self.root / key)
            return sha, LandedObject(source, sha, key, size, is_new=True)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, source: str, path: Path, sha256: str, suffix: str | None = None) -> LandedObject:
        path = Path(path)
        key = f"{source}/{sha256}{suffix if suffix is not None else landing_suffix(path)}"
        target = self.root / key
        size = path.stat().st_size
        if target.exists():
            return LandedObject(source, sha256, key, size, is_new=False)
        h = hashlib.sha256()  # of the bytes as copied: one read, and a change since hashing shows

        def copy(out):
            with open(path, "rb") as src:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != sha256:
                raise ContentChanged(f"{path.name}: content changed while being landed (hash mismatch)")

        self._write(target, copy)
        return LandedObject(source, sha256, key, size, is_new=True)

    def put_bytes(self, source: str, data: bytes, suffix: str) -> LandedObject:
        """Bytes received from an API, written straight under their content name (no copy of a copy)."""
        sha256 = hashlib.sha256(data).hexdigest()
        key = f"{source}/{sha256}{suffix}"
        target = self.root / key
        if target.exists():
            return LandedObject(source, sha256, key, len(data), is_new=False)
        self._write(target, lambda out: out.write(data))
        return LandedObject(source, sha256, key, len(data), is_new=True)

    @staticmethod
    def _write(target: Path, fill) -> None:
        """Write to a temp name, fsync, then rename: a crash never leaves a half file under the final name."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".landing-")
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def fetch(self, key: str) -> Path:
        return self.root / key

    def discard_partial(self, source: str) -> int:
        """Delete the temp files a killed run left in `source`'s folder (a copy in flight when the process
        died: never under a final name, never in the manifest). Only when nothing else writes there: the
        nightly calls it under the run lock, before landing the source."""
        partial = list((self.root / source).glob(".landing-*"))
        for p in partial:
            p.unlink(missing_ok=True)
        return len(partial)
