"""One worker of the class-grading command (``autograde.grade_class`` starts them).

A worker owns a scratch course directory (a copy of a template course whose SQLite
gradebook holds the assignment and nothing else) and keeps one in-process
``NbGraderAPI`` for it. Its first stdin line is its settings; then it reads one task
per line (a student id, the path of the submission, where to put the autograded
folder) and answers one JSON line per task: nbgrader autogrades the
student in the scratch course, and the worker returns what nbgrader wrote in the
scratch gradebook. The parent merges that into the course gradebook, one student
at a time, so nothing but the parent ever writes there.

The submission is copied into the scratch course; the original is only read.
Notebooks that are not valid JSON/nbformat are left out (nbgrader then scores them
zero as missing), and a notebook saved under a slightly different name
(``01_cell_forward (1).ipynb``, ``01_cell_forward-Copy1.ipynb``) is graded under
its released name; each such decision is returned as a note.
"""
import json
import os
import pathlib
import re
import shutil
import sys
import traceback

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which builds a grammar for
# about 5 s of CPU; nbformat never checks the IRI format it serves, so these processes go without it
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.converters.autograde import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader

from autograde.sandbox import LimitedExecute

COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|-Copy\d*|_copy\d*|\s+copy\s*\d*)$", re.I)


def load_config(root, settings):
    """The course's nbgrader_config.py, pointed at the scratch course, with the run's limits."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    if settings.get("timeout"):
        config.Execute.timeout = int(settings["timeout"])
    # after a cell's reply nbclient waits this long for its last output, and nbgrader then abandons the
    # whole submission: 4 s (the default) is too short on a loaded machine
    config.Execute.iopub_timeout = max(30, int(config.Execute.get("iopub_timeout", 0)))
    config.LimitedKernelManager.memory_limit = int(settings.get("memory") or 0)
    config.Autograde.autograde_preprocessors = [
        LimitedExecute if pp is Execute else pp for pp in Autograde.autograde_preprocessors.default()]
    return config


def stage(source, target, expected, suspects):
    """Copy a submission into the scratch course; returns notes about what was changed in the copy.
    Notebooks that can be read but break the schema are appended to ``suspects``."""
    notes = []
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                    symlinks=False)
    present = {p.stem: p for p in target.glob("*.ipynb")}
    for name in sorted(expected - present.keys()):
        near = [stem for stem in present if stem not in expected and
                COPY_SUFFIX.sub("", stem).strip().lower() == name.lower()]
        if len(near) == 1:
            present[near[0]].rename(target / f"{name}.ipynb")
            notes.append(f"{near[0]}.ipynb graded as {name}.ipynb")
            present[name] = target / f"{name}.ipynb"
            del present[near[0]]
        else:
            notes.append(f"{name}.ipynb missing (scored 0)")
    for stem, path in sorted(present.items()):
        if stem not in expected:
            notes.append(f"{stem}.ipynb is not part of the assignment (ignored)")
            path.unlink()
            continue
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception as exc:  # not JSON, not a notebook: grade the rest
            notes.append(f"{stem}.ipynb could not be read ({_first_line(exc)}); scored 0")
            path.unlink()
            continue
        try:
            nbformat.validate(nb)
        except Exception as exc:  # nbgrader usually copes (Jupyter writes such files); see grade()
            suspects.append(stem)
            notes.append(f"{stem}.ipynb does not match the notebook schema ({_first_line(exc)})")
    return notes


def _first_line(exc):
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:120]}"


def read_scores(root, assignment, student):
    """What nbgrader's autograde wrote in the scratch gradebook for this student."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        notebooks = {}
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "late_penalty": nb.late_submission_penalty,
                "grades": {g.name: g.auto_score for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
            }
        timestamp = submission.timestamp.isoformat() if submission.timestamp else None
        return notebooks, timestamp


def _reason(result):
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    errors = [line.strip() for line in text.splitlines() if "[ERROR]" in line or "Error:" in line or "Exception:" in line]
    return (errors[0] if errors else text.strip().splitlines()[-1] if text.strip() else "nbgrader failed")[:300]


def grade(api, root, assignment, expected, task):
    student = task["student"]
    for kind in ("submitted", "autograded"):
        shutil.rmtree(root / kind, ignore_errors=True)
    target = root / "submitted" / student / assignment
    suspects, first_log = [], None
    notes = stage(pathlib.Path(task["submission"]), target, expected, suspects)
    if not any(target.glob("*.ipynb")):
        return {"student": student, "status": "ungraded", "reason": "no notebook of the assignment could be graded",
                "notes": notes}
    result = api.autograde(assignment, student, force=True, create=True)
    if not result.get("success"):
        # a failure can be the machine's, not the submission's (a kernel that did not start in time, a
        # port another kernel took): grade once more before blaming any notebook
        notes.append(f"nbgrader failed ({_reason(result)}); graded again")
        first_log = _log_tail(result)
        result = api.autograde(assignment, student, force=True, create=True)
    if not result.get("success") and suspects and len(list(target.glob("*.ipynb"))) > len(suspects):
        for stem in suspects:  # nbgrader gave up on the student again: grade the others, score these 0
            (target / f"{stem}.ipynb").unlink()
            notes.append(f"{stem}.ipynb made nbgrader fail; scored 0")
        result = api.autograde(assignment, student, force=True, create=True)
    if not result.get("success"):
        return {"student": student, "status": "ungraded", "reason": _reason(result), "notes": notes,
                "log": _log_tail(result)}
    notebooks, timestamp = read_scores(root, assignment, student)
    answer = {"student": student, "status": "graded", "notes": notes, "notebooks": notebooks,
              "timestamp": timestamp, "autograded": str(root / "autograded" / student / assignment)}
    if first_log:  # kept in results.json: why the first attempt failed
        answer["log"] = first_log
    return answer


def _log_tail(result):
    return (result.get("log") or "")[-4000:] + (result.get("error") or "")[-4000:]


def open_scratch(settings):
    """The worker's scratch course (a fresh copy of the template) and an nbgrader API on it."""
    root = pathlib.Path(settings["dir"])
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(settings["template"], root)
    config = load_config(root, settings)
    return root, NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def main():
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to the worker's log, not into the protocol
    settings = json.loads(sys.stdin.readline())  # sent once the template exists (imports overlap with it)
    root, api = open_scratch(settings)
    os.chdir(root)
    assignment = settings["assignment"]
    expected = {p.stem for p in (root / "release" / assignment).glob("*.ipynb")}
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        try:
            answer = grade(api, root, assignment, expected, task)
            if answer.get("autograded"):  # hand the folder over: the next task starts with a clean scratch course
                handed = pathlib.Path(task["out"])
                shutil.rmtree(handed, ignore_errors=True)
                shutil.move(answer["autograded"], handed)
                answer["autograded"] = str(handed)
        except Exception as exc:  # never let one submission stop the worker
            answer = {"student": task["student"], "status": "ungraded",
                      "reason": f"{type(exc).__name__}: {exc}"[:300], "log": traceback.format_exc()}
        protocol.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
