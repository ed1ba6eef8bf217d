"""The visible tests catch the course's own bugs before a student submits, and the hidden checks
grade each catalogue mistake as it declares, both run in this process.

Every catalogue mistake fails at least one visible assert of its own function's test cells, and
the solution and every alternative correct answer pass them all. The visible parts run here as a
student runs them (no hidden block, no solution module), in one Python namespace per notebook:
its setup cells, its answer cells, then the visible part of each test cell of the function.
Every catalogue mistake also fails exactly the hidden checks it declares (``Mistake.breaks``), each
naming it, of all the notebook's test cells, run in the same namespace as the grader runs them in a
kernel (``GradedExecute.judge_in_grader = False``); ``tests/test_grading.py`` proves the same through
nbgrader, which is slow.
"""
import contextlib
import functools
import io
import os
import re
import sys

import matplotlib
import pytest

from autograde.content import mistakes, notebooks
from autograde.runtime.judge.execute import split_hidden
from tests.alternatives import all_alternatives
from tests.conftest import REPO, fresh_helpers

matplotlib.use("Agg")
FOLDER = REPO / "source" / "rnn"


def visible_results(notebook, function, code=None, hidden=False):
    """{grade id of each test cell of ``function``: None if its visible part passed, else the error},
    with ``code`` (or the solution) in ``function``'s answer cell and the solution in the others; with
    ``hidden``, the hidden check of every test cell of the notebook instead."""
    nb = notebooks.read(FOLDER / f"{notebook}.ipynb")
    functions = [notebooks.grade_id(c) for c in nb.cells if notebooks.is_answer(c)]
    namespace = {"__name__": "__main__"}
    results = {}
    fresh_helpers(FOLDER)  # as in a new kernel (the package keeps state)
    sys.path.insert(0, str(FOLDER))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for cell in nb.cells:
                grade_id = notebooks.grade_id(cell)
                if notebooks.is_answer(cell):
                    source = code if grade_id == function and code else notebooks.without_markers(cell.source)
                elif "setup" in cell.metadata.get("tags", []):
                    source = cell.source
                elif notebooks.is_test(cell) and (hidden or notebooks.function_of(grade_id, functions) == function):
                    source = split_hidden(cell.source)[0 if hidden else 1]
                else:
                    continue
                try:
                    exec(compile(source, f"<{notebook} {grade_id}>", "exec"), namespace)
                    outcome = None
                except Exception as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                if notebooks.is_test(cell):
                    results[grade_id] = outcome
                elif outcome and not notebooks.is_answer(cell):
                    raise AssertionError(f"setup cell of {notebook} failed: {outcome}")
    finally:
        sys.path.remove(str(FOLDER))
    return results


@pytest.fixture(autouse=True)
def _student_view(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.chdir(FOLDER)


@functools.lru_cache(maxsize=None)
def entry_results(entry_id, hidden=False):
    """visible_results with the catalogue entry in its function's answer cell (computed once)."""
    entry = mistakes.get(entry_id)
    return visible_results(entry.notebook, entry.function, entry.source(), hidden)


@pytest.mark.parametrize("entry", mistakes.all_mistakes(), ids=lambda e: e.id)
def test_each_mistake_fails_a_visible_test_of_its_own_function(entry):
    results = entry_results(entry.id)
    assert results, f"{entry.function} has no test cells in {entry.notebook}"
    assert any(results.values()), (f"{entry.id} passes every visible test of {entry.function} "
                                   f"({', '.join(results)}): a student would not see it before submitting")


@pytest.mark.parametrize("entry", mistakes.all_mistakes(), ids=lambda e: e.id)
def test_each_mistake_fails_exactly_the_hidden_checks_it_declares(entry):
    results = entry_results(entry.id, hidden=True)
    assert sorted(g for g, error in results.items() if error) == sorted(entry.breaks), results
    unnamed = [g for g in entry.breaks if entry.explain not in results[g]]
    assert len(unnamed) < len(entry.breaks), f"no failing hidden check names {entry.id}: {results}"


def test_the_solution_passes_every_hidden_check():
    for notebook in sorted(p.stem for p in FOLDER.glob("*.ipynb")):
        results = visible_results(notebook, None, hidden=True)
        assert results and not any(results.values()), {g: e for g, e in results.items() if e}


# what a failed numerical check of 08's backward pass says before its diagnosis
GRADIENT_CHECK = re.compile(r"AssertionError: \w+ is not the gradient of the (step|sequence): relative error \S+\. ")


@pytest.mark.parametrize("function", ["lstm_step_backward", "lstm_backward"])
def test_the_lstm_gradient_checks_name_each_mistake(function):
    """The numerical checks of 08's backward pass say which catalogue mistake they see: each entry's
    failed checks carry one diagnosis after the relative error, and no two entries share it."""
    said = {}
    for entry in mistakes.for_function(function):
        failures = [message for message in entry_results(entry.id).values()
                    if message and GRADIENT_CHECK.match(message)]
        diagnoses = {GRADIENT_CHECK.sub("", message) for message in failures}
        assert len(diagnoses) == 1 and "" not in diagnoses, f"{entry.id}: {failures}"
        said[entry.id] = diagnoses.pop()
    shared = {d: [e for e, other in said.items() if other == d] for d in said.values()}
    assert len(shared) == len(said), {d: ids for d, ids in shared.items() if len(ids) > 1}


@pytest.mark.parametrize("notebook", sorted(p.stem for p in FOLDER.glob("*.ipynb")))
def test_the_solution_passes_every_visible_test(notebook):
    nb = notebooks.read(FOLDER / f"{notebook}.ipynb")
    for function in [notebooks.grade_id(c) for c in nb.cells if notebooks.is_answer(c)]:
        failed = {g: e for g, e in visible_results(notebook, function).items() if e}
        assert not failed, failed


@pytest.mark.parametrize("alternative", all_alternatives(), ids=lambda a: f"{a[1]}__{a[2]}")
def test_alternatives_pass_every_visible_test(alternative):
    notebook, function, _, fn = alternative
    failed = {g: e for g, e in visible_results(notebook, function, notebooks.function_source(fn, function)).items() if e}
    assert not failed, failed


def test_the_check_runs_the_visible_part_only():
    """split_hidden keeps the student's part: a visible part that fails is seen failing here."""
    assert split_hidden("### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS\nassert False\n")[1] == "assert False\n"
    assert os.environ.get("NBGRADER_EXECUTION") is None
