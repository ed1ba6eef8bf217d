"""End to end: real nbgrader autogrades the release filled with the solution, left blank, written
in each style, with the catalogue's mistakes injected, and with alternative correct answers.

The rule under test: the points of a grade cell depend only on the logic of the function that
cell grades. A mistake loses exactly the cells its catalogue entry declares, all of them cells of
its own function, whether the student's other functions call their own parts by name or compute
everything themselves; correct code keeps full marks, also when it warns or writes to stderr."""
import pytest

from autograde.content import mistakes, notebooks
from autograde.grading.course import Course
from tests.conftest import REPO, graded_functions, grades_submissions, plan

COURSE = Course(REPO)
CASES = plan(COURSE)
FUNCTIONS = graded_functions(COURSE)


def lost(scores):
    """{notebook: sorted grade ids that scored less than their maximum}."""
    return {nb: sorted(g for g, (score, most) in cells.items() if score < most) for nb, cells in scores.items()}


def owner(notebook, grade_id):
    """The graded function of ``notebook`` that a test cell grades."""
    return notebooks.function_of(grade_id, [f for f, (nb, _) in FUNCTIONS.items() if nb == notebook])


def outputs_text(autograded_folder, notebook, grade_id):
    """Everything a graded cell printed or raised, as the student's feedback shows it."""
    nb = notebooks.read(autograded_folder / f"{notebook}.ipynb")
    for cell in nb.cells:
        if notebooks.grade_id(cell) == grade_id:
            return "\n".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
    raise KeyError(grade_id)


@grades_submissions
def test_solution_scores_full_marks(graded):  # grades the student "solution"
    _, scores, _ = graded["solution"]
    assert set(scores) == set(COURSE.notebook_names())
    assert lost(scores) == {nb: [] for nb in scores}
    assert all(most > 0 for cells in scores.values() for _, most in cells.values())


@grades_submissions
def test_blank_release_scores_zero(graded):
    _, scores, _ = graded["blank"]
    assert all(score == 0 for cells in scores.values() for score, _ in cells.values()), scores


@grades_submissions
@pytest.mark.parametrize("case", [c for c in CASES if c.student.startswith("correct-")], ids=lambda c: c.student)
def test_correct_code_in_every_style_scores_full_marks(graded, case):
    """Self-contained composites, and answers that warn, print to stderr and overflow on every call."""
    _, scores, folder = graded[case.student]
    assert lost(scores) == {nb: [] for nb in case.notebooks}
    if case.style == "noisy":  # the student still reads what their code wrote
        assert "softmax: a harmless warning" in outputs_text(folder, "02_batched_softmax", "test_softmax_shape")


@grades_submissions
@pytest.mark.parametrize("case", [c for c in CASES if c.mistakes], ids=lambda c: c.student)
def test_a_round_of_mistakes_loses_exactly_their_cells(graded, case):
    """Each round injects entries of unrelated functions; by the rule it loses the union of their
    cells and nothing else (a cell lost elsewhere is a mistake leaking into another function)."""
    _, scores, _ = graded[case.student]
    expected = {nb: sorted({g for e in case.mistakes if e.notebook == nb for g in e.breaks}) for nb in case.notebooks}
    leaks = {nb: [f"{g} ({owner(nb, g)})" for g in cells if g not in expected[nb]] for nb, cells in lost(scores).items()}
    assert not any(leaks.values()), f"cells lost outside the injected functions' own cells: {leaks}"
    assert lost(scores) == expected


@grades_submissions
@pytest.mark.parametrize("case,entry", [(c, e) for c in CASES for e in c.mistakes],
                         ids=lambda v: v.student if hasattr(v, "student") else v.id)
def test_mistake_loses_its_own_cells_and_is_named(graded, case, entry):
    _, scores, folder = graded[case.student]
    own_lost = [g for g in lost(scores)[entry.notebook] if owner(entry.notebook, g) == entry.function]
    assert own_lost == sorted(entry.breaks)
    messages = [outputs_text(folder, entry.notebook, g) for g in sorted(entry.breaks)]
    assert any(entry.explain in m for m in messages), f"no failing check names {entry.id}:\n" + "\n".join(messages)


@grades_submissions
@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c.blank, list)], ids=lambda c: c.student)
def test_blank_earlier_notebooks_cost_no_points_here(graded, case):
    """A student who did only this notebook keeps its full marks: the hidden checks grade each
    function with reference parts, and the visible checks that need an unwritten earlier
    function are skipped with a note (they still run, and fail, while this one is unwritten)."""
    _, scores, folder = graded[case.student]
    assert lost(scores) == {nb: [] for nb in case.notebooks}


@grades_submissions
@pytest.mark.parametrize("case", [c for c in CASES if c.unreadable], ids=lambda c: c.student)
def test_an_unreadable_notebook_costs_only_itself(graded, case):
    """An earlier notebook cut short (not JSON) or missing scores 0 itself; in the notebooks that load its
    functions, directly or through another notebook, they count as not written: the hidden checks use the
    reference versions, so a complete submission keeps every other point, and the setup cell of a notebook
    that loads it says why. Graded here: the notebooks whose setup cells load its functions, directly or
    through another notebook (05 and 07 for 03; the graded functions of 04, 06 and 08 use none of them)."""
    _, scores, folder = graded[case.student]
    broken, how = case.unreadable
    assert len(case.notebooks) >= 2 and broken not in case.notebooks
    assert lost(scores) == {nb: [] for nb in case.notebooks}
    why = "cannot be read as a notebook (JSONDecodeError" if how == "invalid" else f"{broken}.ipynb is not in"
    for name in case.notebooks:
        nb = notebooks.read(folder / f"{name}.ipynb")
        setup = "".join(o.get("text", "") for c in nb.cells if "setup" in c.metadata.get("tags", []) for o in c.outputs)
        if broken in COURSE.loads()[name]:
            assert why in setup and "count as not written yet" in setup, (name, setup)


@grades_submissions
@pytest.mark.parametrize("case", [c for c in CASES if c.alternatives], ids=lambda c: c.student)
def test_alternative_correct_answers_keep_full_marks(graded, case):
    _, scores, _ = graded[case.student]
    wrong = {nb: [f"{g} ({owner(nb, g)})" for g in cells] for nb, cells in lost(scores).items() if cells}
    assert not wrong, f"alternatives {case.alternatives} lost points: {wrong}"


def test_every_mistake_declares_only_its_own_functions_cells():
    for entry in mistakes.all_mistakes():
        nb = notebooks.read(REPO / "source" / "rnn" / f"{entry.notebook}.ipynb")
        test_ids = {notebooks.grade_id(c) for c in nb.cells if notebooks.is_test(c)}
        assert entry.function in FUNCTIONS and FUNCTIONS[entry.function][0] == entry.notebook, entry.id
        assert entry.breaks and entry.breaks <= test_ids, (entry.id, entry.breaks - test_ids)
        foreign = {g: owner(entry.notebook, g) for g in entry.breaks if owner(entry.notebook, g) != entry.function}
        assert not foreign, f"{entry.id} declares cells of other functions: {foreign}"


def test_the_round_plan_injects_every_entry_once_per_style():
    injected = sorted((c.style, e.id) for c in CASES for e in c.mistakes)
    assert injected == sorted((style, e.id) for style in ("calls-parts", "self-contained") for e in mistakes.all_mistakes())
