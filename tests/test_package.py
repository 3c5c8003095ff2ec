"""The package as a user first meets it: what `import numpynn` loads and exposes."""
import subprocess
import sys

import numpynn

HEAVY = ("matplotlib", "sklearn", "tqdm", "torch")


def test_import_loads_no_heavy_dependency_and_exposes_submodules():
    code = ("import sys, numpynn\n"
            "mods = [numpynn.functional, numpynn.optim, numpynn.gradcheck, numpynn.data,\n"
            "        numpynn.autograd, numpynn.Linear, numpynn.Sequential, numpynn.Trainer]\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in numpynn.__all__:
        assert getattr(numpynn, name) is not None, name
    assert numpynn.descent.__module__ == "numpynn.course.descent"  # the function, not a module


# -- the layout: the architecture as `ls numpynn/` shows it ------------------------------------
import ast
from pathlib import Path

PACKAGE = Path(numpynn.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every numpynn module that ``path`` imports, at the top or inside a function."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != here}


def test_at_most_16_modules_sit_flat_in_the_package():
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(flat) <= 16, flat


def test_no_two_modules_import_each_other_even_inside_functions():
    graph = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}
    cycles = []

    def visit(node, path, on_path):
        for nxt in sorted(graph.get(node, ())):
            # a package's __init__ re-exporting its own submodules is not a cycle
            if nxt in on_path and not (nxt.startswith(node + ".") or node.startswith(nxt + ".")):
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in seen:
                seen.add(nxt)
                visit(nxt, path + [nxt], on_path | {nxt})

    for start in sorted(graph):
        seen = {start}
        visit(start, [start], {start})
    assert not cycles, cycles[:5]


def test_nothing_inside_the_package_imports_torch():
    users = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             if any(name == "torch" or name.startswith("torch.")
                    for node in ast.walk(ast.parse(p.read_text()))
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    for name in ([a.name for a in node.names] if isinstance(node, ast.Import)
                                 else [node.module or ""]))]
    assert users == []
