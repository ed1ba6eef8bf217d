"""Limits for the kernels that run students' code while autograding.

nbgrader runs each notebook in a fresh kernel with a per-cell timeout
(``Execute.timeout``, interrupting the cell when it expires). This module adds a
memory cap: ``LimitedExecute`` is nbgrader's ``Execute`` preprocessor whose kernels
are started by ``LimitedKernelManager``, which applies ``RLIMIT_AS`` to the kernel
process before it runs any code. An allocation beyond the cap raises
``MemoryError`` in the student's cell (graded like any other error) instead of
swapping the machine to a halt or waking the OOM killer.

The course's executor (``autograde.execute.GradedExecute``, set in ``nbgrader_config.py``
for ``nbgrader autograde`` and the class-grading command alike) builds on ``LimitedExecute``;
the cap in bytes is ``LimitedKernelManager.memory_limit`` (configurable like any nbgrader
option), and ``autograde.jail.SandboxedKernelManager`` adds the sandbox.

A kernel that dies (``os._exit``, a segfault), or a cell that runs past its time limit
and ignores the interrupt (``signal.signal(SIGINT, SIG_IGN)`` then a loop), would make
stock nbgrader abandon the whole submission; ``LimitedExecute`` instead records the
death (stopping the stuck kernel) as an error in that cell and marks the cells after
it as not run, so the notebook is still graded: what passed before keeps its points.
"""
import resource
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import DottedObjectName, Integer, Type

DEFAULT_MEMORY_LIMIT = 4 * 2**30  # bytes of address space per kernel: numpy and a plot fit in well under 1 GB


def _apply_limits(limits, setup=None):
    def apply():  # runs in the child between fork and exec
        for which, value in limits.items():
            resource.setrlimit(which, (value, value))
        if setup is not None:
            setup()
    return apply


class PromptKernelClient(AsyncKernelClient):
    """jupyter_client's kernel client, ready as soon as the kernel has answered ``kernel_info``.

    jupyter_client's ``wait_for_ready`` then drains iopub until it has been silent for 0.2 s, at every
    kernel start (eight per student): idle time that a grading worker cannot give to another student.
    What it drains (the kernel's busy and idle statuses for ``kernel_info``) nbclient ignores anyway,
    as it reads only the messages that answer its own requests.
    """

    async def wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:  # jupyter_client's loop, without the drain that follows it
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # iopub is connected once it carries a message (else ask again)
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class LimitedKernelManager(AsyncKernelManager):
    client_class = DottedObjectName("autograde.sandbox.PromptKernelClient")
    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient, config=True)
    memory_limit = Integer(DEFAULT_MEMORY_LIMIT, allow_none=True,
                           help="Address-space limit (bytes) of each kernel; None or 0: no limit.").tag(config=True)

    def resource_limits(self):
        """{resource.RLIMIT_*: value} applied to the kernel process before it starts."""
        return {resource.RLIMIT_AS: int(self.memory_limit)} if self.memory_limit else {}

    def child_setup(self):
        """A function the kernel's process runs before it executes the kernel (after the limits), or None."""
        return None

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        limits, setup = self.resource_limits(), self.child_setup()
        if limits or setup:
            kw["preexec_fn"] = _apply_limits(limits, setup)
        return await super()._async_launch_kernel(kernel_cmd, **kw)


class LimitedExecute(Execute):
    """nbgrader's Execute preprocessor, with kernels started under ``LimitedKernelManager``, and at most
    ``output_limit`` characters of printed text kept per cell (a flood is cut, with a note)."""

    output_limit = Integer(100_000, help="Most characters of stdout/stderr text kept from one execution of a "
                                         "cell; the rest is dropped and a note says so. 0: no limit.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)
        self._died_in = None
        self._cut = 0

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream" and self.output_limit:
            room = self.output_limit - sum(len(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
            text = msg["content"].get("text", "")
            if len(text) > room:
                self._cut += len(text) - max(room, 0)
                if room <= 0:
                    return None
                msg = {**msg, "content": {**msg["content"], "text": text[:room]}}
        return super().output(outs, msg, display_id, cell_index)

    def _note_cut(self, cell):
        if self._cut:
            self.cut_cells.append(cell.metadata.get("nbgrader", {}).get("grade_id") or "a cell")
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=(
                f"\n[output cut: {self._cut:,} more characters were printed than the {self.output_limit:,} the "
                f"grader keeps per cell]\n")))
            self._cut = 0

    def preprocess(self, nb, resources=None, km=None):
        self._died_in = None
        self.cut_cells = []  # cells whose printed output was cut (for the integrity report)
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        if self._died_in is not None:
            cell.outputs = [_error("KernelDied", f"not run: the kernel stopped in cell {self._died_in}")]
            return cell, self.resources
        self._cut = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            self._note_cut(cell)
            return cell, resources
        except DeadKernelError:
            self._died_in = index
            cell.outputs.append(_error("KernelDied", "the kernel stopped while running this cell "
                                       "(os._exit, a crash, or the memory cap); later cells were not run"))
            return cell, self.resources
        except CellTimeoutError:
            # the cell outlived its time limit and went on after the interrupt (it ignores SIGINT, or
            # is stuck in C code): stop its kernel, as if it had died, rather than give up on the student
            self._died_in = index
            self._kill_kernel()
            how = " and did not stop when interrupted" if self.interrupt_on_timeout else ""
            cell.outputs.append(_error("CellTimeoutError", f"the cell ran past its time limit ({self.timeout} s){how}; "
                                       "the kernel was stopped and later cells were not run"))
            return cell, self.resources

    def _kill_kernel(self):
        if hasattr(self.km, "note_left_running"):
            self.km.note_left_running()
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def _error(name, message):
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"\x1b[0;31m{name}\x1b[0m: {message}"])
