"""Normalise release notebooks so that two builds of the same source are byte-identical:
fixed notebook metadata, stable cell ids, no outputs, one JSON layout."""
import pathlib
import re

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_ID_OK = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC),
                                      "language_info": {"name": "python"}})
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen = set()
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell_id = cell.get("id")
        if not (cell_id and _ID_OK.match(cell_id)) or cell_id in seen:
            cell_id = grade_id if grade_id and _ID_OK.match(grade_id) else f"cell-{index:03d}"
        while cell_id in seen:
            cell_id = f"{cell_id[:56]}-{index:03d}"
        seen.add(cell_id)
        cell["id"] = cell_id
        for key in ("collapsed", "scrolled", "execution", "ExecuteTime", "jupyter"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def write(nb: nbformat.NotebookNode, path: pathlib.Path) -> None:
    text = nbformat.writes(nb, version=4)  # sorted keys, indent 1
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def normalise_tree(root: pathlib.Path) -> list[str]:
    done = []
    for path in sorted(root.rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        path.chmod(0o644)
        write(normalise(nb), path)
        done.append(path.relative_to(root).as_posix())
    return done
