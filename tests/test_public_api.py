"""src/ uses Textual's and Rich's public API only: no `textual._x`/`rich._x` import, no
`obj._name` that is not a name of our own, and no method or attribute of ours that
overrides a private one of a Textual or Rich base class.

A private name can change its meaning in any release without an error (a cache served
stale lines after an upgrade would look like a working app); these tests make the one
place where that could happen visible as a failure.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
FOREIGN = ("textual", "rich")


def _modules(src: Path) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(src.rglob("*.py"))]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def own_private_names(modules: list[tuple[Path, ast.Module]]) -> set[str]:
    """Every private name src/ defines: functions, classes, assigned names and attributes,
    imported aliases."""
    names: set[str] = set()
    for _path, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[0])
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return {name for name in names if _private(name)}


def _uses_foreign(tree: ast.Module) -> bool:
    """Whether a module imports Textual or Rich (only there can `._name` be theirs)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FOREIGN:
            return True
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] in FOREIGN for alias in node.names
        ):
            return True
    return False


def private_uses(src: Path) -> list[str]:
    """`file:line: what` for each private Textual/Rich import, and each `._name` that src/
    does not define itself in a module that imports Textual or Rich."""
    modules = _modules(src)
    own = own_private_names(modules)
    found = []
    for path, tree in modules:
        where = path.relative_to(src)
        foreign = _uses_foreign(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] in FOREIGN and any(_private(part) for part in parts):
                    found.append(f"{where}:{node.lineno}: from {node.module} import")
                if parts[0] in FOREIGN:
                    found += [
                        f"{where}:{node.lineno}: from {node.module} import {alias.name}"
                        for alias in node.names
                        if _private(alias.name)
                    ]
            elif isinstance(node, ast.Import):
                found += [
                    f"{where}:{node.lineno}: import {alias.name}"
                    for alias in node.names
                    if alias.name.split(".")[0] in FOREIGN
                    and any(_private(part) for part in alias.name.split("."))
                ]
            elif (
                foreign
                and isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr not in own
            ):
                found.append(f"{where}:{node.lineno}: .{node.attr}")
    return found


def test_src_reaches_no_private_textual_or_rich_name() -> None:
    assert private_uses(SRC) == []


def test_the_check_finds_what_the_ui_used_to_reach_into(tmp_path: Path) -> None:
    # What the UI did before issue 15, each in a line of its own.
    (tmp_path / "ui.py").write_text(
        "from textual._styles_cache import StylesCache\n"
        "from rich._wrap import divide_line\n"
        "import textual._compositor\n"
        "class Table:\n"
        "    def own(self):\n"
        "        self._mine = 1\n"
        "        return self._mine\n"
        "    def key(self, app):\n"
        "        return self._bindings.key_to_bindings, app._keymap\n"
    )
    assert sorted(private_uses(tmp_path)) == [
        "ui.py:1: from textual._styles_cache import",
        "ui.py:2: from rich._wrap import",
        "ui.py:3: import textual._compositor",
        "ui.py:9: ._bindings",
        "ui.py:9: ._keymap",
    ]


def _foreign_bases(cls: type) -> list[type]:
    return [base for base in cls.__mro__[1:] if base.__module__.split(".")[0] in FOREIGN]


def test_no_class_of_ours_overrides_a_private_name_of_its_textual_base() -> None:
    """A private method or attribute of ours with the name of one in a Textual base
    (`_render_line`, `_set_hover_cursor`, `_line_cache`) would replace Textual's own."""
    clashes = []
    for path in sorted((SRC / "koordinator" / "tui").rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        module = importlib.import_module(name.removesuffix(".__init__"))
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            bases = _foreign_bases(cls)
            if not bases:
                continue
            source = ast.parse(inspect.getsource(cls))
            defined = {
                node.name
                for node in ast.walk(source)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            } | {
                node.attr
                for node in ast.walk(source)
                if isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            }
            for attribute in filter(_private, defined):
                for base in bases:
                    if hasattr(base, attribute) or re.search(
                        rf"self\.{attribute}\b", inspect.getsource(base)
                    ):
                        clashes.append(f"{cls.__name__}.{attribute} ({base.__qualname__})")
    assert not clashes, clashes
