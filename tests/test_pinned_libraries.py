"""What ``autograde`` assumes of private or undocumented parts of the pinned libraries
(``autograde/runtime/pinned.py``, one test per entry there, in its order): each test fails when an
upgrade stops behaving as assumed. No kernel is started; the processes started are a ``sleep`` and
three short Pythons (ipykernel's kernel application, jsonschema's import, multiprocessing's resource
tracker)."""
import asyncio
import inspect
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tests.conftest import REPO


class Launched(Exception):
    """Raised instead of starting a process: what would have been started is in ``args``."""


@pytest.fixture
def no_popen(monkeypatch):
    """jupyter_client's launcher with a ``Popen`` that records its arguments and starts nothing."""
    import jupyter_client.launcher

    def popen(cmd, **kw):
        raise Launched(cmd, kw)
    monkeypatch.setattr(jupyter_client.launcher, "Popen", popen)


def launched(km, **kw):
    """(command, Popen keyword arguments) that ``km.start_kernel(**kw)`` would start."""
    with pytest.raises(Launched) as caught:
        asyncio.run(km.start_kernel(**kw))
    return caught.value.args


@pytest.fixture
def sleeper():
    """A process in a session of its own (as a kernel is), killed at the end."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


# -- jupyter_client ---------------------------------------------------------------------------------------------
def test_launch(no_popen, tmp_path):
    """start_kernel reaches the kernel manager's _async_pre_start_kernel and _async_launch_kernel overrides,
    and what they add (the transport chosen before, preexec_fn) reaches Popen with the caller's cwd and env."""
    from autograde.runtime.kernels.limits import LimitedKernelManager

    seen = []

    class Watched(LimitedKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            seen.append(("pre_start", kw.get("cwd")))
            self.transport, self.ip = "ipc", str(tmp_path / "kernel")
            return await super()._async_pre_start_kernel(**kw)

    cmd, kw = launched(Watched(memory_limit=2**31), cwd=str(tmp_path), env={"SOME": "value"})
    assert seen == [("pre_start", str(tmp_path))]
    assert kw["cwd"] == str(tmp_path) and kw["env"]["SOME"] == "value"
    connection = json.loads(pathlib.Path(cmd[cmd.index("-f") + 1]).read_text())
    assert (connection["transport"], connection["ip"]) == ("ipc", str(tmp_path / "kernel"))
    assert kw["preexec_fn"].__qualname__.startswith("_apply_limits")


def test_parent_pid(no_popen, tmp_path):
    """jupyter_client puts the grader's pid in the kernel's environment after the caller's, and ipykernel's
    kernel polls no parent when it is 1 (in a process of its own: importing ipykernel's kernel changes
    how every widget made afterwards talks to a frontend)."""
    from autograde.runtime.kernels.limits import LimitedKernelManager
    _, kw = launched(LimitedKernelManager(), cwd=str(tmp_path), env={"JPY_PARENT_PID": "1"})
    assert kw["env"]["JPY_PARENT_PID"] == str(os.getpid())
    probe = ("import os\n"
             "from ipykernel.kernelapp import IPKernelApp\n"
             "for parent, polls in ((1, False), (os.getpid(), True)):\n"
             "    app = IPKernelApp(parent_handle=parent)\n"
             "    app.poller = None\n"
             "    app.init_poller()\n"
             "    assert (app.poller is not None) == polls, parent\n")
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


def test_cleanup():
    """AsyncKernelManager.cleanup_resources skips a subclass's _async_cleanup_resources; shutdown_kernel
    calls it by name; nbclient calls km.cleanup_resources() after a kernel that died. The sandbox's manager
    is reached both ways."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    from autograde.runtime.kernels.sandbox import SandboxedKernelManager
    calls = []

    class Stock(AsyncKernelManager):
        async def _async_cleanup_resources(self, restart=False):
            calls.append("stock")

    class Sandboxed(SandboxedKernelManager):
        async def _async_cleanup_resources(self, restart=False):
            calls.append("sandboxed")
            await super()._async_cleanup_resources(restart=restart)

    asyncio.run(Stock().cleanup_resources())
    assert calls == [], "jupyter_client now reaches the override: SandboxedKernelManager.cleanup_resources can go"
    asyncio.run(Sandboxed(sandbox=False).shutdown_kernel(now=True))
    assert calls == ["sandboxed"]

    class Dead:  # what nbclient sees of a kernel that died
        async def is_alive(self):
            return False

        async def cleanup_resources(self):
            calls.append("nbclient")
    asyncio.run(NotebookClient(new_notebook(), km=Dead())._async_cleanup_kernel())
    assert calls == ["sandboxed", "nbclient"]
    asyncio.run(Sandboxed(sandbox=False).cleanup_resources())
    assert calls[-1] == "sandboxed"


def _provisioned(km, process):
    """``km`` with jupyter_client's local provisioner holding ``process``, as SandboxedKernelManager._launch_warm
    leaves it (a ForkedKernel in place of a Popen)."""
    from jupyter_client.provisioning import LocalProvisioner

    from autograde.runtime.kernels.warm_sandbox import ForkedKernel
    km.provisioner = LocalProvisioner(kernel_id="pinned", kernel_spec=km.kernel_spec, parent=km)
    km.provisioner.process = ForkedKernel(psutil.Process(process.pid))
    km.provisioner.pid = km.provisioner.pgid = process.pid
    return km


def test_interrupt(sleeper):
    """shutdown_kernel interrupts the kernel first, through _async_interrupt_kernel."""
    from autograde.runtime.kernels.sandbox import SandboxedKernelManager
    interrupted = []

    class Watched(SandboxedKernelManager):
        async def interrupt_kernel(self):
            interrupted.append(True)
        _async_interrupt_kernel = interrupt_kernel  # as SandboxedKernelManager binds it

    asyncio.run(_provisioned(Watched(sandbox=False), sleeper).shutdown_kernel(now=True))
    assert interrupted == [True]


def test_provisioner(sleeper):
    """The local provisioner polls, signals, kills and waits for a ForkedKernel as for a Popen (it uses
    nothing else of it); after launching, _async_launch_kernel only reconciles the provisioner's connection
    info, which is what SandboxedKernelManager._launch_warm does itself."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    km = _provisioned(AsyncKernelManager(), sleeper)
    assert km.has_kernel and asyncio.run(km.is_alive())
    asyncio.run(km.provisioner.send_signal(signal.SIGSTOP))
    deadline = time.monotonic() + 10  # a signal takes effect when the process is next scheduled
    while psutil.Process(sleeper.pid).status() != psutil.STATUS_STOPPED and time.monotonic() < deadline:
        time.sleep(0.01)
    assert psutil.Process(sleeper.pid).status() == psutil.STATUS_STOPPED
    asyncio.run(km.provisioner.kill())
    sleeper.wait(10)  # reaped by its parent, as the warm parent reaps its kernels
    asyncio.run(asyncio.wait_for(km.provisioner.wait(), 10))
    assert not km.has_kernel

    class Launcher:  # a provisioner that has launched a kernel
        has_process = True

        async def launch_kernel(self, cmd, **kw):
            return {"launched": cmd}
    reconciled = []
    stub = AsyncKernelManager()
    stub.provisioner = Launcher()
    stub._reconcile_connection_info = reconciled.append
    asyncio.run(stub._async_launch_kernel(["kernel"]))
    assert reconciled == [{"launched": ["kernel"]}]
    launch = inspect.getsource(LocalProvisioner.launch_kernel)
    assert "self.process = launch_kernel(" in launch and launch.rstrip().endswith("return self.connection_info")
    assert list(inspect.signature(AsyncKernelManager._reconcile_connection_info).parameters) == ["self", "info"]


def test_client_factory():
    """A subclass's client_class does not reach AsyncKernelManager's client_factory; client() makes a
    client_factory."""
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import DottedObjectName

    from autograde.runtime.kernels.limits import LimitedKernelManager, PromptKernelClient

    class ByName(AsyncKernelManager):
        client_class = DottedObjectName("autograde.runtime.kernels.limits.PromptKernelClient")
    assert ByName().client_factory is AsyncKernelClient
    assert type(LimitedKernelManager().client()) is PromptKernelClient


def test_wait_for_ready():
    """nbclient waits for a new kernel with kc.wait_for_ready(timeout=...); the private methods the course's
    version calls exist and take the reply (the kernel's protocol version reaches the session)."""
    from jupyter_client.asynchronous import AsyncKernelClient
    from nbclient import NotebookClient

    from autograde.runtime.kernels.limits import PromptKernelClient
    waited = []

    class Client:
        async def start_channels(self):
            pass

        async def wait_for_ready(self, timeout=None):
            waited.append(timeout)

    class Manager:
        def client(self):
            return Client()
    asyncio.run(NotebookClient(new_notebook(), km=Manager(), startup_timeout=17).async_start_new_kernel_client())
    assert waited == [17]

    class Channel:
        def __init__(self, message):
            self.message = message

        async def get_msg(self, timeout=None):
            return self.message
    kc = PromptKernelClient()
    kc.kernel_info = lambda: None
    kc._shell_channel = Channel({"msg_type": "kernel_info_reply", "content": {"protocol_version": "4.1"}})
    kc._iopub_channel = Channel({"msg_type": "status", "content": {"execution_state": "idle"}})
    asyncio.run(kc.wait_for_ready(timeout=5))
    assert kc.session.adapt_version == 4
    assert inspect.iscoroutinefunction(AsyncKernelClient._async_is_alive)


# -- nbclient ---------------------------------------------------------------------------------------------------
def _message(kind, content, parent="cell"):
    return {"msg_type": kind, "header": {"msg_type": kind}, "parent_header": {"msg_id": parent}, "content": content}


def test_output_hooks():
    """process_message hands outputs, clearings and comm messages to the hooks LimitedExecute overrides, and
    keeps the state LimitedExecute reads, shaped as it reads it."""
    from nbclient import NotebookClient
    calls = []

    class Watched(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            calls.append(("output", display_id, cell_index))
            return super().output(outs, msg, display_id, cell_index)

        def clear_output(self, outs, msg, cell_index):
            calls.append(("clear_output", cell_index))
            return super().clear_output(outs, msg, cell_index)

        def handle_comm_msg(self, outs, msg, cell_index):
            calls.append(("handle_comm_msg", cell_index))
            return super().handle_comm_msg(outs, msg, cell_index)

    cell = new_code_cell("x")
    client = Watched(new_notebook(cells=[new_code_cell("before"), cell]))
    client.clear_before_next_output = False  # as nbclient sets it when a cell starts
    shown = {"data": {"text/plain": "1"}, "metadata": {}, "transient": {"display_id": "d"}}
    client.process_message(_message("display_data", shown), cell, 1)
    assert client._display_id_map == {"d": {1: [0]}}
    client.process_message(_message("clear_output", {"wait": True}), cell, 1)
    assert client.clear_before_next_output and len(cell.outputs) == 1
    client.process_message(_message("stream", {"name": "stdout", "text": "hi"}), cell, 1)
    assert not client.clear_before_next_output and [o.output_type for o in cell.outputs] == ["stream"]
    state = {"state": {"value": 3}, "buffer_paths": []}
    client.process_message(_message("comm_msg", {"comm_id": "w", "data": state}), cell, 1)
    assert client.widget_state == {"w": {"value": 3}} and isinstance(client.widget_buffers, dict)
    assert calls == [("output", "d", 1), ("clear_output", 1), ("output", None, 1), ("handle_comm_msg", 1)]


def test_cell_timeout():
    """The timeout a cell runs under is read when the cell runs, not when the client was made."""
    from nbclient import NotebookClient
    client = NotebookClient(new_notebook(), timeout=120)
    client.timeout = 7
    assert client._get_timeout(new_code_cell("x")) == 7
    assert "_get_timeout" in NotebookClient.async_execute_cell.__code__.co_names


# -- nbgrader ---------------------------------------------------------------------------------------------------
def test_file_copy(tmp_path):
    """Both places nbgrader lists a submission's files look the function up when they run: the course's
    replacement is what they call, and a link or a named pipe is not copied."""
    import logging

    from nbgrader import utils
    from nbgrader.converters import base
    from nbgrader.converters.autograde import Autograde

    from autograde.runtime.plugins.nbgrader_files import regular_files
    assert utils.find_all_files is regular_files and base.find_all_files is regular_files
    assert {"utils", "find_all_files"} <= set(Autograde.init_assignment.__code__.co_names)
    source, dest = tmp_path / "submitted", tmp_path / "autograded"
    source.mkdir()
    (source / "data.txt").write_text("kept")
    (source / "linked.txt").symlink_to(REPO / "nbgrader_config.py")
    os.mkfifo(source / "pipe")

    class Converter:  # what BaseConverter.init_assignment uses of its converter
        log = logging.getLogger("pinned")

        class coursedir:
            ignore = []

        def _format_source(self, assignment, student):
            return str(source)

        def _format_dest(self, assignment, student):
            return str(dest)
    base.BaseConverter.init_assignment(Converter(), "rnn", "student")
    assert sorted(p.name for p in dest.iterdir()) == ["data.txt"]


def test_alembic(tmp_path, monkeypatch):
    """A new gradebook is stamped with what nbgrader.api.get_alembic_version returns when it is made."""
    import nbgrader.api

    from autograde.runtime.nbgrader_cli import alembic_head
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "stamped-here")
    with nbgrader.api.Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}"):
        pass
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("stamped-here",)]
    assert alembic_head()  # tests/test_nbgrader_cli.py checks it is what `alembic heads` prints


def test_one_exporter():
    """The exporter is made once per converter run; a preprocessor class registered on it is made with the
    exporter as its parent."""
    from nbconvert.exporters import NotebookExporter
    from nbconvert.preprocessors import Preprocessor
    from nbgrader.converters import base
    from nbgrader.converters.autograde import Autograde
    made = []

    class Registered(Preprocessor):
        def __init__(self, **kw):
            super().__init__(**kw)
            made.append(self)
    exporter = NotebookExporter()
    exporter.register_preprocessor(Registered, enabled=True)
    assert len(made) == 1 and made[0].parent is exporter
    package = pathlib.Path(base.__file__).parent
    assigned = [p.name for p in package.glob("*.py") if "self.exporter =" in p.read_text()]
    assert assigned == ["base.py"] and "self.exporter =" in inspect.getsource(base.BaseConverter.start)
    assert "register_preprocessor" in inspect.getsource(Autograde._init_preprocessors)


def test_metadata_validator(monkeypatch):
    """nbgrader's validator reaches the course's one-schema-check step through super(), and nbgrader's
    CheckCellMetadata is the MetadataValidator check the course's copies."""
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.preprocessors import CheckCellMetadata

    from autograde.runtime.plugins.repair import _SchemaCheckedOnce, _Validator
    checked, original = [], _SchemaCheckedOnce.validate_cell
    monkeypatch.setattr(_SchemaCheckedOnce, "validate_cell",
                        lambda self, cell: checked.append(cell) or original(self, cell))
    nb = nbformat.read(REPO / "release" / "rnn" / "01_cell_forward.ipynb", as_version=4)
    _Validator().validate_nb(nb)
    assert len(checked) == len(nb.cells) and any("nbgrader" in c.metadata for c in nb.cells)
    assert _Validator.__mro__.index(MetadataValidator) < _Validator.__mro__.index(_SchemaCheckedOnce)
    assert "MetadataValidator().validate_nb(nb)" in inspect.getsource(CheckCellMetadata.preprocess)


# -- nbconvert --------------------------------------------------------------------------------------------------
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def test_html_exporter():
    """For nbgrader's feedback template, the course's exporter writes nbconvert's document: the same elements,
    attributes and text (the image's alt text included)."""
    from bs4 import BeautifulSoup
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters.generate_feedback import GenerateFeedback

    from autograde.runtime.plugins.feedback import NO_ALT, FeedbackExporter
    config = GenerateFeedback().config.HTMLExporter  # where nbgrader's feedback template is
    nb = new_notebook(cells=[new_code_cell("def f(x):\n    return x + 1\nprint(f(1))", outputs=[
        new_output("stream", name="stdout", text="2\n"),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    pages = []
    for exporter in (HTMLExporter, FeedbackExporter):
        resources = {"nbgrader": {"notebook": "01", "score": 1, "max_score": 2, "late_penalty": 0}}
        pages.append(exporter(**config).from_notebook_node(nb, resources)[0])
    assert config["template_name"] == "feedback"
    assert BeautifulSoup(pages[0], "html.parser") == BeautifulSoup(pages[1], "html.parser")
    assert NO_ALT in pages[1] and "highlight" in pages[1]


# -- jsonschema -------------------------------------------------------------------------------------------------
def test_rfc3987_syntax():
    """jsonschema tries to import rfc3987_syntax when it is imported, and imports without it."""
    probe = ("import sys\n"
             "tried = []\n"
             "class Missing:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             "        if name == 'rfc3987_syntax':\n"
             "            tried.append(name)\n"
             "            raise ImportError(name)\n"
             "sys.meta_path.insert(0, Missing())\n"
             "import jsonschema\n"
             "jsonschema.validate({'a': 1}, {'type': 'object'})\n"
             "assert tried, 'jsonschema no longer imports rfc3987_syntax: nbgrader_cli can stop hiding it'\n")
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


# -- multiprocessing -------------------------------------------------------------------------------------------
def test_resource_tracker():
    """The tracker's pipe and pid are where stop_resource_tracker closes and reaps them, and it exits then."""
    probe = ("import os\n"
             "from multiprocessing import resource_tracker\n"
             "from autograde.grading.engine import stop_resource_tracker\n"
             "tracker = resource_tracker._resource_tracker\n"
             "assert tracker._fd is None and tracker._pid is None\n"
             "resource_tracker.ensure_running()\n"
             "pid = tracker._pid\n"
             "assert isinstance(tracker._fd, int) and pid and hasattr(tracker._lock, 'acquire')\n"
             "stop_resource_tracker()\n"
             "assert tracker._fd is None and tracker._pid is None\n"
             "try:\n"
             "    os.kill(pid, 0)\n"
             "except ProcessLookupError:\n"
             "    pass\n"
             "else:\n"
             "    raise AssertionError('the resource tracker still runs')\n")
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60, cwd=REPO)


# -- distributed -----------------------------------------------------------------------------------------------
def _task_state():
    """In a Dask task: its key, its state on the worker, and whether autograde.grading.task, which reads
    them, takes it for cancelled."""
    from distributed import get_worker
    from distributed.worker import thread_state

    from autograde.grading.task import _cancelled
    return thread_state.key, get_worker().state.tasks[thread_state.key].state, _cancelled()


@pytest.mark.cluster
def test_task_state():
    """In a task's thread, thread_state.key is its key and the worker's state names it executing."""
    from distributed import Client
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        future = client.submit(_task_state, key="pinned-look")
        assert future.result(timeout=60) == ("pinned-look", "executing", False)
