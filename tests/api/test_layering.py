"""The library never imports the application: no module of bm25x outside the application
package (``bm25x.app``: the command, its stores, the service) and the framework adapters
(``bm25x.integrations``) imports either of them, at module level or inside a function, but for
one documented shim (:data:`SHIM`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from support import DEPRECATED_MODULES

import bm25x

PACKAGE = Path(bm25x.__file__).parent
TESTS = Path(__file__).parents[1]
APPLICATION = ("bm25x.app", "bm25x.integrations")
# The application's entry point (`python -m bm25x`): above the library, like the command.
ENTRY_POINTS = {"bm25x.__main__"}
# The one place the library may refer to the application: bm25x.errors' module __getattr__ gives
# StoreError and CorpusError (errors of the command, moved to bm25x.app.errors) with a
# DeprecationWarning, importing them only when they are asked for. (module, function, the only
# module that function may import from the application)
SHIM = ("bm25x.errors", "__getattr__", "bm25x.app.errors")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports (relative imports resolved), wherever the import is."""
    source = path.read_text(encoding="utf-8")
    return imports_in(source, module_name(path), is_package=path.name == "__init__.py")


def import_statements(source: str, name: str, *, is_package: bool) -> list[tuple[str, list[str]]]:
    """Each import of ``source`` (module ``name``), wherever it is, as (the module imported
    from, relative imports resolved, and the names it imports); ``import a.b`` is ``("a.b",
    [])``."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
    return found


def imports_in(source: str, name: str, *, is_package: bool) -> set[str]:
    """Every module (or name) ``source`` imports, the packages it imports from included."""
    found: set[str] = set()
    for base, names in import_statements(source, name, is_package=is_package):
        found.add(base)
        found.update(f"{base}.{n}" for n in names)
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


def without_shim(source: str) -> tuple[str, str]:
    """The source of :data:`SHIM`'s module without the shim function, and the function's."""
    tree = ast.parse(source)
    shim = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == SHIM[1]]
    assert len(shim) == 1, f"{SHIM[0]} has no module-level {SHIM[1]}"
    tree.body.remove(shim[0])
    return ast.unparse(tree), ast.unparse(shim[0])


def application_imports(name: str, path: Path) -> list[str]:
    """What library module ``name`` imports of the application, :data:`SHIM` left out."""
    source = path.read_text(encoding="utf-8")
    if name == SHIM[0]:
        source, _ = without_shim(source)
    found = imports_in(source, name, is_package=path.name == "__init__.py")
    return sorted(m for m in found if is_application(m))


def test_library_never_imports_the_application() -> None:
    library = library_modules()
    assert {"bm25x", "bm25x.qdrant", "bm25x._embed.run", "bm25x.providers.bm25"} <= set(library)
    assert not {"bm25x.app.cli", "bm25x.app.store", "bm25x.app.serve"} & set(library)
    offenders = {name: application_imports(name, path) for name, path in sorted(library.items())}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_one_shim_imports_only_the_applications_errors_and_only_when_asked() -> None:
    _, shim = without_shim((PACKAGE / "errors.py").read_text(encoding="utf-8"))
    bases = {base for base, _ in import_statements(shim, SHIM[0], is_package=False)}
    assert {b for b in bases if is_application(b)} == {SHIM[2]}
    # Importing the library (and asking bm25x.errors for a library error) loads no application
    # module; asking it for a moved error does, with a warning naming the new place.
    script = (
        "import sys, warnings\n"
        "import bm25x, bm25x.errors\n"
        "bm25x.errors.OptionError\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bm25x.app', 'bm25x.integ'))))\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    from bm25x.errors import StoreError\n"
        "import bm25x.app\n"
        "print(StoreError is bm25x.app.StoreError, [str(w.message) for w in seen])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert after.startswith("True ['bm25x.errors.StoreError is deprecated") and (
        "from bm25x.app import StoreError" in after
    )


def is_private_library(name: str) -> bool:
    """A private module of the library (``bm25x._native``, ``bm25x._embed.run``, ...)."""
    parts = name.split(".")
    return (
        parts[0] == "bm25x"
        and not is_application(name)
        and any(p.startswith("_") and not p.endswith("__") for p in parts[1:])
    )


def test_the_application_uses_the_librarys_public_surface() -> None:
    # The command, the service, backfill and the adapters reach the library through its public
    # names, and beyond them through one door made for them: bm25x.internals.
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    application = {n: p for n, p in modules.items() if is_application(n) or n in ENTRY_POINTS}
    assert {"bm25x.app.cli", "bm25x.app.store", "bm25x.integrations.fastembed"} <= set(application)
    offenders = {
        name: sorted(m for m in imported(path) if is_private_library(m))
        for name, path in sorted(application.items())
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    assert is_private_library("bm25x._native") and is_private_library("bm25x._embed.run")
    assert not is_private_library("bm25x.internals") and not is_private_library("bm25x.errors")


def test_the_check_sees_relative_and_nested_imports() -> None:
    source = "def f():\n    from ..app import cli\n    import bm25x.integrations.fastembed\n"
    found = imports_in(source, "bm25x.providers.probe", is_package=False)
    assert {"bm25x.app", "bm25x.app.cli", "bm25x.integrations.fastembed"} <= found
    assert is_application("bm25x.app.cli") and not is_application("bm25x.application")


# -- no import cycles ---------------------------------------------------------------------------

# Cycles known and left for their owners (issue 21: "one way to do each thing"), each with why
# it is not broken here. A cycle not listed fails the test; a listed one that is gone fails it
# too, so the list only shrinks.
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def all_modules() -> dict[str, Path]:
    """Every module of bm25x, the compiled extension (``_native``, by its stub) included."""
    return {module_name(p): p for p in [*PACKAGE.rglob("*.pyi"), *PACKAGE.rglob("*.py")]}


def imported_names(source: str, name: str, *, is_package: bool) -> set[str]:
    """What ``source`` imports, wherever the import is: ``import a.b`` gives ``a.b``; ``from
    a import b`` gives ``a.b`` only (the package ``a`` counts when ``b`` is not a module)."""
    found: set[str] = set()
    for base, names in import_statements(source, name, is_package=is_package):
        found.update([f"{base}.{n}" for n in names] if names else [base])
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Each bm25x module -> the bm25x modules it imports, at module level or inside a function
    (an imported name that is not a module counts as its module)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if path.suffix == ".pyi":  # compiled: imports nothing of bm25x
            graph[name] = set()
            continue
        source = path.read_text(encoding="utf-8")
        targets: set[str] = set()
        for found in imported_names(source, name, is_package=path.name == "__init__.py"):
            while found and found not in modules:
                found = found.rpartition(".")[0]
            if found and found != name:
                targets.add(found)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: set[str] = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_among_bm25x_modules() -> None:
    graph = import_graph(all_modules())
    assert "bm25x._qdrant_core" in graph["bm25x.qdrant"]
    assert "bm25x.qdrant" not in graph["bm25x._qdrant_async"]
    found = cycles(graph)
    assert {c: sorted(c) for c in found - KNOWN_CYCLES.keys()} == {}
    assert KNOWN_CYCLES.keys() - found == set(), "a listed cycle is gone: drop it from the list"


def test_the_cycle_check_sees_a_cycle_through_a_function_import() -> None:
    a = imported_names("from bm25x import b\n", "bm25x.a", is_package=False)
    b = imported_names("def f():\n    from .a import x\n", "bm25x.b", is_package=False)
    assert (a, b) == ({"bm25x.b"}, {"bm25x.a.x"})
    assert cycles({"bm25x.a": {"bm25x.b"}, "bm25x.b": {"bm25x.a"}}) == {
        frozenset({"bm25x.a", "bm25x.b"})
    }
    assert cycles({"bm25x.a": {"bm25x.b"}, "bm25x.b": set()}) == set()


# -- deprecated module names --------------------------------------------------------------------


def deprecated_imports(source: str) -> set[str]:
    """The deprecated modules (support.DEPRECATED_MODULES) ``source`` imports, wherever."""
    found = imported_names(source, "probe", is_package=False)
    return {old for old in DEPRECATED_MODULES for f in found if f == old or f.startswith(old + ".")}


def test_nothing_in_bm25x_or_its_tests_imports_a_deprecated_module_name() -> None:
    # The old names are kept for code outside bm25x; bm25x itself uses the new ones.
    aliases = {p for p in PACKAGE.rglob("*.py") if module_name(p) in DEPRECATED_MODULES}
    assert {module_name(p) for p in aliases} == DEPRECATED_MODULES.keys()
    files = [*PACKAGE.rglob("*.py"), *TESTS.rglob("*.py")]
    offenders = {
        str(path): sorted(found)
        for path in files
        if path not in aliases and (found := deprecated_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_deprecated_import_check_sees_each_form() -> None:
    for source in (
        "import bm25x.providers.fastembed\n",
        "from bm25x.providers.fastembed import FastembedProvider\n",
        "def f():\n    from bm25x.providers import fastembed\n",
    ):
        assert deprecated_imports(source) == {"bm25x.providers.fastembed"}, source
    assert deprecated_imports("from bm25x.integrations import fastembed\n") == set()


# -- the wheel ships no test machinery ----------------------------------------------------------

# Modules of bm25x.app that no module of bm25x imports, each with why the wheel carries it. A
# module used by tests alone belongs in tests/support; the list only shrinks.
UNIMPORTED_APPLICATION_MODULES: dict[str, str] = {
    "bm25x.app.bench_table": "the README's performance section from a bench report, for "
    "benches/perf_table.py (a maintainer's tool, not the command)",
}


def names_used(tree: ast.AST) -> set[str]:
    """Every name ``tree`` reads, calls, subclasses, imports or reaches as an attribute."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name.rpartition(".")[2])
    return found


def top_level_names(tree: ast.Module) -> set[str]:
    """The functions, classes and variables a module defines at its top level."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Assign):
            found.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
    return found


def test_the_application_defines_nothing_only_tests_use() -> None:
    # Test machinery (a stand-in server, a fake) in bm25x.app would ship in the wheel: every
    # module of bm25x.app is imported by bm25x, and every name it defines is used by bm25x.
    modules = {n: p for n, p in all_modules().items() if p.suffix == ".py"}
    imported = set().union(*import_graph(all_modules()).values())
    application = {n: p for n, p in modules.items() if n.startswith("bm25x.app")}
    unimported = {n for n, p in application.items() if p.name != "__init__.py"} - imported
    assert unimported == set(UNIMPORTED_APPLICATION_MODULES)
    trees: dict[str, ast.Module] = {
        n: ast.parse(p.read_text(encoding="utf-8")) for n, p in modules.items()
    }
    used = set().union(*(names_used(tree) for tree in trees.values()))
    unused = {
        f"{n}.{name}"
        for n in application
        for name in top_level_names(trees[n])
        if not name.startswith("__") and name not in used
    }
    assert unused == set()
