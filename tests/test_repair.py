"""A slip in a submission's cell metadata costs only what it touches (autograde.runtime.plugins.repair), through
stock `nbgrader autograde` with the course's nbgrader_config.py, on the first notebook."""
import copy
import hashlib

import pytest

from autograde.content import notebooks
from autograde.runtime.plugins.repair import NOTE_TAG
from tests.conftest import REPO, first_notebook_course, grades_submissions


def _first_test(nb):
    return next(c for c in nb.cells if notebooks.is_test(c))


def _duplicate_test_cell(nb):
    index = nb.cells.index(_first_test(nb))
    twin = copy.deepcopy(nb.cells[index])
    twin["id"] = "pasted-twin"
    nb.cells.insert(index + 1, twin)


def _rename_test_cell(nb):
    _first_test(nb).metadata.nbgrader["grade_id"] = "my_own_test"


def _mark_answer_graded(nb):
    answer = next(c for c in nb.cells if notebooks.is_answer(c))
    answer.metadata.nbgrader.update(grade=True, points=3)


def _delete_test_cell(nb):
    nb.cells.remove(_first_test(nb))


SLIPS = {"duplicated-test": _duplicate_test_cell, "renamed-test": _rename_test_cell,
         "graded-answer": _mark_answer_graded, "deleted-test": _delete_test_cell}


@pytest.fixture(scope="module")
def slipped(tmp_path_factory):
    course, first = first_notebook_course(tmp_path_factory.mktemp("slips"))
    course.write_submission("correct")
    digests = {}
    for student, slip in SLIPS.items():
        path = course.write_submission(student) / f"{first}.ipynb"
        nb = notebooks.read(path)
        slip(nb)
        notebooks.write(nb, path)
        digests[student] = hashlib.sha256(path.read_bytes()).hexdigest()
    course.autograde("*")
    return course, first, digests


@grades_submissions
@pytest.mark.parametrize("student", sorted(SLIPS))
def test_a_metadata_slip_is_graded_against_the_released_cells(slipped, student):
    course, first, digests = slipped
    correct, scores = course.scores("correct", [first])[first], course.scores(student, [first])[first]
    assert scores == correct and all(score == most for score, most in correct.values())
    graded = notebooks.read(course.folder("autograded", student) / f"{first}.ipynb")
    ids = [notebooks.grade_id(c) for c in graded.cells if notebooks.is_test(c)]
    assert sorted(ids) == sorted(correct)  # each released test cell once, nothing else graded
    # the submitted file is only read
    submitted = course.folder("submitted", student) / f"{first}.ipynb"
    assert hashlib.sha256(submitted.read_bytes()).hexdigest() == digests[student]


@grades_submissions
@pytest.mark.parametrize("student", ["duplicated-test", "renamed-test", "graded-answer"])
def test_the_autograded_notebook_says_what_was_restored(slipped, student):
    course, first, _ = slipped
    graded = notebooks.read(course.folder("autograded", student) / f"{first}.ipynb")
    notes = [c.source for c in graded.cells if NOTE_TAG in c.metadata.get("tags", [])]
    assert len(notes) == 1 and "graded against the released cells" in notes[0], notes


@grades_submissions
def test_a_clean_submission_gets_no_note(slipped):
    course, first, _ = slipped
    graded = notebooks.read(course.folder("autograded", "correct") / f"{first}.ipynb")
    assert not [c for c in graded.cells if NOTE_TAG in c.metadata.get("tags", [])]


def _corrupt(change):
    def corrupted(nb):
        cell = next(c for c in nb.cells if notebooks.is_test(c))
        change(cell, nb)
        return nb
    return corrupted


CORRUPTIONS = {
    "clean": lambda cell, nb: None,
    "points as text": lambda cell, nb: cell.metadata.nbgrader.update(points="two"),
    "unknown flag type": lambda cell, nb: cell.metadata.nbgrader.update(grade="yes"),
    "no grade id": lambda cell, nb: cell.metadata.nbgrader.pop("grade_id"),
    "empty grade id": lambda cell, nb: cell.metadata.nbgrader.update(grade_id=""),
    "graded without points": lambda cell, nb: cell.metadata.nbgrader.pop("points"),
    "old schema": lambda cell, nb: cell.metadata.nbgrader.update(schema_version=1),
    "new schema": lambda cell, nb: cell.metadata.nbgrader.update(schema_version=4),
    "duplicate grade id": lambda cell, nb: nb.cells.append(copy.deepcopy(cell)),
    "code task cell": lambda cell, nb: cell.metadata.nbgrader.update(task=True),
    "missing required key": lambda cell, nb: cell.metadata.nbgrader.pop("locked"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_the_metadata_check_gives_nbgraders_verdicts(corruption):
    """autograde.runtime.plugins.repair.CheckCellMetadata builds its schema validator once; on clean and on corrupted
    metadata it must pass or fail exactly where nbgrader's own CheckCellMetadata does, with the same error."""
    from nbgrader.preprocessors import CheckCellMetadata as Stock

    from autograde.runtime.plugins.repair import CheckCellMetadata
    released = notebooks.read(REPO / "release" / "rnn" / "01_cell_forward.ipynb")
    verdicts = []
    for check in (Stock(), CheckCellMetadata(), CheckCellMetadata()):  # the second: the validator made already
        nb = _corrupt(CORRUPTIONS[corruption])(copy.deepcopy(released))
        try:
            check.preprocess(nb, {})
            verdicts.append(None)
        except Exception as exc:  # noqa: BLE001 - the verdict is the exception
            verdicts.append((type(exc), str(exc)))
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert (verdicts[0] is None) == (corruption == "clean")
