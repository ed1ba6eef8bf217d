"""Where one student's grading time goes: a profile of nbgrader's autograde with the course's config.

Grades one submission (the solution, then one with a catalogue mistake in every notebook)
in a scratch course, in this process, with timers around the steps: starting the grading
process (its imports), starting and stopping each kernel, the first cell (imports in the
kernel), the setup cells (loading earlier notebooks' functions), answer cells, the hidden
checks (with the catalogue diagnosis when a check fails), the visible tests, and what is
left: nbgrader's own steps (reading and writing notebooks, the gradebook, its other
preprocessors). Prints one table per submission, in seconds and shares.

    python benchmarks/profile_grading.py [--notebooks K]
"""
import argparse
import collections
import contextlib
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import autograde.runtime.nbgrader_cli  # noqa: E402,F401  (as in grade-class: without a grammar nbformat never uses)
os.environ["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ["PATH"]])

import nbclient  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402

from autograde.content import mistakes, notebooks  # noqa: E402
from autograde.runtime.judge import execute  # noqa: E402
from autograde.grading.course import Course  # noqa: E402
from autograde.grading import child, template  # noqa: E402
from autograde.grading.settings import GradingSettings  # noqa: E402
from autograde.runtime.kernels.limits import LimitedExecute  # noqa: E402
from autograde.grading.samples import replace_for  # noqa: E402

STEPS = ["grading process start (imports)", "kernel start", "kernel shutdown", "first cell (imports in the kernel)",
         "setup cells (load earlier functions)", "answer cells", "hidden checks (in the grader, + diagnosis)",
         "visible tests",
         "other cells", "nbgrader's own steps (the rest)"]


class Timers:
    def __init__(self):
        self.seconds = collections.Counter()
        self.first = True

    @contextlib.contextmanager
    def timing(self, step):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] += time.perf_counter() - started


def _kind(cell, timers):
    meta = cell.metadata.get("nbgrader", {})
    if timers.first:
        timers.first = False
        return STEPS[3]
    if "### BEGIN HIDDEN TESTS" in cell.source:
        return STEPS[6]
    if meta.get("grade") and not meta.get("solution"):
        return STEPS[7]
    if meta.get("solution"):
        return STEPS[5]
    if "setup" in cell.metadata.get("tags", []):
        return STEPS[4]
    return STEPS[8]


def instrument(timers):
    """Wrap the kernel's start/stop and each cell's execution with timers (this process only)."""
    original_cell = LimitedExecute.preprocess_cell
    original_start = nbclient.NotebookClient.start_new_kernel_client
    original_km_start = nbclient.NotebookClient.start_new_kernel
    original_shutdown = AsyncKernelManager.shutdown_kernel

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return original_cell(self, cell, resources, index)
        with timers.timing(_kind(cell, timers)):
            return original_cell(self, cell, resources, index)

    def start_new_kernel(self, **kw):
        timers.first = True
        with timers.timing(STEPS[1]):
            return original_km_start(self, **kw)

    def start_new_kernel_client(self):
        with timers.timing(STEPS[1]):
            return original_start(self)

    async def shutdown(self, *a, **kw):
        with timers.timing(STEPS[2]):
            return await original_shutdown(self, *a, **kw)

    def run_hidden(source, link):  # the hidden block, judged in this process with calls into the kernel
        with timers.timing(STEPS[6]):
            return original_hidden(source, link)

    original_hidden = execute.run_hidden
    execute.run_hidden = run_hidden
    LimitedExecute.preprocess_cell = preprocess_cell
    nbclient.NotebookClient.start_new_kernel_client = start_new_kernel_client
    nbclient.NotebookClient.start_new_kernel = start_new_kernel
    AsyncKernelManager.shutdown_kernel = shutdown


def import_time():
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import autograde.grading.child"], check=True)
    return time.perf_counter() - started


def profile(course, work, student, submission_kwargs, timers):
    course.write_submission(student, **submission_kwargs)
    scratch = template.prepare_template(course, "rnn", work / f"template-{student}")
    limits = GradingSettings.from_config(course.root).kernel_limits()  # the course's, as grade-class sets them
    root, api = child.open_scratch(scratch.root, work / f"scratch-{student}",
                                   [[*key, value] for key, value in limits.items()])
    os.chdir(root)
    expected = {p.stem for p in (root / "release" / "rnn").glob("*.ipynb")}
    timers.seconds.clear()
    timers.seconds[STEPS[0]] = import_time()
    started = time.perf_counter()
    result, _ = child.grade(api, root, "rnn", expected,
                            {"student": student, "submission": str(course.folder("submitted", student))})
    total = time.perf_counter() - started
    assert result.graded, result
    timers.seconds[STEPS[-1]] = total - sum(v for k, v in timers.seconds.items() if k != STEPS[0])
    return timers.seconds[STEPS[0]] + total


def table(title, seconds, total, notebooks_count):
    lines = [f"\n{title}: {total:.1f} s for {notebooks_count} notebooks ({total / notebooks_count:.1f} s per notebook)",
             "| step | seconds | share |", "| --- | ---: | ---: |"]
    lines += [f"| {step} | {seconds[step]:.1f} | {100 * seconds[step] / total:.0f}% |" for step in STEPS]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=int, default=0, help="profile only the first K notebooks (default: all)")
    args = parser.parse_args(argv)
    work = pathlib.Path(tempfile.mkdtemp(prefix="profile-grading-"))
    course = Course.copy_of(REPO, work / "course")
    for path in notebooks.notebook_paths(course.folder("source"))[args.notebooks:] if args.notebooks else []:
        path.unlink()
    course.generate()
    names = course.notebook_names()
    wrong = {}
    for entry in mistakes.all_mistakes():
        if entry.notebook in names and entry.notebook not in wrong:
            wrong[entry.notebook] = replace_for(entry)[entry.notebook]
    timers = Timers()
    instrument(timers)
    for student, kwargs in (("solution", {}), ("one-mistake-per-notebook", {"replace": wrong})):
        total = profile(course, work, student, kwargs, timers)
        print(table(student, timers.seconds, total, len(names)), flush=True)


if __name__ == "__main__":
    main()
