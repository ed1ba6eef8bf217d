"""Step 5 of class grading: merge each answer into the course gradebook and the course folder.

The command is the only writer of the course gradebook (SQLite or PostgreSQL): one
connection, one transaction per student, so no grade depends on a database lock or on the
order in which workers finish. nbgrader's autograde opens a gradebook many times per
submission and commits after every grade cell, so several autograde processes on one
SQLite file race for its write lock (nbgrader issue #174); here each task grades in a
scratch gradebook of its own and returns what nbgrader wrote there.
"""
import datetime
import pathlib
import shutil
import time
import warnings

from nbgrader.api import Grade, Gradebook, MissingEntry, SubmittedNotebook
from sqlalchemy.exc import OperationalError, SAWarning
from sqlalchemy.orm import joinedload, selectinload


class Merger:
    """The only writer of the course gradebook: one connection, one transaction per student."""

    def __init__(self, db_url, assignment):
        self.db_url, self.assignment, self.gb = db_url, assignment, None

    def merge(self, result, attempts=5):
        """Write a graded StudentResult's scores (what nbgrader wrote in its scratch gradebook) into the gradebook."""
        for attempt in range(attempts):
            try:
                if self.gb is None:
                    self.gb = Gradebook(self.db_url)
                with warnings.catch_warnings():
                    # nbgrader's add_submission trips an SQLAlchemy 2 autoflush warning (harmless; stock autograde too)
                    warnings.simplefilter("ignore", SAWarning)
                    _merge(self.gb, self.assignment, result)
                return
            except Exception as exc:
                self.close(rollback=True)
                if not isinstance(exc, OperationalError) or attempt == attempts - 1:
                    raise
                time.sleep(0.5 * 2**attempt)  # the gradebook is busy (formgrader open on SQLite): wait, retry

    def close(self, rollback=False):
        if self.gb is not None:
            if rollback:
                self.gb.db.rollback()
            self.gb.close()
            self.gb = None


def _merge(gb, assignment, result):
    student = result.student
    gb.update_or_create_student(student)
    stamp = result.timestamp
    if stamp:
        gb.update_or_create_submission(assignment, student, timestamp=datetime.datetime.fromisoformat(stamp))
    else:
        gb.update_or_create_submission(assignment, student)
    for name, data in result.notebooks.items():
        nb = gb.find_submission_notebook(name, assignment, student)
        nb.late_submission_penalty = data["late_penalty"]
        for grade in nb.grades:
            if grade.name in data["grades"]:
                grade.auto_score = data["grades"][grade.name]
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
        for comment in nb.comments:
            if comment.name in data["comments"]:
                comment.auto_comment = data["comments"][comment.name]
    gb.db.commit()


def write_autograded(root, assignment, student, files):
    """autograded/<student>/<assignment>/ from the task's {relative path: bytes} (replacing an earlier one)."""
    target = pathlib.Path(root, "autograded", student, assignment)
    staging = target.with_name(f".{assignment}.incoming")
    shutil.rmtree(staging, ignore_errors=True)
    for relative, data in files.items():
        path = (staging / relative).resolve()
        if staging.resolve() in path.parents:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    staging.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def add_scores(db_url, assignment, results):
    """Each student's points per notebook and total, read back from the course gradebook into their
    StudentResult ({student: StudentResult}). An entry
    the gradebook does not hold (an earlier run's, before the gradebook was recreated or with
    another --db) becomes ungraded, with that reason, instead of stopping the command."""
    with Gradebook(db_url) as gb:
        max_by_notebook = {nb.name: nb.max_score for nb in gb.find_assignment(assignment).notebooks}
        for student, result in results.items():
            result.max_scores = max_by_notebook
            result.max_score = sum(max_by_notebook.values())
            if not result.graded:
                continue
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                result.ungrade("graded earlier, but not in this gradebook: grade again")
                continue
            notebooks = _submitted_notebooks(gb, submission)
            result.scores = {nb.name: nb.score for nb in notebooks}
            result.grades = {nb.name: {g.name: [g.score, g.max_score] for g in nb.grades} for nb in notebooks}
            result.score = sum(result.scores.values())
            # nbgrader keeps the penalty beside the score (formgrader and `nbgrader export` show both)
            result.late_penalty = sum(nb.late_submission_penalty or 0 for nb in notebooks)


def _submitted_notebooks(gb, submission):
    """A submission's notebooks with their grades and cells in three queries: nbgrader's lazy
    relationships take one query per notebook and per grade (a third of a second a student)."""
    return (gb.db.query(SubmittedNotebook).filter(SubmittedNotebook.assignment_id == submission.id)
            .options(joinedload(SubmittedNotebook.notebook),
                     selectinload(SubmittedNotebook.grades).joinedload(Grade.cell)).all())
