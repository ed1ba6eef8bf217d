"""Kernels forked from a warm parent (``SandboxedKernelManager.warm_start``, what grade-class uses):
each kernel of a submission folder starts as a cold one would. Whatever one kernel left (files in
its folder or /tmp, an IPython startup file, running processes) is gone for the next; another
folder gets another sandbox; a kernel that kills the warm parent costs nothing to the next.
"""
import asyncio
import json
import os
import shutil
import subprocess
import uuid

import pytest

from autograde.runtime.kernels.sandbox import SandboxedKernelManager, bwrap_path, check_sandbox
from autograde.runtime.kernels.view import copy_folder
from autograde.runtime.kernels.warm_sandbox import WarmSandbox
from autograde.runtime.kernels.limits import PromptKernelClient
from tests.conftest import REPO

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(check_sandbox(bwrap_path()) is not None,
                                 reason=f"bubblewrap cannot build a sandbox here: {check_sandbox(bwrap_path())}")]

REPORT = '''
import sys
numpy_preloaded = "numpy" in sys.modules
import json, os
import numpy as np
print(json.dumps({"files": sorted(os.listdir(".")), "tmp": sorted(os.listdir("/tmp")),
                  "poisoned": "POISONED" in globals(), "parent": os.getppid(), "random": float(np.random.rand()),
                  "numpy_preloaded": numpy_preloaded, "cwd": os.getcwd()}))
'''

LITTER = '''
import os, subprocess
open("litter.txt", "w").write("left by the kernel before")
open("/tmp/litter", "w").write("left by the kernel before")
os.makedirs("/tmp/ipython/profile_default/startup", exist_ok=True)
open("/tmp/ipython/profile_default/startup/99-poison.py", "w").write("POISONED = True")
started, told = os.pipe()
if os.fork() == 0:  # a grandchild that outlives the kernel, reparented inside the sandbox
    subprocess.Popen(["sleep", "{sleep}"], start_new_session=True)
    os.write(told, b"1")
    os._exit(0)
os.read(started, 1)  # the cell ends once the sleep runs, however busy the machine
'''


def run(folder, code, warm=True, kills_its_sandbox=False, **config):
    """Start a kernel for ``folder``, run ``code``, stop it; (what it printed, its manager).
    ``kills_its_sandbox``: the code kills the sandbox's warm parent, which may take the kernel
    down before it replies (bubblewrap ends the sandbox when its child ends): wait for that."""
    async def go():
        km = SandboxedKernelManager(warm_start=warm, **config)
        await km.start_kernel(cwd=str(folder))
        kc = km.client()
        kc.start_channels()
        printed = []
        try:
            await kc.wait_for_ready(timeout=60)
            if kills_its_sandbox:
                kc.execute(code)
                parent = WarmSandbox.current[2].warm_parent
                for _ in range(600):
                    if not parent.is_running():
                        return "", km
                    await asyncio.sleep(0.1)
                raise AssertionError("the warm parent outlived a SIGKILL")
            reply = await kc.execute_interactive(code, timeout=60, output_hook=lambda msg: printed.append(
                msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return "".join(printed), km
    return asyncio.run(go())


def report(folder, warm=True):
    printed, km = run(folder, REPORT, warm)
    return json.loads(printed.strip().splitlines()[-1]), km


@pytest.fixture
def folders(tmp_path):
    for student in ("ann", "bob"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "answer.txt").write_text(student)
    yield tmp_path / "ann", tmp_path / "bob"
    if WarmSandbox.current is not None:
        WarmSandbox.current[2].close()


def test_each_kernel_starts_as_a_cold_one_would(folders):
    ann, _ = folders
    sleep = f"{9000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
    first, _ = report(ann)
    _, littering = run(ann, LITTER.format(sleep=sleep))
    assert any(f"sleep {sleep}" in command for command in littering.evidence()["left_running"])
    second, _ = report(ann)
    cold, _ = report(ann, warm=False)

    assert first["parent"] == second["parent"]  # forked by the same warm parent ...
    assert first["numpy_preloaded"] and not cold["numpy_preloaded"]  # ... which had numpy imported
    for seen in (first, second):  # ... and yet each kernel sees what a cold kernel sees
        assert seen["files"] == cold["files"] == ["answer.txt"]
        # /tmp: the same, but for the grader's own mount points (the ipc folder, the warm parent's file)
        assert [n for n in seen["tmp"] if not n.startswith("autograde-")] == \
            [n for n in cold["tmp"] if not n.startswith("autograde-")]
        assert seen["cwd"] == cold["cwd"] == str(ann)
        assert not seen["poisoned"]
    assert first["random"] != second["random"]  # each kernel draws its own seed
    assert subprocess.run(["pgrep", "-f", f"sleep {sleep}"], capture_output=True).returncode == 1  # killed
    assert (ann / "answer.txt").read_text() == "ann" and not (ann / "litter.txt").exists()


FIRST_WORDS = 'import sys\nprint("first", flush=True)\nprint("second")\nprint("third", file=sys.stderr)\n'


def test_a_kernel_is_ready_when_it_answers_and_its_first_words_all_arrive(folders):
    """The grader's kernel client (autograde.runtime.kernels.limits.PromptKernelClient) is ready as soon as the kernel
    has answered kernel_info on shell and iopub, without jupyter_client's wait for iopub to fall silent.
    iopub must be connected by then: everything the first cell prints arrives, in order, and nothing
    the kernel published about kernel_info is taken for it. Warm and cold kernels alike."""
    ann, _ = folders
    for warm in (True, True, False):
        printed, km = run(ann, FIRST_WORDS, warm)
        assert isinstance(km.client(), PromptKernelClient)
        assert printed == "first\nsecond\nthird\n"


def test_another_folder_gets_another_sandbox(folders):
    ann, bob = folders
    _, first = report(ann)
    warm_parent = WarmSandbox.current[2].warm_parent
    seen, second = report(bob)
    assert seen["files"] == ["answer.txt"] and (bob / "answer.txt").read_text() == "bob"
    assert WarmSandbox.current[2].warm_parent.pid != warm_parent.pid
    assert not warm_parent.is_running()  # ann's sandbox is gone with everything in it


def test_a_kernel_that_kills_its_warm_parent_costs_the_next_one_nothing(folders):
    ann, _ = folders
    report(ann)
    before = WarmSandbox.current[2]
    run(ann, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", kills_its_sandbox=True)
    seen, _ = report(ann)
    assert seen["files"] == ["answer.txt"] and not seen["poisoned"]
    assert WarmSandbox.current[2] is not before and not before.warm_parent.is_running()


def test_the_folder_copy_holds_the_helper_package_without_bytecode(tmp_path):
    """A kernel's copy of the notebook folder (``copy_folder``, cold and warm) holds its subfolders, so the
    helper package the notebooks import, and leaves out the bytecode and checkpoints written beside them."""
    release = tmp_path / "rnn"
    shutil.copytree(REPO / "release" / "rnn", release, ignore=shutil.ignore_patterns("__pycache__"))
    expected = sorted(p.relative_to(release) for p in release.rglob("*") if p.is_file())
    for litter in ("rnn_helpers/__pycache__/loading.cpython-311.pyc", ".ipynb_checkpoints/08_lstm-checkpoint.ipynb"):
        (release / litter).parent.mkdir()
        (release / litter).write_text("written by the student's Jupyter")
    copy = tmp_path / "copy"
    copy.mkdir()
    assert copy_folder(release, copy, 1000, 2**30) == []
    assert sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file()) == expected
    assert any(p.parts[0] == "rnn_helpers" for p in expected)


def test_a_sandbox_folder_whose_grader_was_killed_goes_with_the_next_sandbox(tmp_path, monkeypatch):
    """A grader killed with SIGKILL cannot remove its sandboxes' folders: the next sandbox made on the
    machine removes each folder whose owner no longer runs, and only those."""
    from autograde.runtime.kernels import cgroups
    monkeypatch.setattr(cgroups, "shared_folder_base", lambda: str(tmp_path))
    killed = subprocess.Popen(["sleep", "60"])
    owner = cgroups._identity(killed.pid)
    killed.kill()
    killed.wait()
    orphan, live, unowned = (tmp_path / f"autograde-{kind}-{name}" for kind, name in
                             (("warm", "orphan"), ("kernel", "live"), ("kernel", "unowned")))
    for folder in (orphan, live, unowned):
        (folder / "ipc").mkdir(parents=True)
    (orphan / cgroups.OWNER_FILE).write_text(owner)
    (live / cgroups.OWNER_FILE).write_text(cgroups._identity(1))  # a process that runs
    made = cgroups.sandbox_folder("autograde-kernel-")
    assert not orphan.exists() and live.exists() and unowned.exists()
    assert made.parent == tmp_path and (made / cgroups.OWNER_FILE).read_text() == cgroups._identity(os.getpid())


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_read_only_folder_in_tmp_is_seen_in_the_kernels_private_tmp(folders, tmp_path_factory, warm):
    """A course and its environment may be checked out under /tmp (a CI runner's clone): what the view
    binds from there is bound into the kernel's private /tmp, not hidden by it."""
    data = tmp_path_factory.mktemp("data")
    assert str(data).startswith("/tmp/")
    (data / "corpus.txt").write_text("names")
    printed, _ = run(folders[0], f"print(open({str(data / 'corpus.txt')!r}).read())", warm,
                     read_only_paths=[str(data)])
    assert printed == "names\n"
