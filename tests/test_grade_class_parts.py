"""The parts of grade-class that need no class to grade: its settings, a student's result, the grading process.

``GradingSettings`` reads every limit from the course's ``nbgrader_config.py`` (the trait's default where
the file sets none); ``StudentResult`` is the entry of results.json; a grading process is forked by the
worker's forkserver, answers in the wire format, and is killed with everything it started at its limit.
"""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time

import psutil
import pytest

from autograde.grading import outputs, task
from autograde.grading.result import StudentResult
from autograde.grading.settings import LIMITS, GradingSettings
from autograde.runtime.judge.execute import GradedExecute
from tests.conftest import REPO


@pytest.fixture
def course(tmp_path):
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    return tmp_path


def test_every_limit_is_the_course_configs(course):
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nc.Execute.timeout = 17\nc.LimitedKernelManager.memory_limit = 3 * 2**30\n"
                     "c.GradedExecute.submission_time_limit = 321\nc.LimitedExecute.output_limit = 999\n"
                     "c.LimitedExecute.output_bytes_limit = 12345\nc.LimitedExecute.notebook_bytes_limit = 54321\n"
                     "c.SandboxedKernelManager.max_processes = 77\nc.GradeClass.student_time_limit = 9\n")
    settings = GradingSettings.from_config(course)
    assert [getattr(settings, field) for field, _, _ in LIMITS] == [17, 3 * 2**30, 321, 999, 12345, 54321, 77, 9]
    assert settings.student_seconds() == 9 * 60
    # what a grading process writes into the scratch course's config: the same values, in the same sections
    assert settings.kernel_limits()[("SandboxedKernelManager", "memory_limit")] == 3 * 2**30
    # a value set for the class grading runs counts over one set for a class it derives from, as in nbgrader
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("c.SandboxedKernelManager.memory_limit = 2 * 2**30\nc.GradedExecute.timeout = 19\n")
    settings = GradingSettings.from_config(course)
    assert (settings.memory_limit, settings.cell_timeout) == (2 * 2**30, 19)
    assert ("GradeClass", "student_time_limit") not in settings.kernel_limits()


def test_flags_override_and_the_traits_default_where_the_config_is_silent(course):
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    settings = GradingSettings.from_config(course, memory_limit=0, students=["a*"], cell_timeout=None)
    assert settings.memory_limit == 0 and settings.students == ("a*",)
    assert settings.cell_timeout == GradedExecute.class_traits()["timeout"].default_value
    assert settings.submission_time_limit == GradedExecute.class_traits()["submission_time_limit"].default_value
    with pytest.raises(TypeError):
        GradingSettings.from_config(course, timeout=3)  # a name that is no setting
    # the course's own file sets the per-student limit, in minutes
    assert GradingSettings.from_config(REPO).student_time_limit == 20


def test_a_result_is_the_entry_of_results_json(tmp_path):
    graded = StudentResult(student="ada", status="graded", notes=["x.ipynb graded as y.ipynb"], hashes={"y.ipynb": "ab"},
                           notebooks={"y": {"late_penalty": None, "grades": {"t": 1.0}, "comments": {"t": None}}},
                           scores={"y": 1.0}, grades={"y": {"t": [1.0, 2.0]}}, score=1.0, max_score=2.0,
                           max_scores={"y": 2.0}, late_penalty=0)
    ungraded = StudentResult(student="bob", reason="no notebook of the assignment could be graded")
    (tmp_path / "submitted" / "ada" / "rnn").mkdir(parents=True)
    (tmp_path / "submitted" / "bob" / "rnn").mkdir(parents=True)
    outputs.write_results(tmp_path / "results.json", {"ada": graded, "bob": ungraded})
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["bob"] == {"student": "bob", "status": "ungraded", "reason": ungraded.reason, "notes": [],
                              "flags": [], "hashes": {}}
    assert written["ada"]["grades"] == {"y": {"t": [1.0, 2.0]}} and "reason" not in written["ada"]
    assert outputs.earlier_results(tmp_path / "results.json", tmp_path, "rnn") == {"ada": graded, "bob": ungraded}
    graded.ungrade("graded earlier, but not in this gradebook: grade again")
    assert not graded.graded and graded.score is None and graded.scores is None


def _hang(channel):
    """A grading process whose student never ends, with a "kernel" in a session of its own; sends its pid."""
    os.setsid()
    kernel = subprocess.Popen(["sleep", "600"], start_new_session=True)
    channel.sendall(str(kernel.pid).encode())
    time.sleep(600)


def _hang_with_its_task(channel):
    """A grading process that never ends but dies with its task, as ``child.serve_one`` does."""
    from autograde.grading import child
    os.setsid()
    child.die_with_task(channel)
    time.sleep(600)


WORKER = """
import sys, time
from autograde.grading import task
from tests import test_grade_class_parts as parts
task._grading_process = parts._hang_with_its_task
task._run_child({"student": "ada"}, time.monotonic(), 600)
"""


def test_a_grading_process_dies_with_its_worker(tmp_path):
    """A worker process that dies (SIGKILL) leaves no grading process behind, though the forkserver that
    forked it outlives the worker while it runs."""
    worker = subprocess.Popen([sys.executable, "-c", WORKER], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not [p for p in psutil.Process(worker.pid).children(recursive=True) if p.pid != worker.pid
                   and os.getsid(p.pid) == p.pid]:
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        grading = next(p for p in psutil.Process(worker.pid).children(recursive=True) if os.getsid(p.pid) == p.pid)
        worker.kill()
        worker.wait()
        gone, alive = psutil.wait_procs([grading], timeout=10)
        assert gone and not alive
    finally:
        if worker.poll() is None:
            worker.kill()


def _task(tmp_path, student="ada"):
    job = tmp_path / "job"
    (job / "submission").mkdir(parents=True)
    return {"template": str(tmp_path / "no-template"), "job": str(job), "student": student, "assignment": "rnn",
            "limits": [], "extension": None}


def test_a_grading_process_answers_in_the_wire_format(tmp_path):
    """Forked by the forkserver, it receives its task and sends its result back: here, why it could not grade."""
    answer, stopped, code = task._run_child(_task(tmp_path), time.monotonic(), limit=300)
    assert stopped is None and code == 0
    result = StudentResult.from_json(answer)
    assert result.student == "ada" and not result.graded and "no-template" in result.reason


def test_a_grading_process_is_killed_with_its_tree_at_its_limit(tmp_path, monkeypatch):
    """Past its limit, the grading process and what it started (a process in a session of its own, as a
    kernel is) are killed; the task answers why, and nothing of it is left."""
    started = []
    monkeypatch.setattr(task, "_grading_process", _hang)
    monkeypatch.setattr(task, "_receive", lambda channel: started.append(int(channel.recv(64))))
    answer, stopped, code = task._run_child(_task(tmp_path), time.monotonic(), limit=3)
    assert answer is None and stopped == "grading took longer than 0.05 minutes; stopped" and code == -9
    assert started
    with pytest.raises(psutil.NoSuchProcess):
        assert psutil.Process(started[0]).status() == psutil.STATUS_ZOMBIE  # killed, and reaped


def test_settings_are_a_frozen_value(course):
    settings = GradingSettings.from_config(course)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.memory_limit = 1
