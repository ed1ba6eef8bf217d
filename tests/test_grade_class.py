"""The class-grading command end to end, on an adversarial class built from the release.

One scratch course (the first notebook of source/rnn/, plus the next one when it needs
nothing else, so the suite stays fast whatever notebooks exist) gets a class of
submissions: correct, blank, a catalogue mistake, and every way a submission can try
to break the grader. ``autograde.grade_class`` grades them with real nbgrader in
parallel; every outcome, the gradebook, the feedback and the report are checked.
"""
import csv
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import uuid

import pytest
from nbgrader.api import Gradebook

from autograde.content import mistakes, notebooks
from autograde.grading.course import LOADS, Course
from autograde.grade_class import GradingSettings, grade_class
from autograde.grading import child
from autograde.grading.template import prepare_template
from autograde.grading.samples import replace_for
from tests.attacks import (filling, flooding, garbling, judge_attack, looping, planted_decoys, remove_decoys,
                           sandbox_folders, search_attack)
from tests.conftest import REPO

# grade-class on a local Dask cluster, kernels in the sandbox; and a PostgreSQL server
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.cluster]

CELL_TIMEOUT = 20        # seconds per cell for this run: the infinite loop costs one cell of this
MEMORY = 2 * 2**30       # bytes per kernel: the 50 GB allocation must fail at once
SUBMISSION_TIME = 75     # seconds for a submission's notebooks: ignoring an interrupt costs 2 cells; 4 endless functions exceed it


def _loads(path):
    nb = notebooks.read(path)
    return set(LOADS.findall("\n".join(c.source for c in nb.cells if "setup" in c.metadata.get("tags", []))))


def scratch_course(destination):
    """A copy of the course with its first notebook (and the next one if it loads nothing missing)."""
    course = Course.copy_of(REPO, destination)
    paths = notebooks.notebook_paths(course.folder("source"))
    keep = [paths[0].stem]
    for path in paths[1:]:
        if _loads(path) <= set(keep):
            keep.append(path.stem)
            break
    for path in paths:
        if path.stem not in keep:
            path.unlink()
    course.generate()
    return course


def settings(course, **overrides):
    """The course's GradingSettings with this suite's cell time and memory cap, quiet."""
    return GradingSettings.from_config(course.root, cell_timeout=CELL_TIMEOUT, memory_limit=MEMORY, quiet=True,
                                       **overrides)


def _fn(name, body):
    return f"def {name}(*args, **kwargs):\n    {body}"


def build_class(course):
    """{student: what it tests}; writes submitted/<student>/rnn/ for each."""
    first = course.notebook_names()[0]
    release_nb = notebooks.read(course.folder("release") / f"{first}.ipynb")
    answers = [notebooks.grade_id(c) for c in release_nb.cells if notebooks.is_answer(c)]
    tests = [notebooks.grade_id(c) for c in release_nb.cells if notebooks.is_test(c)]
    fn = answers[0]
    entry = next(m for m in mistakes.all_mistakes() if m.notebook == first)
    cases = {
        "correct": {}, "blank": {"blank": True}, "buggy": {"replace": replace_for(entry)},
        "raises": {"replace": {first: {fn: _fn(fn, "raise RuntimeError('boom')")}}},
        "loops": {"replace": {first: {fn: "while True:\n    pass"}}},
        "ignores-interrupt": {"replace": {first: {fn: "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                                      "while True:\n    pass"}}},
        "sys-exit": {"replace": {first: {fn: "import sys\nsys.exit(3)"}}},
        "os-exit": {"replace": {first: {fn: "import os\nos._exit(3)"}}},
        "memory-hog": {"replace": {first: {fn: "import numpy as np\nbig = np.ones(50 * 10**9 // 8)  # 50 GB"}}},
        "cheater": {"replace": {first: {fn: "try:\n    import autograde.content.solution as reference\nexcept ImportError:\n"
                                            "    reference = None\n"
                                            + notebooks.without_markers(_solution(course, first, fn))}}},
        "judge-cheat": {"replace": {first: {**{a: _release(course, first, a) for a in answers},
                                            answers[0]: judge_attack(answers, _release(course, first, answers[0]))}}},
        "searcher": {"replace": {first: {**{a: _release(course, first, a) for a in answers},
                                         answers[0]: search_attack(answers, _release(course, first, answers[0]))}}},
        "flooder": {"replace": {first: {fn: flooding(fn, notebooks.without_markers(_solution(course, first, fn)))}}},
        "garbler": {"replace": {first: {fn: garbling(fn, notebooks.without_markers(_solution(course, first, fn)))}}},
        "all-loop": {"replace": {nb: {notebooks.grade_id(c): looping(notebooks.grade_id(c))
                                      for c in notebooks.read(course.folder("release") / f"{nb}.ipynb").cells
                                      if notebooks.is_answer(c)} for nb in course.notebook_names()}},
        "filler": {"replace": {first: {fn: filling(['"/tmp"', '"."', '"/dev/shm"'],
                                                   notebooks.without_markers(_solution(course, first, fn)))}}},
    }
    for student, how in cases.items():
        course.write_submission(student, **how)
    path = lambda student: course.folder("submitted", student) / f"{first}.ipynb"

    def edit(student, change):
        course.write_submission(student, **cases.get(student, {}))
        nb = notebooks.read(path(student))
        change(nb)
        notebooks.write(nb, path(student))

    edit("deletes-test", lambda nb: nb.cells.remove(next(c for c in nb.cells if notebooks.grade_id(c) == tests[0])))
    edit("edits-test", lambda nb: setattr(next(c for c in nb.cells if notebooks.grade_id(c) == tests[0]),
                                          "source", "pass  # the test is gone"))
    def add_cells(nb):
        nb.cells.insert(3, notebooks.code("print('my own cell')"))
        nb.cells.insert(0, notebooks.markdown("my notes"))

    edit("adds-cells", add_cells)
    edit("cheater", lambda nb: nb.cells.append(notebooks.code(
        "import os, numpy as np\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "secret = open('../../gradebook.db', 'rb').read(10)\n"
        "graded = os.environ.get('NBGRADER_EXECUTION')")))
    course.write_submission("renames")
    path("renames").rename(path("renames").with_name(f"{first} (1).ipynb"))
    course.write_submission("omits")
    path("omits").unlink()
    course.write_submission("not-json")
    path("not-json").write_text('{"cells": [ this is not JSON')
    return {"first": first, "function": fn, "tests": tests, "mistake": entry, "answers": answers}


def _release(course, notebook, grade_id):
    nb = notebooks.read(course.folder("release") / f"{notebook}.ipynb")
    return next(c.source for c in nb.cells if notebooks.grade_id(c) == grade_id)


def _solution(course, notebook, grade_id):
    nb = notebooks.read(course.folder("source") / f"{notebook}.ipynb")
    return next(c.source for c in nb.cells if notebooks.grade_id(c) == grade_id)


def hashes(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(pathlib.Path(root, "submitted").rglob("*")) if p.is_file()}


def gradebook_dump(db_url):
    """Everything autograde writes, in a comparable form."""
    with Gradebook(db_url) as gb:
        rows = []
        for student in gb.students:
            for sub in student.submissions:
                for nb in sub.notebooks:
                    rows += [(student.id, nb.name, g.name, g.auto_score, g.needs_manual_grade) for g in nb.grades]
                    rows += [(student.id, nb.name, c.name, c.auto_comment) for c in nb.comments]
        return sorted(rows, key=repr)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("class") / "course")
    with open(course.root / "nbgrader_config.py", "a") as config:  # all-loop runs out of it, no one else
        config.write(f"\nc.GradedExecute.submission_time_limit = {SUBMISSION_TIME}\n")
    info = build_class(course)
    before = hashes(course.root)
    token = uuid.uuid4().hex
    info["decoys"], info["token"] = planted_decoys((REPO / "autograde" / "content" / "solution.py").read_text(), token), token
    os.environ["AUTOGRADE_DECOY_SECRET"] = token
    folders_before = sandbox_folders()
    try:
        results = grade_class(course.root, "rnn", settings(course, jobs=2))
    finally:
        del os.environ["AUTOGRADE_DECOY_SECRET"]
        remove_decoys(token)
    info["sandbox folders left"] = sandbox_folders() - folders_before
    return course, info, results, before


def lost(result, notebook):
    return sorted(g for g, (score, most) in result.grades[notebook].items() if score < most)


def outputs(course, student, notebook, grade_id):
    nb = notebooks.read(course.folder("autograded", student) / f"{notebook}.ipynb")
    cell = next(c for c in nb.cells if notebooks.grade_id(c) == grade_id)
    return "\n".join(o.get("text", "") + o.get("ename", "") + ": " + o.get("evalue", "") for o in cell.outputs)


def test_nothing_lost_and_nothing_modified(graded_class):
    course, _, results, before = graded_class
    assert sorted(results) == sorted(p.parent.name for p in course.root.glob("submitted/*/rnn"))
    assert hashes(course.root) == before
    assert all(r.unmodified for r in results.values())
    ungraded = {s: r.reason for s, r in results.items() if r.status != "graded"}
    # only a class whose single notebook is unreadable leaves a student ungraded
    assert set(ungraded) <= {"not-json"}, ungraded
    with Gradebook(course.db_url) as gb:
        assert {s.id for s in gb.students} >= {s for s, r in results.items() if r.status == "graded"}


def test_correct_blank_and_buggy(graded_class):
    course, info, results, _ = graded_class
    for nb in course.notebook_names():
        assert lost(results["correct"], nb) == []
        assert results["blank"].scores[nb] == 0
    entry = info["mistake"]
    assert lost(results["buggy"], entry.notebook) == sorted(entry.breaks)
    assert any(entry.explain in outputs(course, "buggy", entry.notebook, g) for g in entry.breaks)


@pytest.mark.parametrize("student, error", [("raises", "boom"), ("loops", "CellTimeoutError"), ("sys-exit", "SystemExit"),
                                            ("os-exit", "KernelDied"), ("memory-hog", "MemoryError"),
                                            ("ignores-interrupt", "did not stop when interrupted")])
def test_hostile_answers_lose_only_their_own_points(graded_class, student, error):
    course, info, results, _ = graded_class
    first, result = info["first"], results[student]
    assert result.status == "graded"
    assert 0 < len(lost(result, first))
    assert all(lost(result, nb) == [] for nb in course.notebook_names()[1:])
    nb = notebooks.read(course.folder("autograded", student) / f"{first}.ipynb")
    answer = next(c for c in nb.cells if notebooks.grade_id(c) == info["function"])
    assert error in json.dumps([answer.outputs] + [c.outputs for c in nb.cells if notebooks.is_test(c)])


def test_memory_cap_stops_the_allocation(graded_class):
    course, info, _, _ = graded_class
    nb = notebooks.read(course.folder("autograded", "memory-hog") / f"{info['first']}.ipynb")
    answer = next(c for c in nb.cells if notebooks.grade_id(c) == info["function"])
    assert [o.ename for o in answer.outputs if o.output_type == "error"] == ["MemoryError"]


def test_cheating_the_judge_earns_nothing(graded_class):
    """Blank functions and every trick against the checks (tests/attacks.py): the grade of a blank."""
    course, info, results, _ = graded_class
    assert results["judge-cheat"].status == "graded"
    first = info["first"]
    assert results["judge-cheat"].grades[first] == results["blank"].grades[first]
    assert all(lost(results["judge-cheat"], nb) == [] for nb in course.notebook_names()[1:])
    graded = notebooks.read(course.folder("autograded", "judge-cheat") / f"{first}.ipynb")
    assert "stolen: []" in "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    # what the sandbox saw it try is in the class report's flags
    rules = {f["rule"] for f in results["judge-cheat"].flags}
    assert {"sandbox-grader", "sandbox-outside"} <= rules, rules


def test_the_host_is_not_there_for_a_search(graded_class):
    """Decoys (copies of the solution in another checkout, /opt, a home folder; a secret in the grader's
    environment) are out of reach: the search scores what a blank scores."""
    course, info, results, _ = graded_class
    first = info["first"]
    assert info["decoys"]
    assert results["searcher"].grades[first] == results["blank"].grades[first]
    graded = notebooks.read(course.folder("autograded", "searcher") / f"{first}.ipynb")
    text = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert "SEARCH found: []" in text and info["token"] not in text


@pytest.mark.parametrize("student", ["flooder", "garbler"])
def test_a_flood_or_malformed_messages_are_graded(graded_class, student):
    """The first function floods the judge's socket, or sends it a malformed message, at every call: its
    cells fail (and those of a check that runs it inside another function), a function that never calls it
    keeps its points, the rest of the class is graded."""
    course, info, results, _ = graded_class
    first, fn = info["first"], info["function"]
    assert results[student].status == "graded"
    lost_cells = lost(results[student], first)
    assert set(t for t in info["tests"] if t.startswith(f"test_{fn}_")) <= set(lost_cells)
    assert [t for t in info["tests"] if t.startswith("test_output_forward_")] and not any(
        t.startswith("test_output_forward_") for t in lost_cells)
    assert "output is too large" in json.dumps(notebooks.read(course.folder("autograded", "flooder") / f"{first}.ipynb"))


def test_endless_functions_are_graded_within_the_submissions_time(graded_class):
    """Each endless function costs a cell's limit once; past the submission's time (SUBMISSION_TIME) the rest
    is not run: graded, with the reasons, and everyone else graded as usual."""
    course, info, results, _ = graded_class
    result = results["all-loop"]
    assert result.status == "graded" and result.scores[info["first"]] == 0
    text = "".join(json.dumps(notebooks.read(p)) for p in course.folder("autograded", "all-loop").glob("*.ipynb"))
    assert "Later calls of it fail at once" in text and "used up its time" in text


def test_no_sandbox_folder_outlives_its_student(graded_class):
    """Every kernel's and every warm parent's folder is gone, for kernels that died too (os._exit, the
    memory cap) and though grading processes end with os._exit."""
    _, info, _, _ = graded_class
    assert info["sandbox folders left"] == set()


def test_what_a_kernel_writes_is_bounded(graded_class):
    course, info, results, _ = graded_class
    text = json.dumps(notebooks.read(course.folder("autograded", "filler") / f"{info['first']}.ipynb"))
    assert text.count("No space left on device") == 3
    assert all(lost(results["filler"], nb) == [] for nb in course.notebook_names())


def test_edited_and_added_cells_do_not_change_the_grade(graded_class):
    course, info, results, _ = graded_class
    for student in ("edits-test", "adds-cells", "cheater"):
        assert all(lost(results[student], nb) == [] for nb in course.notebook_names()), student
    # a deleted test cell is put back from the release (nbgrader's add_missing_cells) and graded like
    # everyone's: the student cannot skip a check by deleting it, nor lose the notebook for it
    deleted = results["deletes-test"].grades[info["first"]][info["tests"][0]]
    assert deleted[0] == deleted[1] and results["deletes-test"].status == "graded"


def test_renamed_omitted_and_unreadable_notebooks(graded_class):
    course, info, results, _ = graded_class
    first, others = info["first"], course.notebook_names()[1:]
    assert lost(results["renames"], first) == [] and any("graded as" in n for n in results["renames"].notes)
    assert results["omits"].scores[first] == 0 and any("missing" in n for n in results["omits"].notes)
    assert all(lost(results["omits"], nb) == [] for nb in others)
    bad = results["not-json"]
    assert "could not be read" in " ".join(bad.notes)
    assert "the notebooks that load its functions grade them as not written" in " ".join(bad.notes)
    if others:
        assert bad.status == "graded" and bad.scores[first] == 0
        assert all(lost(bad, nb) == [] for nb in others)
    else:
        assert bad.status == "ungraded" and "could not be read" in bad.reason


def test_integrity_flags_name_the_line(graded_class):
    _, _, results, _ = graded_class
    flags = results["cheater"].flags
    by_rule = {f["rule"]: f["line"] for f in flags}
    assert "import autograde.content.solution" in by_rule["imports-grader"]
    assert "assert_allclose" in by_rule["monkeypatch"]
    assert "gradebook.db" in by_rule["reads-outside"]
    assert "NBGRADER_EXECUTION" in by_rule["grading-env"]
    assert not any(results[s].flags for s in ("correct", "blank", "buggy", "adds-cells"))


def test_feedback_never_shows_hidden_tests(graded_class):
    course, info, results, _ = graded_class
    course.feedback("buggy")
    course.feedback("loops")
    for student in ("buggy", "loops"):
        for page in course.folder("feedback", student).glob("*.html"):
            text = page.read_text()
            for secret in ("autograde", "HIDDEN TESTS", re.compile(r"nb0\d\.")):
                assert not (secret.search(text) if hasattr(secret, "search") else secret in text), (page, secret)
    page = (course.folder("feedback", "buggy") / f"{info['mistake'].notebook}.html").read_text()
    import html
    assert html.escape(info["mistake"].explain, quote=False) in page or info["mistake"].explain in page
    assert all(g in page for g in info["tests"])


def test_feedback_pages_are_nbconverts_pages(graded_class):
    """The course's feedback exporter skips nbconvert's re-parse of each page, and remembers the code it
    highlighted for the next pages its process writes (as the demo writes a class's feedback): the pages
    must still be nbconvert's documents (same elements, attributes and text, the images' alt text
    included), for the second student as for the first."""
    from bs4 import BeautifulSoup

    from autograde.runtime.plugins.feedback import RememberedHighlight
    course, _, _, _ = graded_class
    students = ("buggy", "correct")
    RememberedHighlight.remembered.clear()
    api = course.api()  # one process for both, as course.feedback_writer() does
    for student in students:
        result = api.generate_feedback("rnn", student, force=True)
        assert result["success"], result["log"]
    ours = {(s, p.name): p.read_text() for s in students for p in course.folder("feedback", s).glob("*.html")}
    assert len(RememberedHighlight.remembered) > 20
    for student in students:
        course.nbgrader("generate_feedback", "rnn", "--force", f"--student={student}",
                        "--GenerateFeedback.exporter_class=nbconvert.exporters.HTMLExporter")
    stock = {(s, p.name): p.read_text() for s in students for p in course.folder("feedback", s).glob("*.html")}
    assert ours and sorted(ours) == sorted(stock) and len(ours) == 2 * len(course.notebook_names())
    assert any("<img" in page for page in ours.values())
    for name, page in ours.items():
        assert page != stock[name]  # nbconvert's serialisation differs in form...
        assert str(BeautifulSoup(page, "html.parser")) == str(BeautifulSoup(stock[name], "html.parser")), name
    assert all("<img src" not in page for page in ours.values())  # ...and every figure has its alt text
    for student in students:
        course.feedback(student)


def test_report_and_csv(graded_class):
    course, info, results, _ = graded_class
    report = (course.root / "reports" / "rnn" / "report.html").read_text()
    assert report.count("<img") >= 3
    assert info["mistake"].id in report
    assert "cheater" in report and "NBGRADER_EXECUTION" in report
    rows = (course.root / "reports" / "rnn" / "scores.csv").read_text().splitlines()
    assert len(rows) == len(results) + 1


NUMBER = re.compile(r"\d+(\.\d{1,2})?")  # a Canvas score: plain points, no sign, %, or fraction


def test_canvas_gradebook_csv(graded_class, tmp_path):
    """`nbgrader export` with the course's exporter: nbgrader's grades.csv as before, and a CSV in Canvas's
    gradebook-import format (autograde.runtime.plugins.export's docstring): its five identity columns first, the
    points-possible row, one row per student of the gradebook, plain points that add up to grades.csv's."""
    course, info, results, _ = graded_class
    shutil.copy(course.db_url.removeprefix("sqlite:///"), tmp_path / "gradebook.db")
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gb:  # a student who submitted nothing, whose name needs CSV quoting
        gb.update_or_create_student("nobody", first_name="Ada", last_name='Lovelace, "Countess"')
        students = sorted(s.id for s in gb.students)
        possible = {nb.name: nb.max_score for nb in gb.find_assignment("rnn").notebooks}
    names = course.notebook_names()
    course.nbgrader("export", f"--CourseDirectory.db_url={db_url}", f"--to={tmp_path / 'grades.csv'}",
                    f"--CanvasExport.canvas_to={tmp_path / 'canvas.csv'}")
    course.nbgrader("export", f"--CourseDirectory.db_url={db_url}", f"--to={tmp_path / 'grades2.csv'}",
                    f"--CanvasExport.canvas_to={tmp_path / 'total.csv'}", "--CanvasExport.columns=total")
    nbgrader_rows = list(csv.DictReader(open(tmp_path / "grades.csv", newline="")))
    assert sorted(r["student_id"] for r in nbgrader_rows) == students  # the default export, unchanged

    for table, columns in (("canvas.csv", [f"rnn: {nb}" for nb in names]), ("total.csv", ["rnn"])):
        rows = list(csv.reader(open(tmp_path / table, newline="", encoding="utf-8")))
        header, points_possible, *body = rows
        assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + columns
        assert all(len(row) == len(header) for row in rows)
        assert points_possible[0].strip() == "Points Possible" and points_possible[1:5] == [""] * 4
        most = [float(p) for p in points_possible[5:]]
        assert most == ([possible[nb] for nb in names] if len(columns) > 1 else [sum(possible.values())])
        assert [row[3] for row in body] == students  # one row each, nbgrader's id as the SIS Login ID
        assert all(row[1] == row[2] == row[4] == "" for row in body)
        scores = {row[3]: [float(v) for v in row[5:]] for row in body}
        assert all(NUMBER.fullmatch(v) for row in body for v in row[5:]), body
        assert all(0 <= s <= m for row in scores.values() for s, m in zip(row, most))
        assert scores["correct"] == most and scores["blank"] == [0] * len(most) and scores["nobody"] == [0] * len(most)
        assert body[students.index("nobody")][0] == 'Lovelace, "Countess", Ada'
        for row in nbgrader_rows:
            assert sum(scores[row["student_id"]]) == pytest.approx(float(row["score"]))
    entry = info["mistake"]
    by_notebook = dict(zip(names, scores_by_notebook(tmp_path / "canvas.csv")["buggy"]))
    lost_points = sum(most for g, (_, most) in results["buggy"].grades[entry.notebook].items() if g in entry.breaks)
    assert lost_points > 0
    assert by_notebook == {nb: possible[nb] - (lost_points if nb == entry.notebook else 0) for nb in names}
    assert '"Lovelace, ""Countess"", Ada"' in (tmp_path / "canvas.csv").read_text()  # CSV quoting


def scores_by_notebook(path):
    return {row[3]: [float(v) for v in row[5:]] for row in list(csv.reader(open(path, newline="")))[2:]}


def test_running_twice_gives_the_same_gradebook(graded_class):
    course, _, results, _ = graded_class
    first = gradebook_dump(course.db_url)
    merged = []  # on_merged: each student once, when merged and read back (its score is known then)
    again = grade_class(course.root, "rnn",
                        settings(course, students=["correct", "buggy", "omits"], jobs=2, report=False),
                        on_merged=lambda student, entry: merged.append((student, entry.status, entry.score)))
    assert sorted(again) == ["buggy", "correct", "omits"]
    assert sorted(merged) == sorted((s, "graded", results[s].score) for s in again)
    assert gradebook_dump(course.db_url) == first
    # the class files still cover the whole class, with the same scores
    kept = json.loads((course.root / "reports" / "rnn" / "results.json").read_text())
    assert sorted(kept) == sorted(results)
    assert {s: r.get("score") for s, r in kept.items()} == {s: r.score for s, r in results.items()}
    rows = (course.root / "reports" / "rnn" / "scores.csv").read_text().splitlines()
    assert len(rows) == len(results) + 1


LEFT_RUNNING = """
import ctypes, json, sys, time
import psutil
from autograde.grade_class import GradingSettings, grade_class
ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: what it started and orphaned comes back here
grade_class(sys.argv[1], "rnn", GradingSettings.from_config(sys.argv[1], students=["correct"], jobs=1, quiet=True,
                                                            report=False, restart=True))
deadline = time.monotonic() + 10
while psutil.Process().children(recursive=True) and time.monotonic() < deadline:
    time.sleep(0.2)
left = []
for process in psutil.Process().children(recursive=True):
    try:
        left.append(" ".join(process.cmdline()))
        process.kill()
    except psutil.Error:
        pass
print(json.dumps(left))
"""


def test_grading_leaves_no_process_running(graded_class):
    """A process calls grade_class (as the command, the demo and these tests do) and goes on: every process
    the run started, directly or not (the cluster's workers, their fork servers, multiprocessing's resource
    tracker, kernels, sandboxes), has ended when it returns."""
    course, _, _, _ = graded_class
    run = subprocess.run([sys.executable, "-c", LEFT_RUNNING, str(course.root)], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.splitlines()[-1]) == []


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own autoflush warning (stock autograde too)
def test_a_failed_attempt_is_graded_again(graded_class, tmp_path, monkeypatch):
    """nbgrader can fail for the machine's reasons (a kernel that does not start): the worker
    grades once more, keeps the first failure's log, and does not blame the submission."""
    course, _, results, _ = graded_class
    template = prepare_template(course, "rnn", tmp_path / "template")
    limits = settings(course).kernel_limits()
    root, api = child.open_scratch(template.root, tmp_path / "scratch", [[*key, value] for key, value in limits.items()])
    monkeypatch.chdir(root)
    autograde, calls = api.autograde, []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            return {"success": False, "log": "[ERROR] RuntimeError: Kernel died before replying to kernel_info"}
        return autograde(*args, **kwargs)

    monkeypatch.setattr(api, "autograde", flaky)
    expected = set(course.notebook_names())
    answer, autograded = child.grade(api, root, "rnn", expected, {
        "student": "adds-cells", "submission": str(course.folder("submitted", "adds-cells"))})
    assert len(calls) == 2 and answer.status == "graded"
    assert any("graded again" in n and "kernel_info" in n for n in answer.notes)
    assert not any("scored 0" in n for n in answer.notes), answer.notes
    assert "kernel_info" in answer.log
    full_marks = {nb: {g: most for g, (_, most) in grades.items()} for nb, grades in results["correct"].grades.items()}
    assert {nb: v["grades"] for nb, v in answer.notebooks.items()} == full_marks
    assert sorted(p.stem for p in autograded.glob("*.ipynb")) == sorted(expected)


POSTGRES = os.environ.get("AUTOGRADE_TEST_POSTGRES", "postgresql://autograde:autograde@localhost/postgres")


def _postgres_admin():
    try:
        import psycopg
        connection = psycopg.connect(POSTGRES, connect_timeout=3)
    except Exception as exc:
        pytest.skip(f"no PostgreSQL server at {POSTGRES} ({type(exc).__name__}); `bash .ci/run` installs and starts "
                    f"one, or point AUTOGRADE_TEST_POSTGRES at a role that may CREATE DATABASE")
    connection.autocommit = True
    return connection


def test_postgresql_gradebook(tmp_path):
    admin = _postgres_admin()
    name = f"gradebook_{uuid.uuid4().hex[:8]}"
    admin.cursor().execute(f"CREATE DATABASE {name}")
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    try:
        course = Course.copy_of(REPO, tmp_path / "course")
        for path in notebooks.notebook_paths(course.folder("source"))[1:]:
            path.unlink()
        with open(course.root / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
        assert course.db_url == url
        course.generate()
        entry = next(m for m in mistakes.all_mistakes() if m.notebook == course.notebook_names()[0])
        course.write_submission("correct")
        course.write_submission("buggy", replace=replace_for(entry))
        results = grade_class(course.root, "rnn", GradingSettings.from_config(
            course.root, jobs=2, cell_timeout=60, memory_limit=MEMORY, quiet=True, report=False))
        assert {s: r.status for s, r in results.items()} == {"correct": "graded", "buggy": "graded"}
        scores = course.scores("buggy")
        assert sorted(g for g, (s, m) in scores[entry.notebook].items() if s < m) == sorted(entry.breaks)
        assert all(s == m for s, m in course.scores("correct")[entry.notebook].values())
    finally:
        from sqlalchemy import create_engine
        create_engine(url).dispose()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
