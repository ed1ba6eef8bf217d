"""The package's layers import one way: content, then the nbgrader runtime, then class grading, then
the programs (README, "Layout"). Every import in every module counts, a function's own too."""
import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
LAYERS = ["autograde.content", "autograde.runtime", "autograde.grading", "autograde.demo", "autograde.grade_class"]
PROGRAMS = 3  # the last two are programs, on the same level


def layer(module):
    for rank, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return min(rank, PROGRAMS)
    raise AssertionError(f"{module} is in no layer: put it in one of {LAYERS}")


def module_name(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree, package):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing package
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            yield from ([f"{base}.{alias.name}" for alias in node.names] if base == "autograde" else [base])


MODULES = sorted((REPO / "autograde").rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_go_one_way(path):
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    own = layer(name) if name != "autograde" else None
    against = [target for target in imported(ast.parse(path.read_text()), package)
               if target.startswith("autograde.") and own is not None and layer(target) > own]
    assert not against, f"{name} (layer {LAYERS[own]}) imports from a later layer: {against}"


def test_the_check_sees_an_import_against_the_direction(tmp_path):
    tree = ast.parse("def f():\n    from autograde.grading.course import Course\n")
    assert [t for t in imported(tree, "autograde.content") if layer(t) > layer("autograde.content.solution")]


def test_students_helpers_import_nothing_of_the_grader():
    """Every module of the helper package, in the sources and in the release, imports nothing of
    ``autograde`` (its relative imports stay in the package)."""
    paths = [p for folder in ("source", "release") for p in (REPO / folder / "rnn").rglob("*.py")]
    assert {p.relative_to(REPO).as_posix() for p in paths} >= {"source/rnn/rnn_helpers/__init__.py",
                                                               "release/rnn/rnn_helpers/loading.py"}
    for path in paths:
        names = list(imported(ast.parse(path.read_text()), "rnn_helpers"))
        assert names and not [n for n in names if n.split(".")[0] == "autograde"], path
