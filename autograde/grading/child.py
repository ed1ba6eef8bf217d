"""Grade one student with nbgrader: the grading process of one student's task.

``autograde.grading.task`` starts one process per student, forked by the worker's forkserver
(``multiprocessing``'s forkserver start method, which has imported this module and the course's
checks once per worker: ``autograde.grading.preload``), with ``serve_one`` as its target. The
process receives its task on a Unix socket in the one wire format (``autograde.runtime.wire``):
the template course (see ``template``), the job folder holding the submission
(``JOB/submission``), the student, the assignment, the run's limits and the student's extension.
It copies the template course to ``JOB/course``, stages the submission as
``submitted/<student>/<assignment>/``, runs nbgrader's autograde there with the course's own
``nbgrader_config.py`` (its ``Autograde.autograde_preprocessors``, whatever executor they name;
only the paths, the scratch gradebook and the run's limits are set here), leaves the autograded
notebooks in ``JOB/autograded/`` and sends back the student's ``StudentResult``. Nothing but this
process touches the scratch course, so nothing but the command ever writes the course gradebook.

The process leads a session of its own, so that the task can kill its whole process tree,
kernels included, at the student's limit or when the task is cancelled; it dies with the
forkserver (Linux ``PR_SET_PDEATHSIG``) and when the task's end of its socket closes, so a
worker that dies leaves no grading behind.

Staging: notebooks that are not valid JSON/nbformat are left out (nbgrader then scores them
zero as missing); a notebook saved under a slightly different name (``01_cell_forward
(1).ipynb``, ``01_cell_forward-Copy1.ipynb``) is graded under its released name; each such
decision is returned as a note. When nbgrader fails, the student is graded once more (the
cause may be the machine's) before a notebook that breaks the schema is set aside.
"""
import ctypes
import datetime
import os
import pathlib
import re
import shutil
import signal
import sys
import threading
import traceback

import autograde.runtime.nbgrader_cli  # noqa: F401  (first: it leaves out a grammar nbformat never uses)
import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.converters.autograde import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader

from autograde.grading.result import GRADED, StudentResult
from autograde.runtime import wire
from autograde.runtime.kernels.warm_sandbox import close_warm_sandbox

TASK_LIMIT = 2**20  # bytes of a task message (paths, limits, an id): far more than one ever takes


def die_with_parent(parent):
    """Ask Linux to SIGKILL this process when its parent (pid ``parent``) dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent and os.getppid() != parent:
        os._exit(70)  # the parent died before the request took effect


COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|-Copy\d*|_copy\d*|\s+copy\s*\d*)$", re.I)


def load_config(root, limits):
    """The course's nbgrader_config.py, pointed at the scratch course, with the run's ``limits``
    ([[section, trait, value]], ``GradingSettings.kernel_limits``)."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    for section, trait, value in limits:
        config[section][trait] = value
    # after a cell's reply nbclient waits this long for its last output, and nbgrader then abandons the
    # whole submission: 4 s (the default) is too short on a loaded machine
    config.Execute.iopub_timeout = max(30, int(config.Execute.get("iopub_timeout", 0)))
    # costs that change no grade: a kernel whose cells have all run is killed rather than asked to
    # shut down and waited for (time per notebook), and IPython keeps its history in memory
    # instead of an SQLite file every kernel of the machine writes to
    config.Execute.shutdown_kernel = "immediate"
    extra = list(config.Execute.get("extra_arguments", []))
    config.Execute.extra_arguments = extra + ["--HistoryManager.hist_file=:memory:"]
    # the student's kernels are forked from one warm parent in one sandbox (autograde.runtime.kernels.warm_sandbox.WarmSandbox):
    # a grading process grades one student, so nothing of another submission is ever there
    if "warm_start" not in config.SandboxedKernelManager:
        config.SandboxedKernelManager.warm_start = True
    if "autograde_preprocessors" not in config.Autograde:  # a course config that names no executor
        from autograde.runtime.judge.execute import GradedExecute
        config.Autograde.autograde_preprocessors = [
            GradedExecute if pp is Execute else pp for pp in Autograde.autograde_preprocessors.default()]
    return config


def open_scratch(template, root, limits):
    """A fresh copy of the template course at ``root`` and an nbgrader API on it (``limits``: see ``load_config``)."""
    root = pathlib.Path(root)
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(template, root)
    config = load_config(root, limits)
    return root, NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def stage(source, target, expected, suspects):
    """Copy a submission into the scratch course; returns notes about what was changed in the copy.
    Notebooks that can be read but break the schema are appended to ``suspects``."""
    notes = []
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"), symlinks=True)
    present = {p.stem: p for p in target.glob("*.ipynb") if p.is_file() and not p.is_symlink()}
    for name in sorted(expected - present.keys()):
        near = [stem for stem in present if stem not in expected and
                COPY_SUFFIX.sub("", stem).strip().lower() == name.lower()]
        if len(near) == 1 and not (target / f"{name}.ipynb").exists():
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
        except Exception as exc:  # not JSON, not a notebook, nested past the parser: grade the rest
            notes.append(f"{stem}.ipynb could not be read ({_first_line(exc)}); scored 0, and the notebooks that "
                         f"load its functions grade them as not written (with the reference versions)")
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


def _log_tail(result):
    return (result.get("log") or "")[-4000:] + (result.get("error") or "")[-4000:]


def set_extension(root, assignment, student, seconds):
    """Give the student their extension in the scratch gradebook before nbgrader computes lateness."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, extension=datetime.timedelta(seconds=seconds))


def grade(api, root, assignment, expected, task):
    """Autograde ``task["student"]`` (files in ``task["submission"]``) in the scratch course ``root``;
    returns (StudentResult, the folder of its autograded notebooks or None)."""
    student = task["student"]
    for kind in ("submitted", "autograded"):
        shutil.rmtree(root / kind, ignore_errors=True)
    target = root / "submitted" / student / assignment
    suspects, first_log = [], None
    notes = stage(pathlib.Path(task["submission"]), target, expected, suspects)
    if not any(target.glob("*.ipynb")):
        return StudentResult(student=student, reason="no notebook of the assignment could be graded", notes=notes), None
    if task.get("extension"):
        set_extension(root, assignment, student, task["extension"])
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
        return StudentResult(student=student, reason=_reason(result), notes=notes, log=_log_tail(result)), None
    notebooks, timestamp = read_scores(root, assignment, student)
    # a first attempt's log, when there was one, is kept in results.json: why that attempt failed
    return (StudentResult(student=student, status=GRADED, notes=notes, notebooks=notebooks, timestamp=timestamp,
                          log=first_log), root / "autograded" / student / assignment)


def run(task):
    """Grade the student of ``task`` (see ``serve_one``) in ``JOB/course``; the autograded notebooks are left in
    ``JOB/autograded/``. Returns the StudentResult: never raises for the submission's sake."""
    job = pathlib.Path(task["job"])
    # nbgrader runs the `alembic` executable of its own environment, found on PATH
    os.environ["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")])
    try:
        root, api = open_scratch(task["template"], job / "course", task["limits"])
        os.chdir(root)
        sys.path.insert(0, str(root))  # modules beside nbgrader_config.py (a late-penalty plugin), as in the course root
        assignment = task["assignment"]
        expected = {p.stem for p in (root / "release" / assignment).glob("*.ipynb")}
        result, autograded = grade(api, root, assignment, expected,
                                   {"student": task["student"], "submission": str(job / "submission"),
                                    "extension": task.get("extension")})
        if autograded is not None:
            shutil.move(autograded, job / "autograded")
        return result
    except Exception as exc:  # an answer, never a crash: the task records it as ungraded
        return StudentResult(student=task["student"], reason=f"{type(exc).__name__}: {exc}"[:300],
                             log=traceback.format_exc())


def die_with_task(channel):
    """SIGKILL this process's group when the task's end of ``channel`` closes: its worker process died (a
    task closes its end only once this process has ended)."""
    def watch():
        try:
            while channel.recv(4096):
                pass
        except OSError:
            return
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="die with the task", daemon=True).start()


def serve_one(channel):
    """The grading process: receive one task on ``channel`` (a Unix socket), grade it, send the StudentResult.

    A task is ``{"template": folder, "job": folder, "student", "assignment", "limits", "extension"}``;
    the process writes what it prints to ``JOB/child.log``. It dies with the forkserver that forked it
    and with the worker process whose task started it (the forkserver outlives a worker that dies
    while processes it forked still run)."""
    os.setsid()  # a session of its own: the task kills it with everything it started
    die_with_parent(os.getppid())
    try:
        task = wire.receive(channel, TASK_LIMIT)
        die_with_task(channel)
        with open(pathlib.Path(task["job"]) / "child.log", "ab", buffering=0) as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        wire.send(channel, run(task).to_json())
    finally:
        close_warm_sandbox()  # the process ends with os._exit, which skips atexit
