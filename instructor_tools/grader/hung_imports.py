"""Which module of a submission would import one whose import hung (a loop or input() at
import time, outside any function): found by reading the submission's files as text with
ast, never by running them, so that a check calling into it fails at once
(outcomes.ImportHung) instead of costing one more timeout."""
from __future__ import annotations

import ast
import pathlib


def hung_dependency(module: str, hung: set, paths: list, limit: int = 200) -> str | None:
    """The module of `hung` that importing `module` would import (itself, its packages, or
    what their files import), if any. `paths`: the folders imports are looked up in (the
    worker's sys.path entries for the submission); at most `limit` modules are read."""
    if not hung or not module:
        return None
    todo, seen = [module], set()
    while todo and len(seen) < limit:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):      # a module imports its packages first
            prefix = ".".join(parts[:k])
            if prefix in hung:
                return prefix
            if prefix in seen:
                continue
            seen.add(prefix)
            source = module_file(prefix, paths)
            if source is None:
                continue
            try:
                tree = ast.parse(source.read_bytes())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    todo.extend(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        pkg = prefix.split(".")[:len(prefix.split(".")) - node.level + (
                            source.name == "__init__.py")]
                        base = ".".join(pkg + ([base] if base else []))
                    todo.append(base)
                    todo.extend(f"{base}.{a.name}" for a in node.names)
    return None


def module_file(name: str, paths: list) -> pathlib.Path | None:
    """The file of module `name` (a .py file or a package's __init__.py) under `paths`."""
    rel = pathlib.Path(*name.split("."))
    for root in paths:
        for candidate in (pathlib.Path(root) / rel.with_suffix(".py"),
                          pathlib.Path(root) / rel / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None
