"""Limits for the kernels that run students' code while autograding.

nbgrader runs each notebook in a fresh kernel with a per-cell timeout
(``Execute.timeout``, interrupting the cell when it expires). This module adds a
memory cap: ``LimitedExecute`` is nbgrader's ``Execute`` preprocessor whose kernels
are started by ``LimitedKernelManager``, which applies ``RLIMIT_AS`` to the kernel
process before it runs any code. An allocation beyond the cap raises
``MemoryError`` in the student's cell (graded like any other error) instead of
swapping the machine to a halt or waking the OOM killer.

The course's executor (``autograde.runtime.judge.execute.GradedExecute``, set in ``nbgrader_config.py``
for ``nbgrader autograde`` and the class-grading command alike) builds on ``LimitedExecute``;
the cap in bytes is ``LimitedKernelManager.memory_limit`` (configurable like any nbgrader
option), and ``autograde.runtime.kernels.sandbox.SandboxedKernelManager`` adds the sandbox.

A kernel that dies (``os._exit``, a segfault), or a cell that runs past its time limit
and ignores the interrupt (``signal.signal(SIGINT, SIG_IGN)`` then a loop), would make
stock nbgrader abandon the whole submission; ``LimitedExecute`` instead records the
death (stopping the stuck kernel) as an error in that cell and marks the cells after
it as not run, so the notebook is still graded: what passed before keeps its points.

Whatever a kernel displays lands in the autograded notebook (and the student's feedback
page), so ``LimitedExecute`` caps every kind of output as it arrives: printed text per cell
(``output_limit``), each image, HTML, JSON or other MIME bundle, error and widget's state
(``output_bytes_limit``), and all the outputs and widget state of the notebook together
(``notebook_bytes_limit``). What is over a cap is replaced by a short note saying what was cut
and how big it was, and the cell is listed in ``cut_cells`` (the class report's flags).
"""
import resource
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, Type

DEFAULT_MEMORY_LIMIT = 4 * 2**30  # bytes of address space per kernel: numpy and a plot fit in well under 1 GB
DEFAULT_OUTPUT_BYTES = 5 * 2**20     # one output or widget: a figure of the course is about 100 KB
DEFAULT_NOTEBOOK_BYTES = 20 * 2**20  # all the outputs of one notebook: the course's largest holds about 0.3 MB


def text_bytes(text):
    """UTF-8 bytes of a string (no copy for ASCII text, such as base64 images)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def json_bytes(value):
    """About the bytes ``value`` (an output, a MIME bundle, a widget's state: JSON data) takes in a
    notebook file. Iterative: a kernel can send JSON nested deeper than Python's recursion limit."""
    total, todo = 0, [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            total += text_bytes(item) + 2
        elif isinstance(item, (bytes, bytearray, memoryview)):  # a widget's binary buffer, stored as base64
            total += (len(item) + 2) // 3 * 4 + 2
        elif isinstance(item, dict):
            total += 2 + 4 * len(item) + sum(text_bytes(str(key)) for key in item)
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += 2 + len(item)
            todo.extend(item)
        else:  # a number, True, None
            total += 8
    return total


def megabytes(size):
    return f"{size / 2**20:,.1f} MB" if size >= 2**20 / 10 else f"{size:,} bytes"


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
    as it reads only the messages that answer its own requests. It calls two private methods of
    jupyter_client's client (``autograde.runtime.pinned``).
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
    # client_class alone would not reach AsyncKernelManager's client_factory (runtime.pinned, "client factory")
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
    """nbgrader's Execute preprocessor, with kernels started under ``LimitedKernelManager``, and every output
    capped: at most ``output_limit`` characters of printed text per cell, ``output_bytes_limit`` bytes per
    display, error or widget, ``notebook_bytes_limit`` bytes for the whole notebook (a cut leaves a note)."""

    output_limit = Integer(100_000, help="Most characters of stdout/stderr text kept from one execution of a "
                                         "cell; the rest is dropped and a note says so. 0: no limit.").tag(config=True)
    output_bytes_limit = Integer(DEFAULT_OUTPUT_BYTES, help="Most bytes of one output (an image, HTML, JSON: any "
                                                           "MIME bundle; an error) or of one widget's state; a larger "
                                                           "one is replaced by a note. 0: no limit.").tag(config=True)
    notebook_bytes_limit = Integer(DEFAULT_NOTEBOOK_BYTES, help="Most bytes of all the outputs and widget state of "
                                                               "one autograded notebook; what comes past it is "
                                                               "replaced by notes. 0: no limit.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)
        self._died_in = None
        self._cut = 0

    # -- what the notebook holds -------------------------------------------------------------------------------
    def _room(self):
        """Bytes the notebook may still take: its cap less the outputs kept so far, this cell's included."""
        if not self.notebook_bytes_limit:
            return float("inf")
        return self.notebook_bytes_limit - self._done - self._cell_bytes - sum(self._widget_bytes.values())

    def _count_cell(self, outs):
        self._cell_bytes = sum(json_bytes(o) for o in outs)
        self._stream_chars = sum(len(o.get("text", "")) for o in outs if o.get("output_type") == "stream")

    def _cut_note(self, cell, what, size, why):
        self._cut_here = True
        if why == "output":
            cap = f"more than the {megabytes(self.output_bytes_limit)} the grader keeps of one output"
        else:
            cap = f"past the {megabytes(self.notebook_bytes_limit)} the grader keeps of one notebook's outputs"
        return f"[output cut: {what} of {megabytes(size)}, {cap}]"

    def _over(self, size):
        """Why an output of ``size`` bytes cannot be kept ("output", "notebook"), or None."""
        if self.output_bytes_limit and size > self.output_bytes_limit:
            return "output"
        if size > self._room():
            return "notebook"
        return None

    def process_message(self, msg, cell, cell_index):
        kind = msg["msg_type"]
        if kind in ("display_data", "execute_result", "update_display_data", "error"):
            replaced, targets = self._shown_as(msg)  # earlier outputs under the same display id, which it replaces
            msg = self._capped(msg, cell, replaced, targets)
            if targets:
                self._cell_bytes += targets * json_bytes(msg["content"]) - replaced
        result = super().process_message(msg, cell, cell_index)
        if kind in ("comm_open", "comm_msg"):
            self._cap_widget(msg, cell)
        return result

    def _shown_as(self, msg):
        """(bytes, number) of the outputs already shown under ``msg``'s display id, which nbclient replaces."""
        transient = msg["content"].get("transient")
        display_id = transient.get("display_id") if isinstance(transient, dict) else None
        places = self._display_id_map.get(display_id, {}) if isinstance(display_id, str) else {}
        shown = [self.nb.cells[c].outputs[i] for c, indices in places.items() for i in indices
                 if i < len(self.nb.cells[c].get("outputs", []))]
        return sum(json_bytes(o) for o in shown), len(shown)

    def _capped(self, msg, cell, replaced=0, targets=0):
        """``msg`` (a display, result or error) as kept: over a cap, a note in place of its content."""
        content = msg["content"]
        size = json_bytes(content)
        added = size * (targets + (msg["msg_type"] != "update_display_data"))
        why = "output" if self.output_bytes_limit and size > self.output_bytes_limit else None
        if why is None and added - replaced > self._room():
            why = "notebook"
        if why is None:
            return msg
        if msg["msg_type"] == "error":
            name = str(content.get("ename"))[:100]
            note = self._cut_note(cell, f"an error ({name})", size, why)
            evalue = str(content.get("evalue", ""))[:1000]
            content = {**content, "ename": name, "evalue": evalue, "traceback": [f"{name}: {evalue}", note]}
        else:
            data = content.get("data")
            kinds = ", ".join(sorted(map(str, data)))[:200] if isinstance(data, dict) else "data"
            note = self._cut_note(cell, f"a display ({kinds})", size, why)
            content = {**content, "data": {"text/plain": note}, "metadata": {}}
        return {**msg, "content": content}

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            text = msg["content"].get("text", "")
            cell_room = self.output_limit - self._stream_chars if self.output_limit else float("inf")
            room = min(cell_room, self._room())
            if len(text) > room:
                self._cut += len(text) - max(int(room), 0)
                if room < cell_room:
                    self._cut_why = "notebook"
                if room <= 0:
                    return None
                text = text[:int(room)]
                msg = {**msg, "content": {**msg["content"], "text": text}}
            self._stream_chars += len(text)
        clearing = self.clear_before_next_output
        out = super().output(outs, msg, display_id, cell_index)
        if clearing and not self.clear_before_next_output:  # nbclient cleared the cell's outputs first
            self._count_cell(outs)
        else:  # counted as passed on, also when an output widget took it
            self._cell_bytes += json_bytes(msg["content"])
        return out

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        self._count_cell(outs)

    def handle_comm_msg(self, outs, msg, cell_index):
        try:
            super().handle_comm_msg(outs, msg, cell_index)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # not a widget's message: ignored
            self.log.warning("ignored a malformed comm message from the kernel (%s)", type(exc).__name__)

    def _cap_widget(self, msg, cell):
        """Keep a widget's state (which nbclient stores for the notebook's metadata) within the caps: a widget
        whose state grows past them is dropped from the notebook, with a note in the cell that sent it."""
        comm_id = msg["content"].get("comm_id")
        if not isinstance(comm_id, str) or comm_id not in self.widget_state:
            return
        before = self._widget_bytes.pop(comm_id, 0)
        size = json_bytes(self.widget_state[comm_id]) + json_bytes(self.widget_buffers.get(comm_id, {}))
        why = "dropped" if comm_id in self._widgets_cut else self._over(size)
        if why is None:
            self._widget_bytes[comm_id] = size
            return
        self.widget_state.pop(comm_id, None)
        self.widget_buffers.pop(comm_id, None)
        if comm_id not in self._widgets_cut:
            self._widgets_cut.add(comm_id)
            self._late_notes.append(self._cut_note(cell, "the state of a widget", max(size, before), why))

    def _note_cut(self, cell):
        if self._cut:
            cap = (f"past the {megabytes(self.notebook_bytes_limit)} the grader keeps of one notebook's outputs"
                   if self._cut_why == "notebook" else f"than the {self.output_limit:,} the grader keeps per cell")
            more = "more " if self._cut_why != "notebook" else ""
            self._late_notes.append(f"\n[output cut: {self._cut:,} {more}characters were printed {cap}]\n")
            self._cut_here = True
        if self._cut_here:
            self.cut_cells.append(cell.metadata.get("nbgrader", {}).get("grade_id") or "a cell")
        for note in self._late_notes:
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=note))
        self._cut, self._cut_why, self._cut_here, self._late_notes = 0, None, False, []

    def _start_cell(self, cell):
        self._done = self._notebook_bytes(skip=cell)  # nbclient clears the cell's outputs before it runs
        self._cell_bytes = self._stream_chars = 0
        self._cut, self._cut_why, self._cut_here, self._late_notes = 0, None, False, []

    def _notebook_bytes(self, skip=None):
        return sum(json_bytes(o) for c in self.nb.cells if c is not skip for o in c.get("outputs", []))

    def preprocess(self, nb, resources=None, km=None):
        self._died_in = None
        self.cut_cells = []  # cells whose output was cut (for the integrity report)
        self._widget_bytes, self._widgets_cut = {}, set()  # {comm id: bytes of its state}; widgets dropped
        self._done = self._cell_bytes = self._stream_chars = 0
        self._cut, self._cut_why, self._cut_here, self._late_notes = 0, None, False, []
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        if self._died_in is not None:
            cell.outputs = [error_output("KernelDied", f"not run: the kernel stopped in cell {self._died_in}")]
            return cell, self.resources
        self._start_cell(cell)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            self._note_cut(cell)
            return cell, resources
        except DeadKernelError:
            self._died_in = index
            cell.outputs.append(error_output("KernelDied", "the kernel stopped while running this cell "
                                             "(os._exit, a crash, or the memory cap); later cells were not run"))
            return cell, self.resources
        except CellTimeoutError:
            # the cell outlived its time limit and went on after the interrupt (it ignores SIGINT, or
            # is stuck in C code): stop its kernel, as if it had died, rather than give up on the student
            self._died_in = index
            self._kill_kernel()
            how = " and did not stop when interrupted" if self.interrupt_on_timeout else ""
            cell.outputs.append(error_output("CellTimeoutError", f"the cell ran past its time limit ({self.timeout} s)"
                                             f"{how}; the kernel was stopped and later cells were not run"))
            return cell, self.resources

    def _kill_kernel(self):
        if hasattr(self.km, "note_left_running"):
            self.km.note_left_running()
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def error_output(name, message):
    """An nbformat error output ``name: message`` (red name, as IPython shows it), for a cell the grader stopped."""
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"\x1b[0;31m{name}\x1b[0m: {message}"])
