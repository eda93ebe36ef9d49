"""Strip solution regions from the .py/.pyx/.sh files of the release with nbgrader's own
`ClearSolutions` line semantics: a line *containing* the begin delimiter starts a region, a line
containing the end delimiter closes it, and the region becomes the stub, indented like the
begin line.

A shell script's region may name its own release text instead of the stub: lines inside it
that start with `# starter: ` become, without that prefix, what the release holds (a run
script ships neutral starter settings while the source keeps the tuned command)."""
import pathlib

from nbformat.v4 import new_code_cell
from nbgrader.preprocessors import ClearSolutions

from .course import config as course_config

BEGIN = ClearSolutions.begin_solution_delimeter.default_value
END = ClearSolutions.end_solution_delimeter.default_value

SHELL_STUB = (
    "# YOUR CODE HERE\n"
    'echo "$0: this part is yours to write (see the comments above)" >&2\n'
    "exit 1"
)
STUBS = {
    ".py": course_config.CODE_STUB_PYTHON,
    ".pyx": course_config.CODE_STUB_PYTHON,
    ".sh": SHELL_STUB,
}


STARTER_PREFIX = "# starter: "


def _starter_regions(text: str) -> str:
    """Replace every .sh region that holds `# starter: ` lines by those lines, unprefixed."""
    out, region, within = [], [], False
    for line in text.split("\n"):
        if BEGIN in line and not within:
            within, region = True, [line]
        elif within and END in line:
            within = False
            starters = [l.split(STARTER_PREFIX, 1)[1] for l in region
                        if l.lstrip().startswith(STARTER_PREFIX)]
            nested = any(BEGIN in l for l in region[1:])  # left for nbgrader to reject
            out += starters if starters and not nested else region + [line]
        elif within:
            region.append(line)
        else:
            out.append(line)
    return "\n".join(out + (region if within else []))


class StripError(Exception):
    """A solution region that cannot be stripped (nested or never closed)."""


def strip_text(text: str, suffix: str, name: str = "<text>") -> tuple[str, int]:
    """Return (text without its solution regions, number of regions replaced)."""
    stub = STUBS[suffix]
    regions = sum(BEGIN in line for line in text.split("\n"))
    if suffix == ".sh":
        text = _starter_regions(text)
    clearer = ClearSolutions(code_stub={"python": stub},
                             begin_solution_delimeter=BEGIN, end_solution_delimeter=END)
    cell = new_code_cell(text)
    try:
        clearer._replace_solution_region(cell, "python")
    except RuntimeError as err:
        raise StripError(f"{name}: {err} (check its solution markers)") from None
    return cell.source, regions


def strip_tree(root: pathlib.Path) -> dict[str, int]:
    """Strip every strippable file under `root` in place; return {relative path: regions}."""
    stripped = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in STUBS:
            continue
        text = path.read_text(encoding="utf-8")
        if BEGIN not in text and END not in text:
            continue
        new_text, regions = strip_text(text, path.suffix, str(path.relative_to(root)))
        path.chmod(0o644)
        path.write_text(new_text, encoding="utf-8")
        stripped[path.relative_to(root).as_posix()] = regions
    return stripped
