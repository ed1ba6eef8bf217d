"""A submission is untrusted code: graded by stock `nbgrader autograde` with the course's configuration,
it sees nothing of the host but its own copy, cannot hurt the grader through what it sends back, and
costs only its own points and its own minutes.

One scratch course with the first notebook; decoys planted where a grading host keeps other things (a
second checkout of the course with its solution, a home folder, a secret in the grader's environment).
The same attacks run through grade-class in tests/test_grade_class.py.
"""
import fnmatch
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import uuid

import pytest

from autograde.content import notebooks
from autograde.runtime.kernels.sandbox import SandboxedKernelManager, bwrap_path, check_sandbox
from tests.attacks import (KERNEL_IPC_FOLDER, filling, flooding, garbling, looping, planted_decoys,
                           remove_decoys, sandbox_folders, search_attack)
from tests.conftest import REPO, first_notebook_course

pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(check_sandbox(bwrap_path()) is not None,
                                 reason=f"bubblewrap cannot build a sandbox here: {check_sandbox(bwrap_path())}")]

LOOP_CELL_TIMEOUT, LOOP_BUDGET = 4, 6  # seconds: the looping submission's cell limit and its time in all
# (the first endless call takes a cell's limit, the second what is left: the third function is not run)
IPC_MEMORY = 2 * 2**30  # bytes: the memory limit of the kernel that fills the folder it shares with the grader
WRITABLE = 512 * 2**20  # bytes a kernel may write in its tmpfs in all (nbgrader_config.py)


def _shared_memory():
    """Bytes of the host's memory in tmpfs (every sandbox's /tmp included) and shared memory."""
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    return 0


class Peak:
    """The most the host's shared memory and its temporary folder's disk usage grew while a block ran."""

    def __enter__(self):
        self.start = (_shared_memory(), shutil.disk_usage("/tmp").used)
        self.grew, self.done = [0, 0], threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self):
        while not self.done.wait(0.05):
            now = (_shared_memory(), shutil.disk_usage("/tmp").used)
            self.grew = [max(g, n - s) for g, n, s in zip(self.grew, now, self.start)]

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def _autograde(course, *args):
    """Stock `nbgrader autograde` in the course, and the peak memory (KiB) of the grading process or any
    of its children (the kernels)."""
    peak = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")
    command = [sys.executable, "-c", peak, sys.executable, "-m", "autograde.runtime.nbgrader_cli", "autograde", "rnn",
               "--force", *args]
    env = {**os.environ, "PATH": os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ["PATH"]])}
    proc = subprocess.run(command, cwd=course.root, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return int(proc.stdout.split("PEAK")[-1].split()[0])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course, first = first_notebook_course(tmp_path_factory.mktemp("untrusted"))
    release = notebooks.read(course.folder("release") / f"{first}.ipynb")
    source = notebooks.read(course.folder("source") / f"{first}.ipynb")
    answers = [notebooks.grade_id(c) for c in release.cells if notebooks.is_answer(c)]
    stub = {notebooks.grade_id(c): c.source for c in release.cells if notebooks.is_answer(c)}
    solution = {notebooks.grade_id(c): notebooks.without_markers(c.source) for c in source.cells
                if notebooks.grade_id(c) in stub}

    course.write_submission("honest")
    course.write_submission("blank", blank=True)
    course.write_submission("searcher", replace={first: {**stub, answers[0]: search_attack(answers, stub[answers[0]])}})
    course.write_submission("flooder", replace={first: {answers[0]: flooding(answers[0], solution[answers[0]])}})
    course.write_submission("looper", replace={first: {a: looping(a) for a in answers}})
    course.write_submission("garbler", replace={first: {answers[0]: garbling(answers[0], solution[answers[0]])}})
    # links: the notebook itself, and a file beside it, point at the course's source notebook (the solution)
    linked = course.write_submission("linker", blank=True)
    (linked / f"{first}.ipynb").unlink()
    (linked / f"{first}.ipynb").symlink_to(course.folder("source") / f"{first}.ipynb")
    peek = ("import os\nprint('LEAK', os.path.exists('notes.txt') and 'BEGIN SOLUTION' in open('notes.txt').read())\n")
    leaked = course.write_submission("snooper", replace={first: {answers[0]: peek + solution[answers[0]]}})
    (leaked / "notes.txt").symlink_to(course.folder("source") / f"{first}.ipynb")
    piped = course.write_submission("piper")
    os.mkfifo(piped / "pipe")
    course.write_submission("tmp-filler", replace={first: {answers[0]: filling(['"/tmp"', '"."', '"/dev/shm"'],
                                                                           solution[answers[0]])}})
    course.write_submission("ipc-filler", replace={first: {answers[0]: filling([KERNEL_IPC_FOLDER],
                                                                               solution[answers[0]])}})

    token = uuid.uuid4().hex
    decoys = planted_decoys((REPO / "autograde" / "content" / "solution.py").read_text(), token)
    os.environ["AUTOGRADE_DECOY_SECRET"] = token
    folders_before = sandbox_folders()
    try:
        peak = _autograde(course, "--student=[!lti]*")
        _autograde(course, "--student=linker")
        with Peak() as filled:
            _autograde(course, "--student=tmp-filler")
        with Peak() as ipc_filled:
            _autograde(course, "--student=ipc-filler", f"--LimitedKernelManager.memory_limit={IPC_MEMORY}")
        _autograde(course, "--student=looper", f"--Execute.timeout={LOOP_CELL_TIMEOUT}",
                   f"--GradedExecute.submission_time_limit={LOOP_BUDGET}")
    finally:
        del os.environ["AUTOGRADE_DECOY_SECRET"]
        remove_decoys(token)
    return {"course": course, "first": first, "answers": answers, "decoys": decoys, "token": token, "peak": peak,
            "filled": filled.grew, "ipc_filled": ipc_filled.grew, "left": sandbox_folders() - folders_before}


def scores(graded, student):
    course, first = graded["course"], graded["first"]
    return course.scores(student, [first])[first]


def autograded(graded, student):
    return notebooks.read(graded["course"].folder("autograded", student) / f"{graded['first']}.ipynb")


def printed(nb):
    return "".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells for o in c.get("outputs", []))


def lost(graded, student):
    return sorted(g for g, (score, most) in scores(graded, student).items() if score < most)


def cells_of(graded, function):
    release = notebooks.read(graded["course"].folder("release") / f"{graded['first']}.ipynb")
    return sorted(notebooks.grade_id(c) for c in release.cells
                  if notebooks.is_test(c) and notebooks.grade_id(c).startswith(f"test_{function}_"))


def test_a_search_of_the_whole_file_system_finds_no_decoy_and_no_secret(graded):
    """The decoys are real copies of the solution; a kernel that found one would score full marks."""
    assert graded["decoys"], "no decoy could be planted"
    text = printed(autograded(graded, "searcher"))
    assert "SEARCH found: []" in text and "SEARCH stolen: []" in text, text[-3000:]
    assert graded["token"] not in text
    assert scores(graded, "searcher") == scores(graded, "blank")
    environment = json.loads(text.split("SEARCH environment:")[1].split("\n")[0].replace("'", '"'))
    passed = SandboxedKernelManager.passed_environment.default()
    set_by_the_sandbox_or_the_kernel = {"HOME", "PATH", "TMPDIR", "IPYTHONDIR", "MPLCONFIGDIR", "JPY_PARENT_PID", "PWD",
                                        "TERM", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "PAGER", "GIT_PAGER",
                                        "PYDEVD_USE_FRAME_EVAL"}
    assert all(name in set_by_the_sandbox_or_the_kernel or any(fnmatch.fnmatchcase(name, p) for p in passed)
               for name in environment), environment
    assert "AUTOGRADE_DECOY_SECRET" not in environment


def test_a_flood_on_the_judges_socket_costs_its_function_and_no_memory(graded):
    """2^40 announced, 3 GiB sent, at every call of the first function: those calls fail as the
    student's error (and a check that runs it inside another function may fail too), the grader never
    holds the flood, a function that never calls it keeps its points."""
    first_function, last_function = graded["answers"][0], graded["answers"][-1]
    assert set(cells_of(graded, first_function)) <= set(lost(graded, "flooder"))
    assert not set(cells_of(graded, last_function)) & set(lost(graded, "flooder"))
    assert "output is too large" in printed(autograded(graded, "flooder"))
    assert graded["peak"] < 1_500_000, f"a grading process or kernel peaked at {graded['peak']} KiB"


def test_malformed_messages_fail_only_the_calls_that_sent_them(graded):
    """Bad JSON, bad bytes, deep nesting, a reply that is not an object, a refused dtype, a shape that
    disagrees with its bytes, an absurd shape, an error that is not an object, an unhashable key: each
    fails its call as a cell failure, never the grader; a function that never sends one keeps its points."""
    first_function, last_function = graded["answers"][0], graded["answers"][-1]
    assert set(cells_of(graded, first_function)) <= set(lost(graded, "garbler"))
    assert not set(cells_of(graded, last_function)) & set(lost(graded, "garbler"))
    nb = autograded(graded, "garbler")
    errors = [o for c in nb.cells if notebooks.grade_id(c) in cells_of(graded, first_function) for o in c.outputs
              if o.output_type == "error"]
    assert errors and all(o.ename in ("CheckFailed", "StudentError") for o in errors), [o.ename for o in errors]


def test_a_submission_whose_functions_all_loop_is_graded_within_its_time(graded):
    """Each function costs one cell's limit once (its later calls fail at once), and past the
    submission's time the remaining cells are not run: graded, every check 0, with the reasons."""
    assert all(score == 0 for score, _ in scores(graded, "looper").values())
    text = printed(autograded(graded, "looper"))
    assert "Later calls of it fail at once" in text
    assert "used up its time" in text


def test_links_are_never_followed(graded):
    """A notebook submitted as a link to the course's source notebook is graded as empty, and a file
    linked beside it never reaches the kernel (nbgrader's own copy follows links)."""
    assert scores(graded, "linker") == scores(graded, "blank")
    nb = autograded(graded, "linker")
    assert "symbolic link" in nb.cells[0].source
    assert "BEGIN SOLUTION" not in json.dumps(nb)
    assert "LEAK False" in printed(autograded(graded, "snooper"))
    assert lost(graded, "snooper") == []


def test_a_named_pipe_in_the_submission_is_skipped(graded):
    assert lost(graded, "piper") == []


def test_honest_students_keep_their_points(graded):
    assert lost(graded, "honest") == []


def test_what_a_kernel_writes_is_bounded(graded):
    """96 MiB files, each under the file-size limit, into /tmp, the kernel's folder and /dev/shm: each
    fills up ("No space left on device"), the host's shared memory and disk grow by less than the caps,
    and the function defined after the writes keeps its points."""
    text = printed(autograded(graded, "tmp-filler"))
    for folder in ("/tmp", ".", "/dev/shm"):
        assert f"FILL {folder} wrote" in text and "No space left on device" in text.split(f"FILL {folder} wrote")[1]
    shared, disk = graded["filled"]
    assert shared < WRITABLE + 64 * 2**20 and disk < 64 * 2**20, graded["filled"]
    assert lost(graded, "tmp-filler") == []


def test_the_folder_shared_with_the_grader_is_bounded_by_the_kernels_memory(graded):
    """The one folder a kernel shares with the grader (its sockets) is writable: where the grader can give
    the kernel a memory cgroup it lies in the host's /dev/shm, charged to that cgroup, so filling it ends
    the kernel at its memory limit; the notebook is graded."""
    from autograde.runtime.kernels.cgroups import shared_folder_base
    if shared_folder_base() is None:
        pytest.skip("no memory cgroup here: the shared folder is bounded only file by file (file_size)")
    shared, disk = graded["ipc_filled"]
    assert shared < IPC_MEMORY + 64 * 2**20 and disk < 64 * 2**20, graded["ipc_filled"]
    text = printed(autograded(graded, "ipc-filler"))
    assert "never full" not in text
    assert scores(graded, "ipc-filler")  # graded


def test_no_sandbox_folder_outlives_its_kernel(graded):
    """Kernels that died (the memory limit, a kernel stopped past its time) and kernels that ended: the folders
    they shared with the grader (in the host's /dev/shm where it has memory cgroups) are all gone."""
    assert graded["left"] == set()
