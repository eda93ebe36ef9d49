"""Content hashes of submissions and source trees (what a reused result must match)."""
from __future__ import annotations

import hashlib
import os
import pathlib


def tree_sha256(path: pathlib.Path, skip_dirs=("__pycache__", ".ipynb_checkpoints"),
                skip_suffixes=()) -> str:
    """Hash of a file, or of a folder's relative file names and contents (order-free). Names
    are hashed as the bytes on disk (os.fsencode): a name that is not valid UTF-8, as an
    archive made on a Latin-1 machine carries, hashes like any other."""
    path = pathlib.Path(path)
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(b"file\0")
        _update_file(digest, path)
        return digest.hexdigest()
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
        for name in sorted(files):
            if name.endswith(skip_suffixes):
                continue
            full = pathlib.Path(root, name)
            rel = full.relative_to(path).as_posix()
            digest.update(os.fsencode(rel) + b"\0")
            if full.is_symlink():
                digest.update(b"link\0" + os.fsencode(os.readlink(full)) + b"\0")
            else:
                _update_file(digest, full)
    return digest.hexdigest()


def _update_file(digest, path: pathlib.Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(b"\0")
