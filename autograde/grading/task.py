"""Step 3 of class grading: grade one student, as a task a Dask worker runs.

``grade_student`` gets everything as data: the template course (a tar archive, unpacked
once per worker process), the run's settings, the student's id and submitted files as
bytes. It writes them to a private scratch folder on the worker's machine, runs
``autograde.grading.child`` (nbgrader with the course's config) in a child process, and
returns the answer and the autograded notebooks as data: workers need no filesystem in
common with the command. The child process is forked by a fork server of the worker
(``child --serve``), which has imported nbgrader once: a student costs no imports.

The child process runs in a session of its own under a hard wall-clock limit; at the
limit, or when the task is cancelled (Ctrl-C in the command), its whole process tree is
killed, kernels included (a kernel runs in a session of its own, so the tree is read
before anything is killed). A hung or dead submission therefore costs its own task, never
the worker. If the worker process itself dies, the child dies with it
(``PR_SET_PDEATHSIG``), the kernels notice their parent is gone, and Dask's nanny starts a
new worker while the scheduler gives the task to another one.
"""
import contextlib
import io
import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

import psutil

_TEMPLATES = {}   # {sha256 of the archive: unpacked folder}, per worker process
_LOCK = threading.Lock()
POLL = 0.25       # seconds between checks of the child, the limit and cancellation


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
    psutil.wait_procs(family, timeout=5)


def _is_group_leader(pid):
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


class ForkServer:
    """``autograde.grading.child --serve`` for one worker thread: it forks one grading process per
    student from a process that has done the imports (seconds) already."""

    def __init__(self, base=None):
        env = dict(os.environ, AUTOGRADE_GRADING_PARENT=str(os.getpid()))
        # nbgrader calls the `alembic` executable of its own environment
        env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
        base = pathlib.Path(base or scratch_base())
        base.mkdir(parents=True, exist_ok=True)
        with open(base / "forkserver.log", "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "autograde.grading.child", "--serve"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                         cwd=base, start_new_session=True)
        self.buffer = b""

    def alive(self):
        return self.proc.poll() is None

    def readline(self, timeout):
        """The next line from the server, or None when none came within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise EOFError("the fork server exited")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def start(self, template, job):
        """Fork a grading process for ``job``; returns its pid."""
        self.proc.stdin.write(f"{template}\t{job}\n".encode())
        self.proc.stdin.flush()
        line = self.readline(300)  # the first request waits for the server's imports
        if not line or not line.startswith("started "):
            raise EOFError(f"the fork server did not start a grading process ({line!r})")
        return int(line.split()[1])

    def stop(self):
        if self.alive():
            kill_tree(self.proc.pid)
        self.proc.wait()


_IDLE_SERVERS = []  # this worker process's fork servers that grade nobody right now
_IDLE_LOCK = threading.Lock()


@contextlib.contextmanager
def fork_server():
    """A fork server of this worker process for the time of one student (one per thread at a time)."""
    server = None
    with _IDLE_LOCK:
        while _IDLE_SERVERS and server is None:
            candidate = _IDLE_SERVERS.pop()
            server = candidate if candidate.alive() else None
    server = server or ForkServer()
    try:
        yield server
    finally:
        if server.alive():
            with _IDLE_LOCK:
                _IDLE_SERVERS.append(server)


def warm_up(dask_worker=None):
    """Start a fork server in this worker before its first student: its imports overlap with the
    command's preparations (the engine runs this on every worker when it connects)."""
    base = os.environ.get("AUTOGRADE_SCRATCH") or getattr(dask_worker, "local_directory", None)
    with _IDLE_LOCK:
        if not any(s.alive() for s in _IDLE_SERVERS):
            _IDLE_SERVERS.append(ForkServer(base))
    return os.getpid()


def _run_child(template_folder, job, started, limit):
    """Run the grading process of ``job`` until it ends, the limit passes, or the task is cancelled;
    returns (why it was stopped, or None; its exit status, or None)."""
    with fork_server() as server:
        try:
            pid = server.start(template_folder, job)
        except (EOFError, OSError):  # it died since its last student
            server.stop()
            return "the grading process could not be started (its fork server died)", None
        stopped = None
        while True:
            try:
                line = server.readline(POLL)
            except EOFError:  # the server died, and its grading process with it
                kill_tree(pid)
                return stopped or "the grading process was lost (its fork server died)", None
            if line and line.startswith(f"exited {pid} "):
                return stopped, int(line.split()[2])
            if stopped:
                continue  # killed: wait until the server has reaped it
            if time.monotonic() - started > limit:
                stopped = f"grading took longer than {limit:.0f} s; stopped"
            elif _cancelled():
                stopped = "cancelled"
            if stopped:
                kill_tree(pid)


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


def grade_student(template, digest, settings, student, files, extension=None):
    """Grade one student; returns (answer dict, {autograded file: bytes}). Never raises for the
    submission's sake: what went wrong is the answer's ``reason``."""
    started = time.monotonic()
    limit = float(settings["student_timeout"])
    template_folder = unpacked(template, digest)
    job = pathlib.Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_base()))
    try:
        _write_files(job / "submission", files)
        (job / "submission").mkdir(exist_ok=True)
        (job / "task.json").write_text(json.dumps({"student": student, "settings": settings, "extension": extension}))
        stopped, code = _run_child(template_folder, job, started, limit)
        answer_file = job / "answer.json"
        if stopped or not answer_file.exists():
            reason = stopped or f"the grading process exited ({code}) without an answer"
            return {"student": student, "status": "ungraded", "reason": reason,
                    "log": _tail(job / "child.log")}, {}
        answer = json.loads(answer_file.read_text())
        answer["seconds"] = round(time.monotonic() - started, 1)
        autograded = _read_files(job / "autograded") if (job / "autograded").is_dir() else {}
        return answer, autograded
    finally:
        shutil.rmtree(job, ignore_errors=True)
