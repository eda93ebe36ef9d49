"""What a container grade depends on, and the record that lets a re-run skip it.

A grade depends on three inputs: the submission's files, the grading image (its id changes
with anything built into it: grader, reference, data, Python packages) and the hidden checks
(their hash, built into the image as the label `hw1.tests_sha256`). When all three are
unchanged since the last run, the recorded result is reused.

Records live in OUT/containers/<submission id>.json:
  {"inputs": {"submission_sha256", "image_id", "tests_sha256"}, "outcome": ..., "result": {...}}
Only outcomes that would come out the same again are reused ("graded"); timeouts and engine
failures are always retried.
"""
from __future__ import annotations

import hashlib
import pathlib

from ...digest import tree_sha256
from ...store import read_json, write_json_atomic

REUSABLE_OUTCOMES = ("graded",)


IMAGE_SOURCES = ("Dockerfile", ".dockerignore", "requirements.txt", "pyproject.toml",
                 "instructor_tools", "autograder_tests", "source/hw1", "scripts/docker")
BUILD_PRODUCTS = (".so", ".c", ".o", ".pyc")


def tests_sha256(repo: pathlib.Path) -> str:
    """Hash of the hidden checks (autograder_tests/) of a repository checkout."""
    return tree_sha256(pathlib.Path(repo) / "autograder_tests")


def image_sources_sha256(repo: pathlib.Path) -> str:
    """Hash of what the Dockerfile copies from the checkout (CIFAR-10 and build products
    aside): an image labelled with another value was built from other sources."""
    digest = hashlib.sha256()
    for rel in IMAGE_SOURCES:
        path = pathlib.Path(repo) / rel
        if path.exists():
            digest.update(rel.encode() + b"\0" + tree_sha256(
                path, skip_dirs=("__pycache__", ".ipynb_checkpoints", "build"),
                skip_suffixes=BUILD_PRODUCTS).encode())
    return digest.hexdigest()


def record_path(out_dir: pathlib.Path, submission_id: str) -> pathlib.Path:
    return pathlib.Path(out_dir) / "containers" / f"{submission_id}.json"


def load_reusable(out_dir: pathlib.Path, submission_id: str, inputs: dict) -> dict | None:
    """The recorded result when it was graded from exactly these inputs, else None."""
    record = read_json(record_path(out_dir, submission_id))
    if record is None or record.get("inputs") != inputs or record.get("outcome") not in REUSABLE_OUTCOMES:
        return None
    return record.get("result")


def store(out_dir: pathlib.Path, submission_id: str, inputs: dict, outcome: str,
          result: dict, log_tail: str = "") -> pathlib.Path:
    """Write the record atomically (a crash mid-write never leaves a half record)."""
    return write_json_atomic(record_path(out_dir, submission_id), {
        "inputs": inputs, "outcome": outcome, "result": result, "container_log_tail": log_tail})
