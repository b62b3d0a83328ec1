"""The library never imports the application: no module of bm25x outside the application
package (``bm25x.app``: the command, its stores, the service) and the framework adapters
(``bm25x.integrations``) imports either of them, at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import bm25x

PACKAGE = Path(bm25x.__file__).parent
APPLICATION = ("bm25x.app", "bm25x.integrations")
# The application's entry point (`python -m bm25x`): above the library, like the command.
ENTRY_POINTS = {"bm25x.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports (relative imports resolved), wherever the import is."""
    source = path.read_text(encoding="utf-8")
    return imports_in(source, module_name(path), is_package=path.name == "__init__.py")


def imports_in(source: str, name: str, *, is_package: bool) -> set[str]:
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def is_application(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in APPLICATION)


def library_modules() -> dict[str, Path]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: path
        for name, path in modules.items()
        if not is_application(name) and name not in ENTRY_POINTS
    }


def test_library_never_imports_the_application() -> None:
    library = library_modules()
    assert {"bm25x", "bm25x.qdrant", "bm25x._embed.run", "bm25x.providers.bm25"} <= set(library)
    assert not {"bm25x.app.cli", "bm25x.app.store", "bm25x.app.serve"} & set(library)
    offenders = {
        name: sorted(m for m in imported(path) if is_application(m))
        for name, path in sorted(library.items())
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_sees_relative_and_nested_imports() -> None:
    source = "def f():\n    from ..app import cli\n    import bm25x.integrations.fastembed\n"
    found = imports_in(source, "bm25x.providers.probe", is_package=False)
    assert {"bm25x.app", "bm25x.app.cli", "bm25x.integrations.fastembed"} <= found
    assert is_application("bm25x.app.cli") and not is_application("bm25x.application")
