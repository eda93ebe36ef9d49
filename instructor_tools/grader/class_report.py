"""The class report: what a batch of results says about the class and the assignment.

    write_report(results, folder) -> folder/index.html

One self-contained HTML page (plots drawn with matplotlib, embedded as PNG data URIs: it
opens from the file system in any browser, no server, no network) and the same figures as
CSV files beside it:

  questions.csv  per question: results, mean, median, min, max, share at full and at 0 points
  checks.csv     per check: results, failed (wrong, crashed or too slow), failure rate,
                 grader faults, the three commonest messages with their counts
  students.csv   per student: score, late penalty, final score, days late, grading seconds,
                 grader faults
  lateness.csv   days late -> students (and how many of them lost points)

Messages are grouped after replacing numbers by `#` ("relative error 3e-2" and "relative
error 4e-1" are one message). Results the grader could not produce at all (every check a
grader fault) count only under grader faults, never as scores. Every text from a result is
HTML-escaped (it may quote a student's output).
"""
from __future__ import annotations

import base64
import collections
import csv
import dataclasses
import html
import io
import pathlib
import re
import statistics

from .. import questions as qmap
from . import safetext
from .reports import fmt, not_graded

# a number standing alone (not the digits of a name such as cs231n or 1_cs231n)
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")
TOP_MESSAGES = 3
PLOT_CHECKS = 25      # the failure-rate plot shows this many checks, the most failed first


def message_key(message: str) -> str:
    """A message with its numbers replaced by '#', on one line, at most 200 characters."""
    text = " ".join(_NUMBER.sub("#", message or "").split())
    return text[:200] or "(no message)"


@dataclasses.dataclass
class CheckStats:
    question: str
    name: str
    results: int = 0
    failed: int = 0
    grader_faults: int = 0
    messages: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def failure_rate(self) -> float:
        graded = self.results - self.grader_faults
        return self.failed / graded if graded else 0.0


def question_rows(results) -> list[dict]:
    rows = []
    scored = [r for r in results if not not_graded(r)]
    for q in qmap.QUESTIONS:
        points = [qr.points for r in scored for qr in r.questions if qr.qid == q.qid]
        if not points:
            continue
        rows.append({"question": q.qid, "title": q.title, "max_points": fmt(q.points),
                     "results": len(points), "mean": round(statistics.fmean(points), 3),
                     "median": fmt(statistics.median(points)), "min": fmt(min(points)),
                     "max": fmt(max(points)),
                     "full_points": round(sum(p >= q.points for p in points) / len(points), 3),
                     "zero_points": round(sum(p == 0 for p in points) / len(points), 3)})
    return rows


def check_stats(results) -> list[CheckStats]:
    """Per check, in the assignment's order."""
    stats: dict = {}
    for r in results:
        for qr in r.questions:
            for c in qr.checks:
                s = stats.setdefault((qr.qid, c.name), CheckStats(qr.qid, c.name))
                s.results += 1
                if c.status == "grader_error":
                    s.grader_faults += 1
                elif not c.passed:
                    s.failed += 1
                    s.messages[message_key(c.message)] += 1
    return list(stats.values())


def check_rows(stats) -> list[dict]:
    rows = []
    for s in stats:
        row = {"question": s.question, "check": s.name, "results": s.results, "failed": s.failed,
               "failure_rate": round(s.failure_rate, 3), "grader_faults": s.grader_faults}
        for i, (msg, n) in enumerate(s.messages.most_common(TOP_MESSAGES), 1):
            row[f"message_{i}"], row[f"message_{i}_count"] = safetext.formula_safe(msg), n
        rows.append(row)
    return rows


def student_rows(results) -> list[dict]:
    rows = []
    for r in results:
        late = r.lateness or {}
        faults = len(r.grader_errors)
        rows.append({"student": r.student, "score": "" if not_graded(r) else fmt(r.score),
                     "max_score": fmt(r.max_score), "late_penalty": fmt(r.late_penalty),
                     "final_score": "" if not_graded(r) else fmt(r.final_score),
                     "days_late": late.get("days_late", ""),
                     "submitted_at": late.get("submitted_at") or "",
                     "seconds": f"{r.seconds:.1f}", "grader_faults": faults,
                     "status": "grader_error" if not_graded(r) else ("error" if r.errors or r.faults else "ok")})
    return rows


def lateness_rows(results) -> list[dict]:
    days = collections.Counter()
    penalised = collections.Counter()
    for r in results:
        late = r.lateness or {}
        if not late.get("due") or not late.get("submitted_at"):
            continue
        days[late["days_late"]] += 1
        penalised[late["days_late"]] += bool(late.get("penalty_fraction"))
    return [{"days_late": d, "students": days[d], "with_penalty": penalised[d]}
            for d in sorted(days)]


# ---------------------------------------------------------------- plots

def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _counts(axis) -> None:
    """Whole numbers only on an axis of counts."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def plot_scores(results) -> str | None:
    plt = _plt()
    scored = [r for r in results if not not_graded(r)]
    qids = [q for q in qmap.QUESTIONS if any(qr.qid == q.qid for r in scored for qr in r.questions)]
    if not qids:
        return None
    cols = min(4, len(qids))
    rows = -(-len(qids) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, q in zip(axes.flat, qids):
        points = [qr.points for r in scored for qr in r.questions if qr.qid == q.qid]
        bins = max(2, min(20, int(q.points * 2) + 1))
        ax.hist(points, bins=bins, range=(0, q.points), color="#3b6ea8", edgecolor="white")
        ax.set_title(f"{q.qid} (max {fmt(q.points)})", fontsize=9)
        ax.set_xlabel("points", fontsize=8)
        ax.set_ylabel("students", fontsize=8)
        _counts(ax.yaxis)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(qids):]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def plot_failures(stats) -> str | None:
    plt = _plt()
    shown = sorted((s for s in stats if s.results - s.grader_faults),
                   key=lambda s: (-s.failure_rate, s.question, s.name))[:PLOT_CHECKS]
    if not shown:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(shown) + 1))
    labels = [f"{s.question} {s.name}"[:60] for s in shown]
    ax.barh(range(len(shown)), [100 * s.failure_rate for s in shown], color="#b3261e")
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students failing the check (%)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    return _png(fig)


def plot_lateness(rows) -> str | None:
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 2.6))
    days = [r["days_late"] for r in rows]
    free = [r["students"] - r["with_penalty"] for r in rows]
    ax.bar(days, free, color="#3b6ea8", label="no penalty")
    ax.bar(days, [r["with_penalty"] for r in rows], bottom=free, color="#b3261e",
           label="late penalty")
    ax.set_xlabel("days late (0: on time)", fontsize=8)
    ax.set_ylabel("students", fontsize=8)
    ax.set_xticks(days)
    _counts(ax.yaxis)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def plot_times(results) -> str | None:
    plt = _plt()
    if not results:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 2.8))
    left.hist([r.seconds for r in results], bins=min(30, max(5, len(results) // 3)),
              color="#3b6ea8", edgecolor="white")
    left.set_xlabel("seconds per submission", fontsize=8)
    left.set_ylabel("submissions", fontsize=8)
    _counts(left.yaxis)
    per_q = [(q.qid, [qr.seconds for r in results for qr in r.questions if qr.qid == q.qid])
             for q in qmap.QUESTIONS]
    per_q = [(qid, secs) for qid, secs in per_q if secs]
    right.boxplot([secs for _, secs in per_q], tick_labels=[qid for qid, _ in per_q])
    right.set_ylabel("seconds per question", fontsize=8)
    for ax in (left, right):
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def plot_faults(stats) -> str | None:
    plt = _plt()
    by_q = collections.Counter()
    for s in stats:
        by_q[s.question] += s.grader_faults
    qids = [q.qid for q in qmap.QUESTIONS if any(s.question == q.qid for s in stats)]
    if not qids:
        return None
    fig, ax = plt.subplots(figsize=(5, 2.4))
    ax.bar(qids, [by_q[q] for q in qids], color="#8a5a00")
    ax.set_ylabel("checks the grader\ncould not run", fontsize=8)
    _counts(ax.yaxis)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


# ---------------------------------------------------------------- the page

CSS = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right}img{max-width:100%;display:block;margin:.5rem 0}h2{margin-top:2rem}.note{color:#555}"""


def _table(rows, columns, numeric=()) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(
        f"<td{' class=n' if c in numeric else ''}>{e(str(row.get(c, '')))}</td>" for c in columns)
        + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(uri, alt, fig_id) -> str:
    if uri is None:
        return f"<p class=note>Nothing to plot ({html.escape(alt)}).</p>"
    return f'<img id="{fig_id}" alt="{html.escape(alt)}" src="{uri}">'


def render(results) -> tuple[str, dict]:
    """(the HTML page, {csv name: (columns, rows)}) for `results`."""
    e = html.escape
    results = list(results)
    stats = check_stats(results)
    q_rows, c_rows = question_rows(results), check_rows(stats)
    s_rows, l_rows = student_rows(results), lateness_rows(results)
    faults = [r for r in s_rows if r["grader_faults"]]
    graded = sum(1 for r in results if not not_graded(r))
    failing = sorted((s for s in stats if s.failed), key=lambda s: -s.failure_rate)
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>HW1 class report"
             f"</title><style>{CSS}</style></head><body><h1>HW1 class report</h1>",
             f"<p id=summary>{len(results)} results: {graded} graded, "
             f"{len(results) - graded} not graded (grader faults); "
             f"{sum(1 for r in results if (r.lateness or {}).get('days_late'))} late.</p>",
             "<h2>Scores per question</h2>", _figure(plot_scores(results), "score histograms",
                                                     "plot-scores"),
             _table(q_rows, ["question", "title", "results", "mean", "median", "min", "max",
                             "max_points", "full_points", "zero_points"],
                    {"results", "mean", "median", "min", "max", "max_points", "full_points",
                     "zero_points"}),
             "<h2>Checks failed most</h2>", _figure(plot_failures(stats),
                                                    "failure rate per check", "plot-failures"),
             "<table id=messages><tr><th>Check</th><th>Failed</th><th>Commonest messages "
             "(numbers shown as #)</th></tr>"]
    for s in failing:
        msgs = "<br>".join(f"{n}&times; {e(m)}" for m, n in s.messages.most_common(TOP_MESSAGES))
        parts.append(f"<tr><td>{e(s.question)} {e(s.name)}</td><td class=n>{s.failed}/"
                     f"{s.results - s.grader_faults} ({s.failure_rate:.0%})</td><td>{msgs}</td></tr>")
    parts.append("</table>")
    parts += ["<h2>Lateness</h2>", _figure(plot_lateness(l_rows), "no due date or submission "
                                           "times recorded", "plot-lateness"),
              _table(l_rows, ["days_late", "students", "with_penalty"],
                     {"days_late", "students", "with_penalty"}),
              "<h2>Grading time</h2>", _figure(plot_times(results), "grading time",
                                               "plot-times"),
              "<h2>Grader faults</h2>", _figure(plot_faults(stats), "grader faults",
                                                "plot-faults")]
    if faults:
        parts.append("<p>Regrade these (a problem on the grader's side, not the student's):</p>"
                     + _table(faults, ["student", "grader_faults", "status"], {"grader_faults"}))
    else:
        parts.append("<p class=note>No grader faults.</p>")
    parts.append("<p class=note>The same figures: questions.csv, checks.csv, students.csv, "
                 "lateness.csv beside this page.</p></body></html>\n")
    check_columns = ["question", "check", "results", "failed", "failure_rate", "grader_faults"]
    for i in range(1, TOP_MESSAGES + 1):
        check_columns += [f"message_{i}", f"message_{i}_count"]
    tables = {"questions.csv": (list(q_rows[0]) if q_rows else ["question"], q_rows),
              "checks.csv": (check_columns, c_rows),
              "students.csv": (list(s_rows[0]) if s_rows else ["student"], s_rows),
              "lateness.csv": (["days_late", "students", "with_penalty"], l_rows)}
    return "\n".join(parts), tables


def write_report(results, folder) -> pathlib.Path:
    """folder/index.html and its CSVs (see the module docstring); returns the page's path."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    page, tables = render(results)
    for name, (columns, rows) in tables.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
