"""``nbgrader export`` for Canvas: nbgrader's ``grades.csv`` and, beside it, a CSV for Canvas's gradebook import.

Configured in the course's ``nbgrader_config.py`` (``c.ExportApp.plugin_class``), so a plain
``nbgrader export`` writes both files; ``nbgrader export --exporter=nbgrader.plugins.CsvExportPlugin``
writes nbgrader's file alone, as without this plugin.

The Canvas file follows the format of Canvas's gradebook CSV (what Gradebook → Export writes and
Gradebook → Import reads; Canvas Instructor Guide, "How do I import grades in the Gradebook?" and
"How do I export grades in the Gradebook?", community.canvaslms.com):

- the first row is the header; the first five columns are ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, in that order, and every one must be present even where empty;
  Canvas finds each row's student by ``ID`` (its own user id), ``SIS User ID`` or ``SIS Login ID``;
- then one column per assignment, headed by the assignment's name: a name Canvas does not know
  makes a new assignment (an existing one is headed ``Name (canvas id)``, as its export writes it);
- the second row may be Canvas's points-possible row (``    Points Possible`` in the ``Student``
  column): a new assignment takes its points possible from it;
- a score is a plain number of points (no ``%``, no ``/``); an empty cell leaves Canvas's grade
  as it is; ``EX`` excuses the student;
- standard CSV quoting (a field with a comma or a double quote is quoted, quotes doubled), UTF-8;
  a student's name is written ``Last, First``, as Canvas's export writes it.

Which Canvas column holds nbgrader's student id, and whether there is one column per notebook or
one for the assignment's total, is the instructor's choice (``CanvasExport`` options below).
"""
import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import CsvExportPlugin
from traitlets import Enum, Unicode

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]  # Canvas's leading columns, in its order
POINTS_POSSIBLE = "    Points Possible"                                # as Canvas's export writes that row


class CanvasExport(CsvExportPlugin):
    """nbgrader's ``grades.csv`` (``--to`` names it), then the Canvas gradebook CSV ``canvas_to``."""

    canvas_to = Unicode("canvas_grades.csv", help="where the Canvas gradebook CSV is written").tag(config=True)
    columns = Enum(["notebooks", "total"], default_value="notebooks",
                   help="one Canvas column per notebook ('rnn: 01_cell_forward'), or one per assignment ('rnn'), "
                        "its total").tag(config=True)
    student_id_column = Enum(["SIS Login ID", "SIS User ID", "ID"], default_value="SIS Login ID",
                             help="the Canvas column that holds nbgrader's student id (on a JupyterHub with Canvas "
                                  "logins, the login); a student's lms_user_id, where set, fills ID").tag(config=True)
    section = Unicode("", help="the Section column's value (Canvas reads it only to show it)").tag(config=True)
    unsubmitted = Enum(["0", "", "EX"], default_value="0",
                       help="the cell of a student who submitted nothing: 0 (as in grades.csv), empty (Canvas "
                            "keeps what it has) or EX (excused)").tag(config=True)

    def export(self, gradebook):
        super().export(gradebook)
        header, rows = canvas_table(gradebook, self.columns, self.student_id_column, self.section, self.unsubmitted,
                                    [str(a) for a in self.assignment], [str(s) for s in self.student])
        self.log.info("Exporting the Canvas gradebook CSV to %s", self.canvas_to)
        with open(self.canvas_to, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([header, *rows])


def canvas_table(gradebook, columns="notebooks", student_id_column="SIS Login ID", section="", unsubmitted="0",
                 assignments=(), students=()):
    """(header, rows) of the Canvas CSV: the points-possible row, then one row per student, by id.
    ``assignments``/``students``: only these (empty: all), like ``nbgrader export --assignment/--student``."""
    chosen = [a for a in gradebook.assignments if not assignments or a.name in assignments]
    # (assignment, notebook or None for the total): one Canvas column each
    graded = [(a.name, nb.name) for a in chosen for nb in a.notebooks] if columns == "notebooks" else \
        [(a.name, None) for a in chosen]
    possible = {a.name: a.max_score for a in chosen}
    possible.update({(a.name, nb.name): nb.max_score for a in chosen for nb in a.notebooks})
    header = IDENTITY + [name if nb is None else f"{name}: {nb}" for name, nb in graded]
    rows = [[POINTS_POSSIBLE, "", "", "", ""] + [points(possible[name if nb is None else (name, nb)])
                                                  for name, nb in graded]]
    for student in sorted(gradebook.students, key=lambda s: s.id):
        if students and student.id not in students:
            continue
        identity = {"Student": display_name(student), "ID": student.lms_user_id or "", "SIS User ID": "",
                    "SIS Login ID": "", "Section": section}
        identity[student_id_column] = student.id
        rows.append([identity[c] for c in IDENTITY] + [score(gradebook, name, nb, student.id, unsubmitted)
                                                       for name, nb in graded])
    return header, rows


def score(gradebook, assignment, notebook, student, unsubmitted):
    """The points of one cell, after the late penalty (never below 0), as grades.csv computes them."""
    try:
        found = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return unsubmitted
    if notebook is not None:
        found = next((nb for nb in found.notebooks if nb.name == notebook), None)
        if found is None:
            return unsubmitted
    return points(max(0.0, found.score - (found.late_submission_penalty or 0.0)))


def points(value):
    """A number as Canvas reads it: plain decimal, at most two places, no trailing zeros (10, 7.5, 3.33)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def display_name(student):
    """``Last, First`` as Canvas writes names; the id where nbgrader has no name."""
    if student.last_name and student.first_name:
        return f"{student.last_name}, {student.first_name}"
    return student.last_name or student.first_name or student.id
