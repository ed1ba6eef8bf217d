"""Step 3 of class grading: grade one student, as a task a Dask worker runs.

``grade_student`` gets everything as data: the template course (a tar archive, unpacked
once per worker process), the run's settings, the student's id and submitted files as
bytes. It writes them to a private scratch folder on the worker's machine, runs
``autograde.grading.child`` (nbgrader with the course's config) in a grading process of its
own, and returns the StudentResult and the autograded notebooks as data: workers need no
filesystem in common with the command. The grading process is started with
``multiprocessing``'s forkserver start method: the worker's forkserver has imported nbgrader
and the course's checks once (``autograde.grading.preload``) and forks one process per
student, so a student costs no imports. The task goes to it, and its result comes back, over a
Unix socket pair in the one wire format (``autograde.runtime.wire``).

The grading process runs in a session of its own under a hard wall-clock limit; at the
limit, or when the task is cancelled (Ctrl-C in the command), its whole process tree is
killed, kernels included (a kernel runs in a session of its own, so the tree is read
before anything is killed). A hung or dead submission therefore costs its own task, never
the worker. If the worker process itself dies, the grading process sees the worker's end of its
socket close and kills itself, the kernels notice their parent is gone, and Dask's nanny starts
a new worker while the scheduler gives the task to another one.
"""
import io
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import pathlib
import shutil
import signal
import socket
import tarfile
import tempfile
import threading
import time

import psutil

from autograde.grading.result import StudentResult
from autograde.runtime import wire

_TEMPLATES = {}   # {sha256 of the archive: unpacked folder}, per worker process
_LOCK = threading.Lock()
POLL = 0.25       # seconds between checks of the child, the limit and cancellation
ANSWER_LIMIT = 64 * 2**20  # bytes of a grading process's answer (grades, comments, notes, a log's tail)


def scratch_base():
    """Where this worker keeps its scratch folders: AUTOGRADE_SCRATCH, else the Dask worker's own
    local directory, else the system's temporary folder."""
    if os.environ.get("AUTOGRADE_SCRATCH"):
        return pathlib.Path(os.environ["AUTOGRADE_SCRATCH"])
    try:
        from distributed import get_worker
        return pathlib.Path(get_worker().local_directory)
    except (ImportError, ValueError):
        return pathlib.Path(tempfile.gettempdir())


def unpacked(archive, digest):
    """The template course from its archive, unpacked once per worker process."""
    with _LOCK:
        folder = _TEMPLATES.get(digest)
        if folder is None or not folder.exists():
            base = scratch_base()
            base.mkdir(parents=True, exist_ok=True)
            folder = pathlib.Path(tempfile.mkdtemp(prefix="template-", dir=base))
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
                # the "data" filter where this Python has it (3.11.4, 3.10.12 and later; Debian 12's 3.11.2 has
                # not): the archive is the command's own template, so without it nothing unsafe is unpacked
                tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
            _TEMPLATES[digest] = folder
        return folder


def _cancelled():
    """Whether the scheduler no longer wants the task this thread runs (the command was interrupted); read
    from the worker's own state (``autograde.runtime.pinned``)."""
    try:
        from distributed import get_worker
        from distributed.worker import thread_state
        state = get_worker().state.tasks.get(thread_state.key)
    except (ImportError, ValueError, AttributeError):
        return False
    return state is None or state.state in ("cancelled", "released", "forgotten")


def kill_tree(pid):
    """SIGKILL a process that leads its own session and everything it started, kernels included
    (a kernel leads a session of its own, so the tree is read before anything is killed)."""
    try:
        family = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        family = []
    leaders = {pid} | {p.pid for p in family if _is_group_leader(p.pid)}
    for group in leaders:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for process in family:
        try:
            process.kill()
        except psutil.Error:
            pass
    try:  # in case it was stopped before it made its session
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    psutil.wait_procs(family, timeout=5)


def _is_group_leader(pid):
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def grading_context():
    """multiprocessing's forkserver context of this worker process, its server preloading what grading needs.

    A Dask worker is a daemonic process (``distributed.worker.daemon``), which multiprocessing forbids to
    start processes; its grading processes need no such guard (each dies with its task:
    ``child.die_with_task``), so this process is declared non-daemonic first."""
    multiprocessing.current_process().daemon = False
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "autograde.grading.preload"])
    return context


def warm_up(dask_worker=None):
    """Start this worker's forkserver before its first student: its imports overlap with the command's
    preparations (the engine runs this on every worker when it connects)."""
    grading_context()
    multiprocessing.forkserver.ensure_running()
    return os.getpid()


def _run_child(task, started, limit):
    """Run the grading process of ``task`` until it ends, the limit passes, or the task is cancelled;
    returns (its StudentResult message or None, why it was stopped or None, its exit status or None)."""
    ours, theirs = socket.socketpair()
    try:
        process = grading_context().Process(target=_grading_process, args=(theirs,), name=f"grade {task['student']}")
        try:
            process.start()
        except OSError as exc:
            return None, f"the grading process could not be started ({exc})", None
        finally:
            theirs.close()
        try:
            wire.send(ours, task)
        except OSError:  # it died before it read its task: its exit status says so below
            pass
        answer, stopped, watched = None, None, [process.sentinel, ours]
        while process.exitcode is None:
            for ready in multiprocessing.connection.wait(watched, POLL):
                if ready is ours:
                    watched.remove(ours)
                    ours.settimeout(max(POLL, limit - (time.monotonic() - started)))  # a deadline for the rest
                    answer = _receive(ours)
            if process.exitcode is not None:
                break
            if time.monotonic() - started > limit:
                stopped = f"grading took longer than {limit / 60:g} minutes; stopped"
            elif _cancelled():
                stopped = "cancelled"
            if stopped:
                kill_tree(process.pid)
                process.join()
        if answer is None and not stopped:  # it ended before its answer was read: the answer waits in the socket
            answer = _receive(ours)
        code = process.exitcode
        process.close()
        return answer, stopped, code
    finally:
        ours.close()


def _grading_process(channel):
    """The target of a grading process (``child`` is imported in the forkserver, not in the worker)."""
    from autograde.grading import child
    child.serve_one(channel)


def _receive(channel):
    """The grading process's answer on ``channel``; None when it sent none (it died, or was killed)."""
    try:
        return wire.receive(channel, ANSWER_LIMIT)
    except (wire.Closed, wire.Malformed, OSError):
        return None


def _write_files(folder, files):
    for relative, data in files.items():
        path = (folder / relative).resolve()
        if folder.resolve() not in path.parents:  # never outside the submission folder
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _read_files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _tail(path, chars=4000):
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def grade_student(template, digest, assignment, settings, student, files, extension=None):
    """Grade one student of ``assignment`` under ``settings`` (a GradingSettings); returns
    (StudentResult, {autograded file: bytes}). Never raises for the submission's sake: what went wrong is the result's ``reason``."""
    started = time.monotonic()
    limit = settings.student_seconds()
    template_folder = unpacked(template, digest)
    job = pathlib.Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_base()))
    try:
        _write_files(job / "submission", files)
        (job / "submission").mkdir(exist_ok=True)
        task = {"template": str(template_folder), "job": str(job), "student": student, "assignment": assignment,
                "limits": [[section, trait, value] for (section, trait), value in settings.kernel_limits().items()],
                "extension": extension}
        answer, stopped, code = _run_child(task, started, limit)
        if stopped or answer is None:
            reason = stopped or f"the grading process exited ({code}) without an answer"
            return StudentResult(student=student, reason=reason, log=_tail(job / "child.log")), {}
        result = StudentResult.from_json(answer)
        result.seconds = round(time.monotonic() - started, 1)
        autograded = _read_files(job / "autograded") if (job / "autograded").is_dir() else {}
        return result, autograded
    finally:
        shutil.rmtree(job, ignore_errors=True)
