"""What the Part 2 release must not give away about the challenge (Q8.8) and the tuning
questions (Q8.5-Q8.7): the source's tuned run-script settings, the reference's accuracies,
and the words that describe the reference's design.

- Tuned settings: each source `run_<model>.sh` keeps its tuned `train.py` command inside a
  solution region, next to a `# starter: ` line that the release ships instead (see strip.py).
  An option whose tuned value differs from the starter's is a tuned setting; a release run
  script that passes it with that value leaks it.
- Reference figures: the Part 2 reference accuracies of autograder_tests/thresholds.json
  (means and single runs), written as 0.905 / 0.9049 / 90.5% / 90.5, or as 0.90 for the
  full-scale means; the thresholds themselves (the staff's bar to beat) may be shown.
- Design words: words of at least 6 characters that occur in the source's model solution
  regions (code or comments) and nowhere in the source's public Part 2 text.

Read: the run scripts, models/*.py and README.md of the release's 2_pytorch folder, and the
cell sources of the Part 2 notebook (softmax-classifier.ipynb).
"""
import json
import pathlib
import re
import shlex

from .fingerprints import SOLUTION_BEGIN, SOLUTION_END, split_regions
from .strip import STARTER_PREFIX

PART2 = "2_pytorch"
PART2_NOTEBOOK = "softmax-classifier.ipynb"
QUESTIONS = ("Q8.5", "Q8.6", "Q8.7", "Q8.8")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{5,}")
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+%?")


def settings_of(command: str) -> dict[str, str]:
    """`--option value` pairs of one `python ... train.py ARGS [| tee LOG]` line; flags map
    to "true". `--option=value` is accepted. Raises ValueError on a line shlex cannot split."""
    words = shlex.split(command, comments=True)
    start = next((i + 1 for i, w in enumerate(words) if w.endswith("train.py")), len(words))
    words = words[start:words.index("|") if "|" in words else len(words)]
    found, i = {}, 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and "=" in word:
            key, value = word.split("=", 1)
            found[key] = value
        elif word.startswith("--"):
            has_value = i + 1 < len(words) and not words[i + 1].startswith("--")
            found[word] = words[i + 1] if has_value else "true"
            i += has_value
        i += 1
    return found


def _train_commands(lines):
    return [l for l in lines if "train.py" in l and not l.lstrip().startswith("#")]


def tuned_settings(script: pathlib.Path) -> tuple[dict[str, str], str | None]:
    """(tuned option -> value, problem) of a source run script. A problem is returned when
    the tuned command is not inside a solution region with a starter line."""
    lines = script.read_text(encoding="utf-8").split("\n")
    inside, starters, within = [], [], False
    for line in lines:
        if SOLUTION_BEGIN in line:
            within = True
        elif SOLUTION_END in line:
            within = False
        elif within:
            if line.lstrip().startswith(STARTER_PREFIX):
                starters.append(line.split(STARTER_PREFIX, 1)[1])
            else:
                inside.append(line)
    commands = _train_commands(inside)
    if not commands or not starters:
        return {}, ("the train.py command is not in a solution region with a "
                    f"'{STARTER_PREFIX.strip()}' line: the release would ship the tuned settings")
    tuned = settings_of(commands[0])
    starter = settings_of(starters[0])
    return {k: v for k, v in tuned.items() if k != "--model" and starter.get(k) != v}, None


def reference_figures(thresholds: pathlib.Path) -> set[str]:
    """Text forms of the Part 2 reference accuracies (not of the thresholds)."""
    try:
        scales = json.loads(thresholds.read_text(encoding="utf-8"))["scales"]
    except (OSError, ValueError, KeyError):
        return set()
    forms, allowed = set(), set()
    for scale, entries in scales.items():
        for key, entry in entries.items():
            if not key.startswith(QUESTIONS):
                continue
            t = entry.get("threshold")
            if isinstance(t, (int, float)):
                allowed |= {f"{t:.2f}", f"{t:.3f}", f"{100 * t:.1f}", f"{100 * t:.1f}%"}
            values = [v for v in [entry.get("mean"), *entry.get("reference_runs", [])]
                      if isinstance(v, (int, float))]
            for v in values:
                forms |= {f"{v:.3f}", f"{v:.4f}", f"{100 * v:.1f}", f"{100 * v:.1f}%"}
            if scale == "full" and isinstance(entry.get("mean"), (int, float)):
                forms.add(f"{entry['mean']:.2f}")
    return forms - allowed


def design_words(source_part2: pathlib.Path) -> set[str]:
    """Words of the source models' solution regions that its public Part 2 text never uses."""
    secret, public = set(), set()
    for path in sorted(source_part2.rglob("*")):
        if not path.is_file() or path.suffix not in {".py", ".sh", ".md"}:
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        inside, outside = split_regions(lines, SOLUTION_BEGIN, SOLUTION_END)
        if path.parent.name == "models":
            secret |= {w.lower() for w in WORD.findall("\n".join(inside))}
        public |= {w.lower() for w in WORD.findall("\n".join(outside))}
    return secret - public


def _released_texts(release_part2: pathlib.Path):
    for path in sorted(release_part2.glob("run_*.sh")) + sorted(
            release_part2.glob("models/*.py")) + [release_part2 / "README.md"]:
        if path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")
    notebook = release_part2.parent / PART2_NOTEBOOK
    if notebook.is_file():
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        except ValueError:
            return
        yield notebook, "\n".join(c.get("source", "") if isinstance(c.get("source"), str)
                                  else "".join(c.get("source", [])) for c in cells)


def findings(release: pathlib.Path, source: pathlib.Path, hidden: pathlib.Path):
    """(kind, relative path, detail) for every challenge leak in release/2_pytorch."""
    release_part2, source_part2 = release / PART2, source / PART2
    if not release_part2.is_dir() or not source_part2.is_dir():
        return []
    found = []
    for script in sorted(source_part2.glob("run_*.sh")):
        tuned, problem = tuned_settings(script)
        rel = f"{PART2}/{script.name}"
        if problem:
            found.append(("tuned-settings", rel, f"source {script.name}: {problem}"))
            continue
        shipped = release_part2 / script.name
        if not shipped.is_file():
            continue
        for command in _train_commands(shipped.read_text(encoding="utf-8").split("\n")):
            try:
                released = settings_of(command)
            except ValueError:
                continue
            leaked = sorted(f"{k} {v}" for k, v in tuned.items() if released.get(k) == v)
            if leaked:
                found.append(("tuned-settings", rel, "carries the reference's tuned settings "
                              f"({', '.join(leaked)}); ship neutral starter settings"))
    figures = reference_figures(hidden / "thresholds.json")
    words = design_words(source_part2)
    for path, text in _released_texts(release_part2):
        rel = path.relative_to(release).as_posix()
        numbers = sorted({n for n in NUMBER.findall(text) if n in figures})
        if numbers:
            found.append(("reference-figures", rel, "states the reference's accuracies "
                          f"({', '.join(numbers[:5])}); only the staff threshold may ship"))
        used = sorted({w.lower() for w in WORD.findall(text)} & words)
        if used:
            found.append(("reference-design", rel, "describes the reference's design "
                          f"(words of its solution: {', '.join(used[:6])})"))
    return found
