"""Grade one student with nbgrader: the child process a grading task starts.

``python -m autograde.grading.child TEMPLATE JOB`` copies the template course (see
``template``) to ``JOB/course``, stages the submission found in ``JOB/submission`` as
``submitted/<student>/<assignment>/``, runs nbgrader's autograde there with the course's
own ``nbgrader_config.py`` (its ``Autograde.autograde_preprocessors``, whatever executor
they name; only the paths, the scratch gradebook and the run's limits are set here), and
writes ``JOB/answer.json`` (status, notes, what nbgrader wrote in the scratch gradebook)
and ``JOB/autograded/`` (the autograded notebooks). Nothing but this process touches the
scratch course, so nothing but the command ever writes the course gradebook.

The task (``autograde.grading.task``) bounds this process's wall-clock time and kills its
whole process tree, kernels included; the process also dies with its parent (Linux
``PR_SET_PDEATHSIG``), so a worker that dies leaves no grading behind. With ``--serve``
the module is a fork server: it pays the imports (seconds) once per worker and forks one
grading process per student.

Staging: notebooks that are not valid JSON/nbformat are left out (nbgrader then scores them
zero as missing); a notebook saved under a slightly different name (``01_cell_forward
(1).ipynb``, ``01_cell_forward-Copy1.ipynb``) is graded under its released name; each such
decision is returned as a note. When nbgrader fails, the student is graded once more (the
cause may be the machine's) before a notebook that breaks the schema is set aside.
"""
import ctypes
import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import sys
import traceback


def die_with_parent(parent):
    """Ask Linux to SIGKILL this process when its parent (pid ``parent``) dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent and os.getppid() != parent:
        os._exit(70)  # the parent died before the request took effect


if __name__ == "__main__":
    die_with_parent(int(os.environ.get("AUTOGRADE_GRADING_PARENT", 0)))  # before the imports: they take seconds

import autograde.runtime.nbgrader_cli  # noqa: E402,F401  (first: it leaves out a grammar nbformat never uses)
import nbformat  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.apps import NbGraderAPI  # noqa: E402
from nbgrader.converters.autograde import Autograde  # noqa: E402
from nbgrader.coursedir import CourseDirectory  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

from autograde.runtime.kernels.view import matplotlib_cache  # noqa: E402
from autograde.runtime.kernels.warm_sandbox import close_warm_sandbox  # noqa: E402

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
    if settings.get("memory") is not None:
        config.LimitedKernelManager.memory_limit = int(settings.get("memory") or 0)
    if "autograde_preprocessors" not in config.Autograde:  # a course config that names no executor
        from autograde.runtime.judge.execute import GradedExecute
        config.Autograde.autograde_preprocessors = [
            GradedExecute if pp is Execute else pp for pp in Autograde.autograde_preprocessors.default()]
    return config


def open_scratch(template, root, settings):
    """A fresh copy of the template course at ``root`` and an nbgrader API on it."""
    root = pathlib.Path(root)
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(template, root)
    config = load_config(root, settings)
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
    """Autograde ``task["student"]`` (files in ``task["submission"]``) in the scratch course ``root``."""
    student = task["student"]
    for kind in ("submitted", "autograded"):
        shutil.rmtree(root / kind, ignore_errors=True)
    target = root / "submitted" / student / assignment
    suspects, first_log = [], None
    notes = stage(pathlib.Path(task["submission"]), target, expected, suspects)
    if not any(target.glob("*.ipynb")):
        return {"student": student, "status": "ungraded", "reason": "no notebook of the assignment could be graded",
                "notes": notes}
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
        return {"student": student, "status": "ungraded", "reason": _reason(result), "notes": notes,
                "log": _log_tail(result)}
    notebooks, timestamp = read_scores(root, assignment, student)
    answer = {"student": student, "status": "graded", "notes": notes, "notebooks": notebooks,
              "timestamp": timestamp, "autograded": str(root / "autograded" / student / assignment)}
    if first_log:  # kept in results.json: why the first attempt failed
        answer["log"] = first_log
    return answer


def run(template, job):
    """Grade the task described in ``job/task.json``; writes ``job/answer.json`` and ``job/autograded/``."""
    job = pathlib.Path(job)
    task = json.loads((job / "task.json").read_text())
    task["submission"] = str(job / "submission")
    settings = task["settings"]
    try:
        root, api = open_scratch(template, job / "course", settings)
        os.chdir(root)
        sys.path.insert(0, str(root))  # modules beside nbgrader_config.py (a late-penalty plugin), as in the course root
        assignment = settings["assignment"]
        expected = {p.stem for p in (root / "release" / assignment).glob("*.ipynb")}
        answer = grade(api, root, assignment, expected, task)
        if answer.get("autograded"):
            shutil.move(answer.pop("autograded"), job / "autograded")
    except Exception as exc:  # an answer, never a crash: the task records it as ungraded
        answer = {"student": task["student"], "status": "ungraded",
                  "reason": f"{type(exc).__name__}: {exc}"[:300], "log": traceback.format_exc()}
    (job / "answer.json.part").write_text(json.dumps(answer))
    (job / "answer.json.part").rename(job / "answer.json")


def preload_course_modules():
    """Import what grading the course's notebooks imports, once for the students this server forks
    for: the executor nbgrader's config names and the modules of the course's hidden checks
    (``from autograde.content.checks import nb07``), with the mistake catalogue they consult."""
    import importlib
    import pkgutil

    names = ["autograde.runtime.judge.execute", "autograde.runtime.plugins.repair",
             "autograde.content.checks", "autograde.content.mistakes"]
    for package in ("autograde.content.checks", "autograde.content.mistakes"):
        names += [m.name for m in pkgutil.iter_modules(importlib.import_module(package).__path__, package + ".")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that does not import fails where it is used, as it did
            pass


def serve():
    """``python -m autograde.grading.child --serve``: fork one grading process per request.

    The imports above take seconds; this process pays them once per worker and forks a
    process per student (``TEMPLATE JOB`` lines on stdin; it answers ``started PID`` at once
    and ``exited PID STATUS`` when that process ends). Each forked process leads a session
    of its own and dies with this one, which dies with the worker."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    matplotlib_cache()  # built once here, copied into every kernel's sandbox by the forked graders
    preload_course_modules()
    for line in sys.stdin:
        template, job = line.rstrip("\n").split("\t")
        server = os.getpid()
        pid = os.fork()
        if pid == 0:  # the grading process
            try:
                out.close()  # only the server answers: the task sees EOF when the server dies
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                os.setsid()
                die_with_parent(server)
                with open(pathlib.Path(job) / "child.log", "ab", buffering=0) as log:
                    os.dup2(log.fileno(), 1)
                    os.dup2(log.fileno(), 2)
                run(template, job)
            finally:
                close_warm_sandbox()  # os._exit skips atexit
                os._exit(0)
        out.write(f"started {pid}\n")
        _, status = os.waitpid(pid, 0)
        out.write(f"exited {pid} {os.waitstatus_to_exitcode(status)}\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve()
    else:
        run(*sys.argv[1:3])
