"""similarity.csv (every pair, ranked) and similarity.html (the top pairs side by side, matched
code highlighted; one self-contained file, no script, no server, nothing fetched)."""
from __future__ import annotations

import csv
import datetime as dt
import html
import pathlib

import numpy as np

from . import compare as C

CSV_FIELDS = ("rank", "a", "b", "score", "matched_lines_a", "matched_lines_b", "files", "b_kind")

HOW_TO_READ = """
<p>Each row is a pair: two students, or a student and an archived repository of public
solutions. <b>score</b> (0 to 1) is the share of the code both of them wrote for the same
functions that matches, after names, comments, strings and layout are set aside (copydetect,
MOSS's method); the starter code of the release never counts. A copy that was renamed,
re-commented, reformatted or reordered still scores near 1.</p>
<ul>
<li><b>Short functions look alike in honest work.</b> <code>relu_forward</code>,
<code>affine_forward</code> or an SGD step have one or two natural ways to be written: a pair
that matches only there is not evidence. Look at how many functions match and how long the
matches are (<i>matched lines</i>, and the highlighted code below).</li>
<li>Weigh a high score together with the matched code itself: long, idiosyncratic stretches
(the same unusual loop, the same odd variable layout, the same bug) matter; common idioms do
not.</li>
<li>A score compares only the functions both sides wrote: a student who did little can score
high on little code. Check <i>files</i> and the matched lines.</li>
<li>An archive pair names the repository and the file the matched function came from.</li>
<li>This report is a place to start looking, never a finding: read the code, and follow the
course's academic-integrity process.</li>
</ul>
"""

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1600px}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:2em;border-top:2px solid #ccc;padding-top:.8em}
h3{font-size:1em;margin:1.2em 0 .3em} table.rank{border-collapse:collapse}
table.rank td,table.rank th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left}
.bar{display:inline-block;height:.7em;background:#c0392b;vertical-align:middle;margin-right:.4em}
.note{background:#f6f6f0;border:1px solid #ddd;padding:.3em 1em;max-width:70em}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:.8em}
.side{overflow-x:auto;border:1px solid #ddd;background:#fcfcfc}
.side .who{background:#eee;padding:.2em .5em;font-size:.9em;word-break:break-all}
pre{margin:0;padding:.3em .5em;font:12px/1.4 ui-monospace,monospace}
.ln{color:#999;display:inline-block;min-width:3.5em;user-select:none}
mark{background:#ffd27f} .archive{color:#7d3c98} .muted{color:#777}
"""


def short_names(rels) -> dict[str, str]:
    """{file in the assignment: its base name, or folder/name where two share a name}."""
    rels = sorted(set(rels))
    base = {}
    for rel in rels:
        base.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    return {rel: (rel.rsplit("/", 1)[-1] if len(base[rel.rsplit("/", 1)[-1]]) == 1
                  else "/".join(rel.split("/")[-2:])) for rel in rels}


def files_text(pair: C.Pair, names: dict) -> str:
    return "; ".join(f"{names.get(rel, rel)}={s:.2f}"
                     for rel, s in sorted(pair.files.items(), key=lambda kv: (-kv[1], kv[0])))


def write_csv(path: pathlib.Path, pairs, docs, names) -> pathlib.Path:
    """One row per pair, ranked (CSV_FIELDS)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CSV_FIELDS)
        for rank, p in enumerate(pairs, 1):
            w.writerow([rank, docs[p.a].name, docs[p.b].name, f"{p.score:.4f}", p.matched_lines_a,
                        p.matched_lines_b, files_text(p, names),
                        "archive" if docs[p.b].archive else "student"])
    return path


def _line_label(number: int) -> str:
    return f"c{number // 1000}:{number % 1000}" if number >= 1000 else str(number)


def highlighted(unit, slices) -> str:
    """The unit's lines as HTML, each with its line number, matched characters in <mark>."""
    mask = np.zeros(len(unit.text) + 1, dtype=bool)
    if slices is not None and np.size(slices):
        for s, e in zip(slices[0], slices[1]):
            mask[int(s):int(e)] = True
    out, pos = [], 0
    for number, line in zip(unit.lines, unit.text.split("\n")):
        parts, k = [], 0
        while k < len(line):
            j = k
            while j < len(line) and mask[pos + j] == mask[pos + k]:
                j += 1
            piece = html.escape(line[k:j])
            parts.append(f"<mark>{piece}</mark>" if mask[pos + k] else piece)
            k = j
        out.append(f'<span class="ln">{_line_label(number)}</span>{"".join(parts)}')
        pos += len(line) + 1
    return "\n".join(out)


def _who(doc, unit) -> str:
    kind = ' class="archive"' if doc.archive else ""
    return (f'<div class="who"><b{kind}>{html.escape(doc.name)}</b> · '
            f'{html.escape(unit.path)}</div>')


def pair_section(k: int, pair: C.Pair, docs, names) -> str:
    da, db = docs[pair.a], docs[pair.b]
    matches = C.unit_matches(da, db)
    shown = sorted((m for m in matches if m.overlap_a), key=lambda m: -(m.overlap_a + m.overlap_b))
    quiet = sorted(m.key for m in matches if not m.overlap_a)
    parts = [f'<section id="pair-{k}"><h2>#{k} {html.escape(da.name)} ↔ '
             f'<span class="{"archive" if db.archive else ""}">{html.escape(db.name)}</span>'
             f' — score {pair.score:.2f}</h2>',
             f'<p class="muted">{html.escape(da.origin)} ↔ {html.escape(db.origin)}</p>']
    for m in shown:
        rel, func = m.key.split("::", 1)
        s = (m.overlap_a + m.overlap_b) / (m.compared_a + m.compared_b)
        ua, ub = da.units[m.key], db.units[m.key]
        parts.append(f"<h3>{html.escape(names.get(rel, rel))} · {html.escape(func)} — "
                     f"{s:.2f}</h3><div class=\"sbs\">"
                     f'<div class="side">{_who(da, ua)}<pre>{highlighted(ua, m.slices_a)}</pre></div>'
                     f'<div class="side">{_who(db, ub)}<pre>{highlighted(ub, m.slices_b)}</pre></div>'
                     "</div>")
    if quiet:
        parts.append('<p class="muted">Also compared, nothing matched: ' + html.escape(", ".join(
            f"{names.get(key.split('::')[0], key)} · {key.split('::', 1)[1]}" for key in quiet))
            + "</p>")
    if not matches:
        parts.append('<p class="muted">No function that both wrote.</p>')
    parts.append('<p><a href="#ranking">back to the ranking</a></p></section>')
    return "\n".join(parts)


def write_html(path: pathlib.Path, pairs, docs, names, top: int, table_rows: int,
               skipped=(), title: str = "HW1") -> pathlib.Path:
    """The report: how to read it, the `table_rows` best pairs, the `top` best side by side."""
    students = sum(not d.archive for d in docs)
    archives = len(docs) - students
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    for k, p in enumerate(pairs[:table_rows], 1):
        a, b = docs[p.a], docs[p.b]
        link = f'<a href="#pair-{k}">{k}</a>' if k <= top else str(k)
        rows.append(f"<tr><td>{link}</td><td>{html.escape(a.name)}</td>"
                    f'<td class="{"archive" if b.archive else ""}">{html.escape(b.name)}</td>'
                    f'<td><span class="bar" style="width:{p.score * 6:.2f}em"></span>'
                    f"{p.score:.2f}</td><td>{p.matched_lines_a} / {p.matched_lines_b}</td>"
                    f"<td>{html.escape(files_text(p, names))}</td></tr>")
    sections = [pair_section(k, p, docs, names) for k, p in enumerate(pairs[:top], 1)
                if p.score > 0]
    skipped_html = ""
    if skipped:
        skipped_html = ("<p><b>Not compared</b> (could not be read): " + html.escape("; ".join(
            skipped)) + "</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Code similarity — {html.escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>Code similarity — {html.escape(title)}</h1>
<p>{students} submissions, {archives} archived repositories, {len(pairs)} pairs compared
({when}). The full ranking: <code>similarity.csv</code> in this folder.</p>
<div class="note"><h2 style="border:0;margin:.3em 0;padding:0">How to read this report</h2>
{HOW_TO_READ}</div>
{skipped_html}
<h2 id="ranking">Ranking (the {min(table_rows, len(pairs))} most similar pairs)</h2>
<table class="rank"><thead><tr><th>#</th><th>a</th><th>b</th><th>score</th>
<th>matched lines (a / b)</th><th>files (score each)</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
{chr(10).join(sections)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
