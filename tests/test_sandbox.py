"""Real attacks from a submission, graded by stock `nbgrader autograde` with the course's config:
the sandbox (autograde.runtime.kernels.sandbox) lets a kernel hurt no one but itself.

One scratch course with the first notebook. The attacker's answer cell runs every attack at
import time, each in a try block, then defines the correct function: it must get exactly the
points of a correct answer, no file outside its own copy may change, no process may outlive
its kernel, nothing may reach a server on the host, and the honest student graded after it
must be graded as in a clean run.
"""
import hashlib
import os
import pathlib
import socket
import subprocess
import threading
import uuid

import pytest

from autograde.content import notebooks
from autograde.grading.course import NbgraderFailed
from autograde.runtime.kernels.cgroups import hierarchies
from autograde.runtime.kernels.sandbox import SandboxedKernelManager, bwrap_path, check_sandbox
from tests.attacks import judge_attack
from tests.conftest import REPO, first_notebook_course

pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(check_sandbox(bwrap_path()) is not None,
                                 reason=f"bubblewrap cannot build a sandbox here: {check_sandbox(bwrap_path())}")]

ATTACK = '''
import glob, os, pathlib, signal, socket, subprocess, sys
MARK = "{mark}"
here = pathlib.Path.cwd()
def attempt(what, action):
    try:
        action()
        print("ATTACK", what, "did not raise")
    except Exception as exc:
        print("ATTACK", what, "failed:", type(exc).__name__)
# the gradebook and the course, from the working directory and from known paths
for path in [*here.parents, pathlib.Path({root!r})]:
    for db in glob.glob(str(path / "*.db")):
        attempt("gradebook " + db, lambda db=db: open(db, "r+b").write(b"garbage" * 100))
attempt("course gradebook", lambda: open({gradebook!r}, "r+b").write(b"garbage" * 100))
attempt("classmate", lambda: open({victim!r}, "w").write("{{}}"))
attempt("repository", lambda: open({checks!r}, "a").write("\\nraise SystemExit('poisoned')\\n"))
attempt("solution read", lambda: print(len(open({solution!r}).read())))
attempt("profile", lambda: (pathlib.Path.home() / ".ipython/profile_default/startup").mkdir(parents=True, exist_ok=True)
        or (pathlib.Path.home() / ".ipython/profile_default/startup/00-poison.py").write_text("raise SystemExit"))
attempt("host tmp", lambda: open("/tmp/" + MARK, "w").write("x"))
attempt("own folder", lambda: open("rnn_helpers/__init__.py", "a").write("\\nraise SystemExit('poisoned')\\n"))
attempt("network", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(MARK.encode()))
attempt("detached child", lambda: subprocess.Popen(["sleep", "{sleep}"], start_new_session=True))
def double_fork():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "{sleep}"])
        os._exit(0)
attempt("double fork", double_fork)
def many_processes():  # a fork bomb, bounded so that it cannot hurt the machine where the limit is missing
    started = []
    try:
        for _ in range(600):
            started.append(subprocess.Popen(["sleep", "{sleep}"]))
    finally:  # then gone again: at the limit the kernel itself could start no thread, and would hang
        print("ATTACK processes started:", len(started))
        for process in started:
            process.kill()
            process.wait()
attempt("processes", many_processes)
attempt("flood", lambda: [print("x" * 1_000_000) for _ in range(30)])  # 30 MB into the autograded notebook
# the grader of this course only: nbgrader's process, found by its working directory
attempt("signal the grader", lambda: [os.kill(int(p), signal.SIGKILL) for p in os.listdir("/proc")
                                      if p.isdigit() and int(p) not in (1, os.getpid())
                                      and os.readlink(f"/proc/{{p}}/cwd") == {root!r}])
'''


def _digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _tree_digest(folder):
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(pathlib.Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", params=["cold", "warm"])
def attacked(request, tmp_path_factory):
    """The course after grading the attack; ``warm``: each student's kernels forked from a warm parent in one
    sandbox per student (``SandboxedKernelManager.warm_start``, as grade-class runs them), so the students
    graded after the attacker in the same nbgrader process get sandboxes it never ran in."""
    course, first = first_notebook_course(tmp_path_factory.mktemp(f"sandbox-{request.param}"))
    release_nb = notebooks.read(course.folder("release") / f"{first}.ipynb")
    function = next(notebooks.grade_id(c) for c in release_nb.cells if notebooks.is_answer(c))
    solution = next(notebooks.without_markers(c.source) for c in notebooks.read(course.folder("source") / f"{first}.ipynb").cells
                    if notebooks.grade_id(c) == function)

    received = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(1.0)

    def listen():
        while not stopped.is_set():
            try:
                connection, _ = server.accept()
                received.append(connection.recv(100))
                connection.close()
            except OSError:
                pass
    stopped = threading.Event()
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    course.write_submission("a-honest")
    course.autograde("a-honest")  # the gradebook now holds a student to damage
    victim = course.folder("submitted", "a-honest") / f"{first}.ipynb"
    mark, sleep = f"autograde-attack-{uuid.uuid4().hex}", f"{7000 + os.getpid() % 1000}.{uuid.uuid4().int % 10**6}"
    attack = ATTACK.format(mark=mark, root=str(course.root), gradebook=str(course.root / "gradebook.db"),
                           victim=str(victim), checks=str(REPO / "autograde" / "content" / "checks" / "__init__.py"),
                           solution=str(REPO / "autograde" / "content" / "solution.py"), port=server.getsockname()[1], sleep=sleep)
    course.write_submission("b-attacker", replace={first: {function: attack + "\n" + solution}})
    course.write_submission("c-honest")
    answers = [c for c in release_nb.cells if notebooks.is_answer(c)]
    stubs = {notebooks.grade_id(c): c.source for c in answers}  # every function left as released ...
    stubs[notebooks.grade_id(answers[0])] = judge_attack(list(stubs), answers[0].source)  # ... the attack first
    course.write_submission("d-cheat", replace={first: stubs})
    course.write_submission("e-blank", blank=True)
    protected = {"submitted": _tree_digest(course.root / "submitted"), "source": _tree_digest(course.root / "source"),
                 "checks": _digest(REPO / "autograde" / "content" / "checks" / "__init__.py")}
    checks_file = REPO / "autograde" / "content" / "checks" / "__init__.py"
    checks_bytes, startup = checks_file.read_bytes(), pathlib.Path.home() / ".ipython/profile_default/startup/00-poison.py"
    try:
        course.nbgrader("autograde", "rnn", "--force", "--student=[b-e]-*",
                        f"--SandboxedKernelManager.warm_start={request.param == 'warm'}")
    finally:  # a sandbox that failed must not leave the attack's damage behind for later tests (the test still fails)
        checks_after = checks_file.read_bytes()
        if checks_after != checks_bytes:
            checks_file.write_bytes(checks_bytes)
        leftovers = subprocess.run(["pgrep", "-f", f"sleep {sleep}"], capture_output=True, text=True).stdout.split()
        poisoned_profile = startup.exists()
        startup.unlink(missing_ok=True)
        host_mark = (pathlib.Path("/tmp") / mark).exists()
        (pathlib.Path("/tmp") / mark).unlink(missing_ok=True)
        subprocess.run(["pkill", "-f", f"sleep {sleep}"], capture_output=True)
    stopped.set()
    listener.join()
    server.close()
    return course, first, {"received": received, "protected": protected, "leftovers": leftovers,
                           "checks_after": hashlib.sha256(checks_after).hexdigest(), "poisoned_profile": poisoned_profile,
                           "host_mark": host_mark}


def _scores(course, student, notebook):
    return course.scores(student, [notebook])[notebook]


def test_the_attacker_earns_exactly_a_correct_answers_points(attacked):
    course, first, _ = attacked
    assert _scores(course, "b-attacker", first) == _scores(course, "a-honest", first)
    graded = notebooks.read(course.folder("autograded", "b-attacker") / f"{first}.ipynb")
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert "ATTACK" in printed  # the attacks ran (and failed or changed only the sandbox's copy)


def test_cheating_the_judge_earns_nothing(attacked):
    """Blank functions, and every trick against the checks: swallowed errors (an AST transformer, no
    tracebacks), numpy's comparisons and the checks' modules replaced, the solution looked for by
    import and on disk. The checks run in the grader, so the cheat scores what a blank scores: 0."""
    course, first, _ = attacked
    blank = _scores(course, "e-blank", first)
    assert _scores(course, "d-cheat", first) == blank
    assert all(score == 0 for score, _ in blank.values())
    graded = notebooks.read(course.folder("autograded", "d-cheat") / f"{first}.ipynb")
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert "CHEAT import the solution failed: ModuleNotFoundError" in printed
    assert "CHEAT read the solution failed" in printed
    assert "stolen: []" in printed


def _sandbox_saw(course, student, first):
    return notebooks.read(course.folder("autograded", student) / f"{first}.ipynb").metadata["autograde"]["sandbox"]


def test_the_sandbox_records_what_the_attacker_tried(attacked):
    """Run-time evidence, kept in the autograded notebook: the attempts on the course folder and the
    grader, the network, processes (and those left running), and the flood; nothing for honest students."""
    course, first, _ = attacked
    saw = _sandbox_saw(course, "b-attacker", first)
    kinds = {event["kind"] for event in saw["events"]}
    assert {"outside", "network", "process"} <= kinds, saw
    details = " ".join(event["detail"] for event in saw["events"])
    assert "gradebook.db" in details and str(REPO / "autograde") in details
    assert any("sleep" in p for p in saw["left_running"]), saw
    assert saw["output_cut"]
    cheat = _sandbox_saw(course, "d-cheat", first)
    assert "grader" in {event["kind"] for event in cheat["events"]}, cheat
    for honest in ("a-honest", "c-honest", "e-blank"):
        assert _sandbox_saw(course, honest, first) == {"events": [], "left_running": [], "output_cut": []}


def test_students_graded_before_and_after_keep_their_grades(attacked):
    course, first, _ = attacked
    full = {g: (most, most) for g, (_, most) in _scores(course, "a-honest", first).items()}
    assert _scores(course, "a-honest", first) == full
    assert _scores(course, "c-honest", first) == full


def test_no_file_outside_the_kernels_copy_changed(attacked):
    course, _, facts = attacked
    assert _tree_digest(course.root / "submitted") == facts["protected"]["submitted"]
    assert _tree_digest(course.root / "source") == facts["protected"]["source"]
    assert facts["checks_after"] == facts["protected"]["checks"]
    assert not facts["host_mark"]
    assert not facts["poisoned_profile"]
    rnn_helpers = course.folder("autograded", "b-attacker") / "rnn_helpers" / "__init__.py"
    assert "poisoned" not in rnn_helpers.read_text()


def test_the_number_of_processes_is_limited(attacked):
    """600 processes asked for; the kernel's pids cgroup allows max_processes (threads included)."""
    course, first, _ = attacked
    if not hierarchies("pids"):
        pytest.skip("no pids cgroup can be made here: the process limit is not applied")
    graded = notebooks.read(course.folder("autograded", "b-attacker") / f"{first}.ipynb")
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    started = int(printed.split("ATTACK processes started:")[1].split()[0])
    assert 100 < started < SandboxedKernelManager.max_processes.default_value


def test_a_flood_of_output_is_cut_with_a_note(attacked):
    course, first, _ = attacked
    path = course.folder("autograded", "b-attacker") / f"{first}.ipynb"
    assert path.stat().st_size < 2_000_000
    assert "[output cut:" in path.read_text()


def test_nothing_reached_the_network(attacked):
    _, _, facts = attacked
    assert facts["received"] == []


def test_no_process_outlives_its_kernel(attacked):
    _, _, facts = attacked
    assert facts["leftovers"] == []


def test_grading_stops_with_a_clear_message_when_the_sandbox_cannot_start(attacked):
    course, first, _ = attacked
    with pytest.raises(NbgraderFailed) as failure:
        course.nbgrader("autograde", "rnn", "--force", "--student=c-honest", f"--notebook={first}",
                        "--SandboxedKernelManager.bwrap=/bin/false")
    assert "sandbox cannot start" in str(failure.value)
    assert "c.SandboxedKernelManager.sandbox = False" in str(failure.value)
