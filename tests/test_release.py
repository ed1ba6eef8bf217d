"""The release is generated, complete, in sync with the sources and leaks nothing."""
import ast
import concurrent.futures
import filecmp
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

from autograde.content import notebooks
from autograde.grading.course import Course
from tests.conftest import REPO

RELEASE = REPO / "release" / "rnn"
SOURCE = REPO / "source" / "rnn"


def files(folder):
    """The paths of the files of an assignment folder, relative to it (the helper package's included),
    without the bytecode Python writes beside an imported module."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def release_files():
    return [RELEASE / p for p in files(RELEASE)]


def test_release_has_every_source_file():
    assert files(RELEASE) == [p for p in files(SOURCE) if ".ipynb_checkpoints" not in p.parts]
    assert pathlib.Path("rnn_helpers", "__init__.py") in files(RELEASE)


def solution_code_lines():
    """The statements of the solution module's functions (docstrings excluded), line by line."""
    module = (REPO / "autograde" / "content" / "solution.py").read_text()
    lines = set()
    for node in ast.walk(ast.parse(module)):
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            for statement in body:
                lines |= {l.strip() for l in ast.get_source_segment(module, statement).splitlines()}
    graded = {node.name for node in ast.parse(module).body if isinstance(node, ast.FunctionDef)}
    # Unpacking the spec's cache form, or calling a graded function with plain names (using the
    # course's API, as later notebooks do), is not an answer.
    def interface(line):
        call = re.match(r"^[\w, ]+ = (\w+)\([\w, ]*\)$", line)
        return re.match(r"^[\w, ]+ = cache$", line) or (call and call.group(1) in graded)
    return {line for line in lines if len(line) >= 25 and not line.startswith("#") and not interface(line)}


def test_release_leaks_no_solution_hidden_test_or_grader():
    solution_lines = solution_code_lines()
    assert len(solution_lines) > 20
    for path in release_files():
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marker not in text, f"{path.name} contains {marker}"
        assert not re.search(r"(import|from)\s+autograde", text), f"{path.name} imports the grader"
        leaked = [line for line in solution_lines if line in text]
        assert not leaked, f"{path.name} contains lines of the solution module: {leaked[:3]}"


@pytest.mark.slow  # runs nbgrader generate_assignment
def test_release_is_what_generate_assignment_makes_from_source(tmp_path):
    course = Course.copy_of(REPO, tmp_path)
    bytecode = course.folder("source") / "rnn_helpers" / "__pycache__"
    bytecode.mkdir()
    (bytecode / "loading.cpython-311.pyc").write_bytes(b"written when the sources were imported")
    course.generate()
    fresh = course.folder("release")
    assert not list(fresh.rglob("__pycache__")), "nbgrader copied bytecode into the release"
    assert files(fresh) == files(RELEASE)
    for relative in files(RELEASE):
        if relative.suffix == ".ipynb":
            assert json.loads((fresh / relative).read_text()) == json.loads((RELEASE / relative).read_text()), \
                f"release/rnn/{relative} is out of date: run `nbgrader generate_assignment rnn --force`"
        else:
            assert filecmp.cmp(fresh / relative, RELEASE / relative, shallow=False), \
                f"release/rnn/{relative} is out of date"


@pytest.mark.parametrize("path", notebooks.notebook_paths(SOURCE), ids=lambda p: p.stem)
def test_source_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}
    for cell in nb["cells"]:
        assert set(cell.get("metadata", {})) <= {"nbgrader", "tags"}
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", notebooks.notebook_paths(SOURCE), ids=lambda p: p.stem)
def test_every_answer_has_tests_and_every_test_a_hidden_check(path):
    nb = notebooks.read(path)
    tests = [c for c in nb.cells if notebooks.is_test(c)]
    assert tests and all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    assert all(re.search(r"^\s*assert ", c.source.split("### END HIDDEN TESTS")[1], re.M) for c in tests), \
        "every test cell keeps at least one visible assert a student can run"
    for cell in nb.cells:
        if notebooks.is_answer(cell):
            assert "### BEGIN SOLUTION" in cell.source, notebooks.grade_id(cell)
            assert any(notebooks.grade_id(cell) in t.source for t in tests), f"no test calls {notebooks.grade_id(cell)}"


def _validate(path, invert):
    # two validations run at once: Unix sockets in a folder of each one's own, not TCP ports (or socket
    # files in the shared working directory) that two kernels could race for
    with tempfile.TemporaryDirectory() as sockets:
        args = [sys.executable, "-m", "nbgrader", "validate", str(path), "--KernelManager.transport=ipc",
                f"--KernelManager.ip={sockets}/kernel"] + (["--invert"] if invert else [])
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    return done.stdout if done.returncode == 0 else f"{done.stdout}\n(exit {done.returncode})\n{done.stderr[-3000:]}"


@pytest.mark.slow  # executes every notebook, twice
def test_nbgrader_validate_passes_on_sources_and_invert_fails_every_test_of_releases():
    jobs = [(p, False) for p in notebooks.notebook_paths(SOURCE)] + [(p, True) for p in notebooks.notebook_paths(RELEASE)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outputs = list(pool.map(lambda job: _validate(*job), jobs))
    for (path, invert), out in zip(jobs, outputs):
        expected = "Success! The notebook does not pass any tests." if invert else "Success! Your notebook passes all the tests."
        assert expected in out, f"validate {'--invert ' if invert else ''}{path.relative_to(REPO)}:\n{out}"
