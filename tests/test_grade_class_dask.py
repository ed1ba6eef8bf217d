"""Class grading on a real Dask cluster, and Ctrl-C.

``test_cluster_survives_a_killed_worker`` starts a ``dask scheduler`` and two ``dask worker``
processes on localhost (each with its own scratch folder: nothing but the network joins them
to the command), grades an adversarial class against a PostgreSQL gradebook with
``--scheduler``, SIGKILLs the worker process that is grading a student, and compares every
grade with stock serial ``nbgrader autograde`` on a copy of the class.
``test_ctrl_c_stops_promptly`` interrupts ``grade-class`` as a terminal's Ctrl-C does.

Both grade only the first notebook of the course so that they stay fast.
"""
import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import psutil
import pytest
from nbgrader.api import Gradebook

from autograde.content import mistakes, notebooks
from autograde.grading.course import Course
from autograde.grading import merge
from autograde.grade_class import GradingSettings, grade_class
from autograde.grading.samples import replace_for
from tests.conftest import REPO
from tests.test_grade_class import POSTGRES, _fn, _postgres_admin

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.cluster]  # grade-class on Dask clusters

CELL_TIMEOUT = 10
MEMORY = 2 * 2**30
PYTHON_BIN = pathlib.Path(sys.executable).parent


def first_notebook_course(destination, db_url=None, config=""):
    """A scratch copy of the course with only its first notebook, generated (gradebook: db_url)."""
    course = Course.copy_of(REPO, destination)
    for path in notebooks.notebook_paths(course.folder("source"))[1:]:
        path.unlink()
    with open(course.root / "nbgrader_config.py", "a") as handle:
        handle.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n" + config)
        if db_url:
            handle.write(f"c.CourseDirectory.db_url = {db_url!r}\n")
    course.generate()
    return course


def write_class(course):
    """About a dozen students stock nbgrader can grade too, plus one that crashed the integrity scan."""
    first = course.notebook_names()[0]
    release_nb = notebooks.read(course.folder("release") / f"{first}.ipynb")
    fn = next(notebooks.grade_id(c) for c in release_nb.cells if notebooks.is_answer(c))
    test = next(notebooks.grade_id(c) for c in release_nb.cells if notebooks.is_test(c))
    found = [m for m in mistakes.all_mistakes() if m.notebook == first][:2]
    cases = {"correct": {}, "blank": {"blank": True},
             "raises": {"replace": {first: {fn: _fn(fn, "raise RuntimeError('boom')")}}},
             "loops": {"replace": {first: {fn: "while True:\n    pass"}}},
             "sys-exit": {"replace": {first: {fn: "import sys\nsys.exit(3)"}}},
             "os-exit": {"replace": {first: {fn: "import os\nos._exit(3)"}}},
             "memory-hog": {"replace": {first: {fn: "import numpy as np\nbig = np.ones(50 * 10**9 // 8)"}}},
             "cheater": {"replace": {first: {fn: "import autograde.content.solution as reference\n"
                                                 f"{fn} = reference.{fn}"}}}}
    cases.update({f"mistake-{i}": {"replace": replace_for(entry)} for i, entry in enumerate(found)})
    for student, how in cases.items():
        course.write_submission(student, **how)
    path = lambda student: course.folder("submitted", student) / f"{first}.ipynb"  # noqa: E731
    for student, change in {"deletes-test": lambda nb: nb.cells.remove(next(c for c in nb.cells if notebooks.grade_id(c) == test)),
                            "edits-test": lambda nb: setattr(next(c for c in nb.cells if notebooks.grade_id(c) == test),
                                                             "source", "pass")}.items():
        course.write_submission(student)
        nb = notebooks.read(path(student))
        change(nb)
        notebooks.write(nb, path(student))
    course.write_submission("nested")
    path("nested").write_text("[" * 100_000)
    return first


def auto_scores(db_url, students):
    with Gradebook(db_url) as gb:
        return {(s, nb.name, g.name): (g.auto_score, nb.late_submission_penalty) for s in students
                for nb in gb.find_submission("rnn", s).notebooks for g in nb.grades}


def serial_nbgrader(course, destination):
    """Stock serial `nbgrader autograde rnn` on a copy of the course (own SQLite gradebook)."""
    copy = pathlib.Path(shutil.copytree(course.root, destination, ignore=shutil.ignore_patterns("gradebook.db")))
    with open(copy / "nbgrader_config.py", "a") as handle:
        handle.write('\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n')
    serial = Course(copy)
    serial.generate()
    env = dict(os.environ, PATH=os.pathsep.join([str(PYTHON_BIN), os.environ["PATH"]]))
    # exit status 1 when a student fails (here: "nested", which stock nbgrader cannot read)
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "rnn", "--force"], cwd=copy, env=env,
                   capture_output=True, check=False)
    return serial


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path):
    """A `dask scheduler` and two `dask worker` processes (nanny + worker each) on localhost."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PATH=os.pathsep.join([str(PYTHON_BIN), os.environ["PATH"]]),
               DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="2")
    started = [subprocess.Popen([str(PYTHON_BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                 "--no-dashboard"], env=env, cwd=tmp_path, start_new_session=True,
                                stdout=open(tmp_path / "scheduler.log", "w"), stderr=subprocess.STDOUT)]
    workers = []
    for index in range(2):
        home = tmp_path / f"worker{index}"
        (home / "scratch").mkdir(parents=True)
        workers.append(subprocess.Popen(
            [str(PYTHON_BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
             "--local-directory", str(home), "--name", f"worker{index}"],
            env=dict(env, AUTOGRADE_SCRATCH=str(home / "scratch")), cwd=home, start_new_session=True,
            stdout=open(home / "worker.log", "w"), stderr=subprocess.STDOUT))
    started += workers
    try:
        from distributed import Client
        deadline = time.monotonic() + 120
        while True:  # the scheduler may not listen yet
            try:
                client = Client(address, timeout="5s", set_as_default=False)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        client.wait_for_workers(2, timeout=120)
        yield address, workers, client
        client.close()
    finally:
        for proc in reversed(started):
            _kill_session(proc)


def _kill_session(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def grading_children(ancestor_pids):
    """[(grading process, the student it grades)] running under the given processes. A grading
    process works in its job's scratch course, JOB/course, where it stages submitted/<student>/."""
    found = []
    for pid in ancestor_pids:
        try:
            family = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            continue
        for process in family:
            try:
                folder = pathlib.Path(process.cwd())
                if folder.name != "course" or not folder.parent.name.startswith("grade-"):
                    continue
                found.append((process, next((folder / "submitted").iterdir()).name))
            except (psutil.Error, OSError, StopIteration):
                continue
    return found


def kill_a_busy_worker(nannies, killed, stop):
    """SIGKILL the worker process (not its nanny) of the first grading process seen running for a second."""
    nanny_pids = {n.pid for n in nannies}
    while not stop.is_set():
        for child, student in grading_children(nanny_pids):
            try:
                # a second in, its kernel is running: mid-grade ("nested" has no notebook to grade)
                if time.time() - child.create_time() > 1 and student != "nested":
                    worker = next(p for p in child.parents() if p.ppid() in nanny_pids)
                    killed.append((student, worker.pid))
                    worker.kill()
                    return
            except (psutil.Error, StopIteration):
                continue
        time.sleep(0.2)


def test_cluster_survives_a_killed_worker(dask_cluster, tmp_path, monkeypatch):
    address, nannies, client = dask_cluster
    admin = _postgres_admin()
    name = f"gradebook_{uuid.uuid4().hex[:8]}"
    admin.cursor().execute(f"CREATE DATABASE {name}")
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    try:
        course = first_notebook_course(tmp_path / "course", db_url=url)
        write_class(course)
        students = sorted(p.parent.name for p in course.root.glob("submitted/*/rnn"))
        merged = []
        original = merge.Merger.merge
        monkeypatch.setattr(merge.Merger, "merge", lambda self, result, **kw: (merged.append(result.student),
                                                                                original(self, result, **kw))[1])
        killed, stop = [], threading.Event()
        killer = threading.Thread(target=kill_a_busy_worker, args=(nannies, killed, stop), daemon=True)
        killer.start()
        try:
            results = grade_class(course.root, "rnn", GradingSettings.from_config(
                course.root, scheduler=address, cell_timeout=CELL_TIMEOUT, memory_limit=MEMORY, quiet=True,
                report=False))
        finally:
            stop.set()
            killer.join()
        assert killed, f"no worker was killed mid-run: {({s: r.reason for s, r in results.items()})}"
        assert sorted(results) == students
        graded = sorted(s for s, r in results.items() if r.status == "graded")
        assert graded == sorted(set(students) - {"nested"}), {s: r.reason for s, r in results.items()}
        assert "could not be read" in results["nested"].reason + " ".join(results["nested"].notes)
        assert sorted(merged) == graded  # each student merged exactly once, the killed worker's too
        assert killed[0][0] in graded
        # the nanny replaced the killed worker
        client.wait_for_workers(2, timeout=60)
        serial = serial_nbgrader(course, tmp_path / "serial")
        assert auto_scores(url, graded) == auto_scores(serial.db_url, graded)
        assert all(g == m for g, m in course.scores("correct")[course.notebook_names()[0]].values())
    finally:
        from sqlalchemy import create_engine
        create_engine(url).dispose()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_ctrl_c_stops_promptly(tmp_path):
    """Ctrl-C (SIGINT to the command's process group) stops the run within seconds: the students
    finished are merged and listed, the others absent, and no grading process is left behind."""
    course = first_notebook_course(tmp_path / "course")
    first = course.notebook_names()[0]
    fn = next(notebooks.grade_id(c) for c in notebooks.read(course.folder("release") / f"{first}.ipynb").cells
              if notebooks.is_answer(c))
    for student in ("a-correct", "b-correct"):
        course.write_submission(student)
    slow = [f"c-loops-{i}" for i in range(4)]
    for student in slow:
        course.write_submission(student, replace={first: {fn: "import time\ntime.sleep(600)"}})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = dict(os.environ, PATH=os.pathsep.join([str(PYTHON_BIN), os.environ["PATH"]]), AUTOGRADE_SCRATCH=str(scratch))
    proc = subprocess.Popen([sys.executable, "-m", "autograde.grade_class", "rnn", "--jobs", "2", "--timeout", "300",
                             "--no-report"], cwd=course.root, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:  # until both fast students are merged and a slow one is being graded
            with Gradebook(course.db_url) as gb:
                done = {s.student.id for s in gb.find_assignment("rnn").submissions}
            if {"a-correct", "b-correct"} <= done and grading_children([proc.pid]):
                break
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        interrupted = time.monotonic()
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - interrupted
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    assert took < 20, f"stopped {took:.1f} s after Ctrl-C"
    assert "interrupted" in err
    with Gradebook(course.db_url) as gb:
        merged = {s.student.id for s in gb.find_assignment("rnn").submissions}
    results = json.loads((course.root / "reports" / "rnn" / "results.json").read_text())
    assert {"a-correct", "b-correct"} <= merged and not merged & set(slow)
    assert set(results) == merged and all(r["status"] == "graded" for r in results.values())
    assert sorted(p.name for p in (course.root / "autograded").iterdir()) == sorted(merged)
    time.sleep(2)  # kernels notice their parent is gone within a second
    left = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        text = " ".join(process.info["cmdline"] or []) + " " + (process.info["cwd"] or "")
        if str(scratch) in text or str(course.root) in text:
            left.append(text)
    assert not left, left


def test_a_killed_run_loses_no_one_and_the_next_run_continues(tmp_path, capsys):
    """grade-class SIGKILLed mid-run: the students it had merged are already in results.json and
    scores.csv; the next run keeps them (not graded again) and grades only the others."""
    course = first_notebook_course(tmp_path / "course")
    first = course.notebook_names()[0]
    fn = next(notebooks.grade_id(c) for c in notebooks.read(course.folder("release") / f"{first}.ipynb").cells
              if notebooks.is_answer(c))
    for student in ("a-correct", "b-correct"):
        course.write_submission(student)
    slow = ["c-sleeps-0", "c-sleeps-1"]
    for student in slow:
        course.write_submission(student, replace={first: {fn: "import time\ntime.sleep(600)"}})
    env = dict(os.environ, PATH=os.pathsep.join([str(PYTHON_BIN), os.environ["PATH"]]))
    proc = subprocess.Popen([sys.executable, "-m", "autograde.grade_class", "rnn", "--jobs", "2", "--timeout", "300",
                             "--no-report", "-q"], cwd=course.root, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports = course.root / "reports" / "rnn"
    try:
        deadline = time.monotonic() + 240
        while True:  # until both fast students are in the class files and a slow one is being graded
            try:
                written = json.loads((reports / "results.json").read_text())
            except (OSError, ValueError):
                written = {}
            if {"a-correct", "b-correct"} <= set(written) and grading_children([proc.pid]):
                break
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.5)
        proc.kill()  # the command alone, as the OOM killer or a lost SSH session would
        proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its orphaned cluster
    written = json.loads((reports / "results.json").read_text())
    assert set(written) == {"a-correct", "b-correct"}
    assert all(r["status"] == "graded" and r["score"] == r["max_score"] for r in written.values())
    rows = (reports / "scores.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["a-correct", "b-correct"]
    assert not json.loads((reports / "run.json").read_text())["complete"]
    kept = {p: p.stat().st_mtime_ns for p in (course.root / "autograded").glob("[ab]-correct/rnn/*.ipynb")}

    results = grade_class(course.root, "rnn", GradingSettings.from_config(course.root, jobs=2, cell_timeout=3,
                                                                          memory_limit=MEMORY, report=False))
    assert "continuing the run that stopped" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # not graded again
    assert sorted(results) == ["a-correct", "b-correct", *slow]
    assert all(r.status == "graded" for r in results.values())
    assert all(r.score < r.max_score for s, r in results.items() if s in slow)
    assert json.loads((reports / "run.json").read_text())["complete"]
    with Gradebook(course.db_url) as gb:
        assert {s.student.id for s in gb.find_assignment("rnn").submissions} == set(results)
