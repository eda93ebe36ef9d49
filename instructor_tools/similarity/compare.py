"""Scoring pairs of documents with copydetect (winnowed fingerprints of tokenised code, MOSS's
method: names become V/F/O, strings S, comments and layout vanish, so renaming, re-commenting
and reformatting change nothing; per-unit comparison makes the order of functions irrelevant).

A pair is scored on the units both documents have code for:

    score = (matched code of a + matched code of b) / (compared code of a + of b)

in copydetect's tokens (filtered characters), 0..1: 1 when every compared unit matches in
full. Matches shorter than documents.NOISE filtered characters never count, so one-line
functions that everybody writes alike (relu_forward) add code to compare but no match.
"""
from __future__ import annotations

import bisect
import concurrent.futures
import dataclasses
import multiprocessing
import os
import sys
import threading

import numpy as np
from copydetect import compare_files


@dataclasses.dataclass
class UnitMatch:
    """The match of one unit in a pair: key; overlap_a/b and compared_a/b in filtered
    characters; slices_a/b (2 x M int arrays of start/end offsets in each unit's text)."""
    key: str
    overlap_a: float
    overlap_b: float
    compared_a: float
    compared_b: float
    slices_a: np.ndarray
    slices_b: np.ndarray


@dataclasses.dataclass
class Pair:
    """The score of documents number `a` and `b` (b may be an archive). files: {file in the
    assignment: its own score}; matched_lines_a/b: how many of each side's kept lines hold
    matched code."""
    a: int
    b: int
    score: float
    matched_lines_a: int
    matched_lines_b: int
    files: dict


def compare_units(fa, fb) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(overlap in a, overlap in b, slices of a, slices of b) of two fingerprints."""
    if fa.hashes.isdisjoint(fb.hashes):
        return 0.0, 0.0, None, None
    overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
    if not overlap:
        return 0.0, 0.0, None, None
    return (min(float(sim_a), 1.0) * fa.token_coverage, min(float(sim_b), 1.0) * fb.token_coverage,
            slices_a, slices_b)


def unit_matches(da, db) -> list[UnitMatch]:
    """Every unit both documents have code for, matched (overlap 0 where nothing matches)."""
    out = []
    for key, fa in da.fingerprints.items():
        fb = db.fingerprints.get(key)
        if fb is None:
            continue
        ov_a, ov_b, sl_a, sl_b = compare_units(fa, fb)
        out.append(UnitMatch(key, ov_a, ov_b, fa.token_coverage, fb.token_coverage, sl_a, sl_b))
    return out


def matched_lines(unit, slices) -> int:
    """How many lines of `unit`'s text the character `slices` touch."""
    if slices is None or len(slices) == 0 or np.size(slices) == 0:
        return 0
    starts = [0]
    for k, ch in enumerate(unit.text):
        if ch == "\n":
            starts.append(k + 1)
    touched = set()
    for s, e in zip(slices[0], slices[1]):
        first = bisect.bisect_right(starts, int(s)) - 1
        last = bisect.bisect_right(starts, max(int(e) - 1, int(s))) - 1
        touched.update(range(first, last + 1))
    return len(touched)


def score_pair(da, db, a: int, b: int) -> Pair:
    """The Pair of documents `da` (number a) and `db` (number b)."""
    total = matched = 0.0
    files: dict = {}
    lines_a = lines_b = 0
    for m in unit_matches(da, db):
        rel = m.key.split("::", 1)[0]
        f = files.setdefault(rel, [0.0, 0.0])
        f[0] += m.overlap_a + m.overlap_b
        f[1] += m.compared_a + m.compared_b
        matched += m.overlap_a + m.overlap_b
        total += m.compared_a + m.compared_b
        if m.overlap_a:
            lines_a += matched_lines(da.units[m.key], m.slices_a)
            lines_b += matched_lines(db.units[m.key], m.slices_b)
    score = matched / total if total else 0.0
    return Pair(a, b, round(min(score, 1.0), 4), lines_a, lines_b,
                {rel: round(v[0] / v[1], 4) for rel, v in files.items() if v[1]})


_DOCS: list = []


def can_fork() -> bool:
    """Whether worker processes can be forked safely: fork exists here and this process runs
    one thread (a fork taken while another thread holds a lock can hang the child forever;
    tqdm's monitor thread is one such: the command sets tqdm.monitor_interval = 0)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def forked_map(func, items, jobs: int):
    """Yield func(item) for each of `items`, in order, computed by `jobs` forked worker
    processes where can_fork() (else here, one at a time). A worker that dies (killed from
    outside, out of memory) does not hang the run, as it would with multiprocessing.Pool:
    the items not yet returned are computed here instead. Exceptions of func propagate."""
    items = list(items)
    done = 0
    if jobs > 1 and len(items) > 1 and can_fork():
        try:
            with concurrent.futures.ProcessPoolExecutor(
                    jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                for result in pool.map(func, items):
                    done += 1
                    yield result
        except concurrent.futures.process.BrokenProcessPool:
            print(f"similarity: a worker process died; the last {len(items) - done} of "
                  f"{len(items)} items are computed in this process", file=sys.stderr)
    for item in items[done:]:
        yield func(item)


def _score_chunk(pairs):
    return [score_pair(_DOCS[a], _DOCS[b], a, b) for a, b in pairs]


def pairs_to_compare(docs) -> list[tuple[int, int]]:
    """Every student with every other student, and every student with every archive."""
    students = [k for k, d in enumerate(docs) if not d.archive]
    archives = [k for k, d in enumerate(docs) if d.archive]
    out = [(a, b) for i, a in enumerate(students) for b in students[i + 1:]]
    out += [(a, b) for a in students for b in archives]
    return out


def score_all(docs, jobs: int = 0, progress=None) -> list[Pair]:
    """Every Pair of pairs_to_compare(docs), highest score first (ties: more matched lines
    first). jobs: worker processes (0: one per CPU); the documents reach the workers by fork
    (nothing is pickled but the scores). progress: a tqdm-like
    object updated with the number of pairs done."""
    todo = pairs_to_compare(docs)
    jobs = jobs or os.cpu_count() or 1
    chunk = 500
    chunks = [todo[k:k + chunk] for k in range(0, len(todo), chunk)]
    results = []
    global _DOCS
    _DOCS = docs
    try:
        for part in forked_map(_score_chunk, chunks, jobs):
            results.extend(part)
            if progress is not None:
                progress.update(len(part))
    finally:
        _DOCS = []
    results.sort(key=lambda p: (-p.score, -(p.matched_lines_a + p.matched_lines_b), p.a, p.b))
    return results
