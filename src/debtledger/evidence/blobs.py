"""Content-addressed evidence files: each stored once under its SHA-256, hashed while it
streams in, so a long call recording never has to fit in memory.

A file is written to a temporary name, flushed to disk and renamed into place: a crash
leaves either the whole file or none of it under its hash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from debtledger.errors import InvalidInput, NotFound

CHUNK = 1024 * 1024


def sha256_file(path: Path) -> bytes:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.digest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Files under `folder/ab/cd/<sha256 hex>`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, digest: bytes) -> Path:
        h = digest.hex()
        return self.folder / h[:2] / h[2:4] / h

    def has(self, digest: bytes) -> bool:
        return self.path(digest).exists()

    def open(self, digest: bytes) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"no evidence file {digest.hex()}") from None

    def put(
        self, chunks: Iterable[bytes], *, max_size: int | None = None, durable: bool = True
    ) -> tuple[bytes, int]:
        """Store a stream of bytes; returns its SHA-256 and size. Refuses an empty file and,
        with `max_size`, one larger than that (nothing is kept of a refused file). With
        `durable=False` the caller makes it durable later with `sync()` (one flush for many
        files instead of one per file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise InvalidInput(f"file is larger than {max_size} bytes", field="file")
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                if durable:
                    os.fsync(out.fileno())
            if size == 0:
                raise InvalidInput("file is empty", field="file")
            digest = h.digest()
            target = self.path(digest)
            if target.exists():
                os.unlink(tmp)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                if durable:
                    _fsync_dir(target.parent)
            return digest, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @staticmethod
    def sync() -> None:
        """Flush every file written with `durable=False` (and their folders) to disk."""
        os.sync()

    def put_file(self, path: Path) -> tuple[bytes, int]:
        if not path.is_file():
            raise InvalidInput(f"no such file: {path.name}", field="file")
        with open(path, "rb") as fh:
            return self.put(iter(lambda: fh.read(CHUNK), b""))
