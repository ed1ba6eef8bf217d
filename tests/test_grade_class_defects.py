"""Defects found in review of the class-grading command, each with its test.

1. One hostile submission aborted the whole class in the integrity scan: a folder named like a
   notebook, a dangling symbolic link, a notebook of 100,000 nested ``[``.
2. Re-grading after the gradebook was recreated (or with a new ``--db``) raised ``MissingEntry``
   after merging and wrote no class files.
3. Due dates and late penalties configured in nbgrader were lost: the scratch template was
   generated without the due date.
"""
import csv
import datetime
import json
import shutil

import pytest
from nbgrader.api import Gradebook

from autograde.grading import integrity, submissions
from autograde.grading.template import GradingError
from autograde.grade_class import GradingSettings, StudentResult, grade_class
from autograde.grading.course import Course
from tests.conftest import REPO, grades_submissions
from tests.test_grade_class_dask import first_notebook_course

MEMORY = 2 * 2**30
DUE = datetime.datetime(2026, 1, 1, 12, 0)
LATE_PLUGIN = '''"""A late-penalty plugin of the course: half the points off when late."""
from nbgrader.plugins import LateSubmissionPlugin


class HalfOff(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return score / 2 if total_seconds_late > 0 else 0
'''


def settings(course, **overrides):
    return GradingSettings.from_config(course.root, memory_limit=MEMORY, quiet=True, report=False, **overrides)


def hostile_folder(tmp_path):
    folder = tmp_path / "submitted" / "hostile" / "rnn"
    (folder / "01_cell_forward.ipynb").mkdir(parents=True)
    (folder / "01_cell_forward.ipynb" / "inside.py").write_text("import numpy")
    (folder / "dangling.ipynb").symlink_to(tmp_path / "nowhere.ipynb")
    (folder / "to_etc").symlink_to("/etc")
    (folder / "02_nested.ipynb").write_text("[" * 100_000)
    (folder / "03_code.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": "[" * 100_000}]}))
    return folder


def test_hostile_files_never_stop_the_scan(tmp_path):
    folder = hostile_folder(tmp_path)
    submission = submissions.read_submission("hostile", folder)
    assert sorted(submission.files) == ["02_nested.ipynb", "03_code.ipynb"]
    notes = " | ".join(submission.notes)
    assert "01_cell_forward.ipynb is a folder" in notes and "dangling.ipynb is a symbolic link" in notes
    assert "to_etc is a symbolic link" in notes
    flags, note = integrity.scan(submission.files, set())
    assert flags == [] and note is None
    assert submissions.unchanged(submission)


def test_the_released_helper_package_is_no_extra_module():
    """The release's helper package, at its own paths, raises no flag; a module beside the notebooks, in
    the package, or named like a module of the package but elsewhere does."""
    release = REPO / "release" / "rnn"
    shipped = integrity.shipped_files(release)
    assert {"rnn_helpers/__init__.py", "rnn_helpers/loading.py", "names.txt"} <= shipped
    files = {path: (release / path).read_bytes() for path in shipped if path.endswith(".py")}
    files.update({"numpy.py": b"", "rnn_helpers/numpy.py": b"", "loading.py": b""})
    flagged = [flag.line for flag in integrity.scan_files(files, set(), shipped)]
    assert flagged == ["loading.py", "numpy.py", "rnn_helpers/numpy.py"]


def test_a_scan_that_fails_is_a_note(monkeypatch):
    monkeypatch.setattr(integrity, "scan_files", lambda *a: 1 / 0)
    assert integrity.scan({"a.ipynb": b"{}"}, set()) == ([], "the integrity scan could not read this submission "
                                                               "(ZeroDivisionError); not scanned")


@pytest.fixture(scope="module")
def late_class(tmp_path_factory):
    """A one-notebook course with a due date and a late-penalty plugin of its own; students: one on
    time, one late, and three hostile ones."""
    root = tmp_path_factory.mktemp("defects") / "course"
    course = first_notebook_course(root, config='c.AssignLatePenalties.plugin_class = "late_penalty.HalfOff"\n')
    (course.root / "late_penalty.py").write_text(LATE_PLUGIN)
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment("rnn", duedate=DUE)
    first = course.notebook_names()[0]
    for student, when in (("on-time", DUE - datetime.timedelta(hours=1)), ("late", DUE + datetime.timedelta(hours=3))):
        course.write_submission(student)
        (course.folder("submitted", student) / "timestamp.txt").write_text(f"{when:%Y-%m-%d %H:%M:%S.%f} UTC")
    folder = course.folder("submitted", "folder-named-notebook")
    (folder / f"{first}.ipynb").mkdir(parents=True)
    course.write_submission("dangling-link")
    (course.folder("submitted", "dangling-link") / "extra.ipynb").symlink_to(root / "nowhere")
    course.write_submission("nested")
    (course.folder("submitted", "nested") / f"{first}.ipynb").write_text("[" * 100_000)
    results = grade_class(course.root, "rnn", settings(course, jobs=2))
    return course, first, results


@grades_submissions
@pytest.mark.cluster
def test_hostile_submissions_are_graded_or_listed(late_class):
    course, first, results = late_class
    assert results["dangling-link"].status == "graded"
    assert all(s == m for s, m in course.scores("dangling-link")[first].values())
    assert any("symbolic link" in n for n in results["dangling-link"].notes)
    for student in ("folder-named-notebook", "nested"):
        assert results[student].status == "ungraded", results[student]
        assert "no notebook of the assignment could be graded" in results[student].reason
    assert any("is a folder" in n for n in results["folder-named-notebook"].notes)
    assert any("could not be read" in n for n in results["nested"].notes)


@grades_submissions
@pytest.mark.cluster
def test_due_date_and_late_penalty_plugin(late_class):
    course, first, results = late_class
    with Gradebook(course.db_url) as gb:
        late = gb.find_submission_notebook(first, "rnn", "late")
        on_time = gb.find_submission_notebook(first, "rnn", "on-time")
        assert on_time.late_submission_penalty in (0, None) and on_time.score == on_time.max_score
        assert late.score == late.max_score and late.late_submission_penalty == late.max_score / 2
    assert results["late"].late_penalty == results["late"].max_score / 2
    assert results["on-time"].late_penalty == 0
    with open(course.root / "reports" / "rnn" / "scores.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["late"]["late penalty"] == "6" and rows["on-time"]["late penalty"] == "0"


@grades_submissions
@pytest.mark.cluster
def test_regrade_after_the_gradebook_was_recreated(late_class):
    course, first, results = late_class
    (course.root / "gradebook.db").unlink()
    course.generate()  # the instructor recreates the gradebook, then grades one student again
    again = grade_class(course.root, "rnn", settings(course, students=["on-time"], jobs=1))
    assert again["on-time"].status == "graded"
    kept = json.loads((course.root / "reports" / "rnn" / "results.json").read_text())
    assert kept["on-time"]["status"] == "graded" and kept["on-time"]["score"] == kept["on-time"]["max_score"]
    assert kept["late"]["status"] == "ungraded" and "grade again" in kept["late"]["reason"]
    assert len((course.root / "reports" / "rnn" / "scores.csv").read_text().splitlines()) == len(results) + 1


@grades_submissions
@pytest.mark.cluster
def test_a_new_gradebook_gets_the_assignment(late_class, tmp_path):
    course, first, _ = late_class
    url = f"sqlite:///{tmp_path / 'new.db'}"
    again = grade_class(course.root, "rnn", settings(course, students=["dangling-link"], jobs=1, db_url=url,
                                                     report_dir=tmp_path / "reports"))
    assert again["dangling-link"].status == "graded"
    assert again["dangling-link"].score == again["dangling-link"].max_score
    with Gradebook(url) as gb:
        assert [s.id for s in gb.students] == ["dangling-link"]


def test_no_submissions_is_an_error(tmp_path):
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    with pytest.raises(GradingError, match="no submissions"):
        grade_class(tmp_path, "rnn", GradingSettings.from_config(tmp_path, quiet=True))


def test_report_escapes_student_text(tmp_path):
    """The report is a jinja2 template with autoescaping: a student's text never becomes markup."""
    from autograde.grading.report import build_report
    hostile = "<script>alert(1)</script>"
    results = {hostile: StudentResult(student=hostile, reason=hostile, notes=[hostile],
                                      flags=[{"notebook": hostile, "cell": "cell 0", "line_no": 1, "line": hostile,
                                              "rule": "monkeypatch", "why": "monkeypatches numpy"}])}
    page = build_report(tmp_path, "rnn", results, tmp_path / "report.html").read_text()
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 4


def test_every_argument_has_a_help_line():
    from autograde.grading.cli import parser
    actions = [a for a in parser()._actions if a.dest != "help"]
    assert actions and all(a.help for a in actions), [a.dest for a in actions if not a.help]
    text = parser().format_help()
    assert "--scheduler" in text and "dask worker" in text


def test_honest_code_gets_no_integrity_flag():
    """The static scan is advisory and must never flag honest code: every answer of the solution, every
    catalogue mistake, every alternative and every self-contained style is scanned as a student's cell."""
    from autograde.content import mistakes
    from autograde.grading.integrity import scan_source
    from autograde.content.notebooks import function_source, without_markers
    from tests.alternatives import all_alternatives
    from tests.conftest import graded_functions
    from tests.styles import SELF_CONTAINED, noisy

    course = Course(REPO)
    sources = {f"solution {f}": without_markers(src) for f, (_, src) in graded_functions(course).items()}
    sources.update({f"noisy {f}": noisy(src, f) for f, (_, src) in graded_functions(course).items()})
    sources.update({f"mistake {m.id}": m.source() for m in mistakes.all_mistakes()})
    sources.update({f"alternative {f}__{style}": function_source(fn, f) for _, f, style, fn in all_alternatives()})
    sources.update({f"self-contained {f}": function_source(fn, f) for f, fn in SELF_CONTAINED.items()})
    flagged = {label: scan_source(source) for label, source in sources.items() if scan_source(source)}
    assert not flagged
