"""The Execute preprocessor of autograding: a grade cell's hidden check decides its points.

A test cell of this course holds a hidden block (the call of a check from
``autograde.content.checks``) followed by visible asserts that students run themselves.
Executed as one cell, two things would decide the grade that should not:

* a visible assert that compares the function with the student's *own* earlier parts
  (``rnn_forward`` against their ``rnn_step_forward``) fails when a correct function was
  written self-contained and an earlier part is wrong: the earlier mistake would cost
  points a second time;
* nbgrader scores any grade cell that writes to stderr as failed, so a correct function
  that warns (a numpy overflow, ``warnings.warn``, a debug print) would lose its points.

``GradedExecute`` therefore runs a grade cell in two requests to the same kernel: the
hidden block, then (only when the hidden block passed) the visible part. The hidden
block alone decides the cell: when it passed, an error raised by the visible part is
kept as a note on stdout (the student still reads it) and cannot cost the points.
In every grade cell, text written to stderr is moved to stdout, and a visible part's
``execute_result`` becomes display data, so that neither can change the score. When
the hidden block fails, the visible part is not run: the cell scores zero either way,
and the feedback shows the hidden check's message, which names the mistake.

Cells without a hidden block, and every other cell, run as nbgrader runs them. The
kernels are those of ``LimitedExecute`` (memory cap, survival of a dead or stuck
kernel). ``nbgrader_config.py`` puts this class in ``Autograde.autograde_preprocessors``,
so stock ``nbgrader autograde`` and the class-grading command grade alike.
"""
import contextlib
import math
import resource
import time
import weakref

from nbformat import NotebookNode
from traitlets import Bool, Integer

from autograde.runtime.kernels.sandbox import SandboxedKernelManager
from autograde.runtime.judge.remote import KernelLink, run_hidden
from autograde.runtime.kernels.limits import LimitedExecute, error_output

HIDDEN_END = "### END HIDDEN TESTS"


def split_hidden(source):
    """(hidden block, visible part) of a test cell's source; hidden is '' when it has none."""
    at = source.find(HIDDEN_END)
    if at < 0:
        return "", source
    end = source.find("\n", at)
    end = len(source) if end < 0 else end + 1
    return source[:end], source[end:]


def _is_grade_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def _stdout(text):
    return NotebookNode(output_type="stream", name="stdout", text=text)


def harmless(outputs):
    """``outputs`` with stderr text moved to stdout and results shown as display data, so that
    only an error can fail the cell."""
    kept = []
    for output in outputs:
        if output.output_type == "stream" and output.name == "stderr":
            kept.append(_stdout(output.text))
        elif output.output_type == "execute_result":
            kept.append(NotebookNode(output_type="display_data", data=output.data,
                                     metadata=output.get("metadata", {})))
        else:
            kept.append(output)
    return kept


def as_note(outputs):
    """The visible part's outputs after a passing hidden check: its errors become notes."""
    kept = []
    for output in harmless(outputs):
        if output.output_type == "error":
            kept.append(_stdout(
                f"NOTE a visible test above failed ({output.ename}: {output.evalue}). It compares "
                f"with your own versions of other functions, or checks more than this cell grades; "
                f"the hidden check, which grades this function on its own, passed, so it costs no "
                f"points here.\n"))
        else:
            kept.append(output)
    return kept


def failed(outputs):
    return any(o.output_type == "error" for o in outputs)


class GradedExecute(LimitedExecute):
    """nbgrader's Execute for autograding, where a grade cell's hidden check alone decides it, in kernels
    sandboxed by ``autograde.runtime.kernels.sandbox.SandboxedKernelManager``."""

    judge_in_grader = Bool(True, help="Run each test cell's hidden block in the grader's process, calling the "
                                      "student's functions in the kernel (autograde.runtime.judge.remote); False runs it inside "
                                      "the student's kernel, which then must be able to import autograde."
                           ).tag(config=True)

    submission_time_limit = Integer(600, help="Seconds all the notebooks of one submission may run in all (kernel "
                                              "starts included); past it, the cells not yet run are marked as not "
                                              "run and score 0, and each cell's own limit (timeout) is cut to what "
                                              "is left. 0: no such limit.").tag(config=True)
    reply_limit = Integer(64 * 2**20, help="Most bytes of one message the grader reads from a kernel's probe (a "
                                           "student function's output, with what it left in its arguments); a "
                                           "larger one fails that call as the student's error.").tag(config=True)
    grader_memory_limit = Integer(8 * 2**30, help="Address-space limit (RLIMIT_AS, bytes) of the grading process "
                                                  "itself, which reads what kernels send: a fault there costs one "
                                                  "student, not the host. 0: none.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        self._link, self._kernel_managers = None, []

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if hasattr(km, "hide_grader"):
            km.hide_grader = self.judge_in_grader  # a kernel that runs the checks itself must import them
        self._kernel_managers.append(km)
        return km

    def preprocess(self, nb, resources=None, km=None):
        with own_memory_limited(self.grader_memory_limit):
            return self._preprocess(nb, resources, km)

    def _preprocess(self, nb, resources, km):
        self._link = KernelLink(self, self.reply_limit)
        self._kernel_managers = []
        self._student = ((resources or {}).get("nbgrader") or {}).get("student")
        # nbgrader makes a new executor for each notebook, under the same exporter for a whole grading run
        self._spent = _TIME_SPENT.setdefault(self.parent if self.parent is not None else self, {})
        self._cell_timeout, self._started = self.timeout, time.monotonic()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self.timeout = self._cell_timeout
            self._spent[self._student] = self._spent.get(self._student, 0) + time.monotonic() - self._started
            self._link.close()
            nb.metadata["autograde"] = {"sandbox": self.evidence()}

    def _time_left(self):
        """Seconds this submission may still run (inf without a limit)."""
        if not self.submission_time_limit:
            return math.inf
        used = self._spent.get(self._student, 0) + time.monotonic() - self._started
        return self.submission_time_limit - used

    def evidence(self):
        """What the sandbox saw while this notebook was graded (kept in the autograded notebook's metadata,
        ``autograde.runtime.kernels.limits``, for the integrity report): events, processes left running, cells cut."""
        seen = {"events": [], "left_running": [], "output_cut": list(self.cut_cells)}
        for km in self._kernel_managers:
            if hasattr(km, "evidence"):
                found = km.evidence()
                seen["events"] += found["events"]
                seen["left_running"] += found["left_running"]
        return seen

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and self._died_in is None:
            left = self._time_left()
            if left <= 0:
                limit = self.submission_time_limit
                cell.outputs = [error_output("TimeLimit", "not run: this submission used up its time (" + (
                    f"{limit / 60:g} minutes" if limit >= 120 else f"{limit} s") + " for all its notebooks)")]
                return cell, resources
            # a cell gets its own limit, or what is left of the submission's (an endless loop stops there)
            self.timeout = min(self._cell_timeout, max(1, math.ceil(left))) if self._cell_timeout else math.ceil(left)
        if not _is_grade_cell(cell):
            return super().preprocess_cell(cell, resources, index)
        hidden, visible = split_hidden(cell.source)
        if not hidden or not visible.strip():
            cell, resources = super().preprocess_cell(cell, resources, index)
            cell.outputs = harmless(cell.outputs)
            return cell, resources
        if self._died_in is not None:
            return super().preprocess_cell(cell, resources, index)  # marked as not run
        try:
            cell.source = hidden
            if self.judge_in_grader:
                self._link.cell_index = index
                outputs = run_hidden(hidden, self._link)
            else:
                cell, resources = super().preprocess_cell(cell, resources, index)
                outputs = harmless(cell.outputs)
            if not failed(outputs) and self._died_in is None:
                cell.source = visible
                cell, resources = super().preprocess_cell(cell, resources, index)
                outputs += as_note(cell.outputs)
        finally:
            cell.source = hidden + visible
        cell.outputs = outputs
        return cell, resources


_TIME_SPENT = weakref.WeakKeyDictionary()  # grading run (nbgrader's exporter) -> {student: seconds run so far}


@contextlib.contextmanager
def own_memory_limited(limit):
    """Within the block, this process's soft address-space limit is at most ``limit`` bytes (0: as it is);
    then it is what it was (a process that grades in-process, a test or a demo, may start programs later
    that reserve more address space, as a browser does). The hard limit is left as it is, so that kernels
    started meanwhile can still be given their own."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    lowered = bool(limit) and (soft == resource.RLIM_INFINITY or soft > limit)
    if lowered:
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        yield
    finally:
        if lowered:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
