"""End to end: real nbgrader autogrades the release filled with the solution, left blank,
with each catalogue mistake injected, and with each alternative correct answer."""
import pytest

from autograde import mistakes, notebooks
from tests.conftest import plan, REPO
from autograde.course import Course

CASES = plan(Course(REPO))


def lost(scores):
    """{notebook: sorted grade ids that scored less than their maximum}."""
    return {nb: sorted(g for g, (score, most) in cells.items() if score < most) for nb, cells in scores.items()}


def outputs_text(autograded_folder, notebook, grade_id):
    """Everything a graded cell printed or raised, as the student's feedback shows it."""
    nb = notebooks.read(autograded_folder / f"{notebook}.ipynb")
    for cell in nb.cells:
        if notebooks.grade_id(cell) == grade_id:
            return "\n".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
    raise KeyError(grade_id)


def test_solution_scores_full_marks(graded):  # grades the student "solution"
    _, scores, _ = graded["solution"]
    assert set(scores) == set(Course(REPO).notebook_names())
    assert lost(scores) == {nb: [] for nb in scores}
    assert all(most > 0 for cells in scores.values() for _, most in cells.values())


def test_blank_release_scores_zero(graded):
    _, scores, _ = graded["blank"]
    assert all(score == 0 for cells in scores.values() for score, _ in cells.values()), scores


@pytest.mark.parametrize("case", [c for c in CASES if c.mistake], ids=lambda c: c.student)
def test_mistake_loses_exactly_its_checks_and_is_named(graded, case):
    entry = case.mistake
    _, scores, folder = graded[case.student]
    expected = {nb: sorted(entry.breaks) if nb == entry.notebook else [] for nb in case.notebooks}
    assert lost(scores) == expected
    messages = [outputs_text(folder, entry.notebook, g) for g in sorted(entry.breaks)]
    assert any(entry.explain in m for m in messages), f"no failing check names {entry.id}:\n" + "\n".join(messages)


@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c.blank, list)], ids=lambda c: c.student)
def test_blank_earlier_notebooks_cost_no_points_here(graded, case):
    """A student who did only this notebook keeps its full marks: the hidden checks grade each
    function with reference parts, and the visible checks that need an unwritten earlier
    function are skipped with a note (they still run, and fail, while this one is unwritten)."""
    _, scores, folder = graded[case.student]
    assert lost(scores) == {nb: [] for nb in case.notebooks}


@pytest.mark.parametrize("case", [c for c in CASES if c.replace and not c.mistake], ids=lambda c: c.student)
def test_alternative_correct_answer_keeps_full_marks(graded, case):
    _, scores, _ = graded[case.student]
    assert lost(scores) == {nb: [] for nb in case.notebooks}


def test_every_mistake_breaks_only_grade_cells_that_exist():
    for entry in mistakes.all_mistakes():
        nb = notebooks.read(REPO / "source" / "rnn" / f"{entry.notebook}.ipynb")
        test_ids = {notebooks.grade_id(c) for c in nb.cells if notebooks.is_test(c)}
        answer_ids = {notebooks.grade_id(c) for c in nb.cells if notebooks.is_answer(c)}
        assert entry.breaks and entry.breaks <= test_ids, (entry.id, entry.breaks - test_ids)
        assert entry.function in answer_ids, (entry.id, entry.function)
