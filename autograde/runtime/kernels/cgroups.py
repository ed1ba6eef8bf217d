"""A sandbox's host resources: its control groups (a bound on its processes and its memory, tmpfs pages
included) and the folder it shares with the grader.

bubblewrap's namespaces hide the host from a kernel, but do not bound what it consumes: a fork bomb
or a tmpfs filled to its size would still weigh on the machine. Where the grader may make cgroups
(cgroup v1 hierarchies, or v2 with the controller enabled below the grader's own), every sandbox gets
its own, whose limits are the kernel's (``SandboxedKernelManager.max_processes``,
``LimitedKernelManager.memory_limit``); elsewhere the sandbox relies on its rlimits alone.

A sandbox's folder on the host (``sandbox_folder``) is removed with its kernel; one whose grader was
killed (SIGKILL, a lost machine) cannot be, so each folder names its owner, and making a new one first
removes those whose owner has gone.
"""
import contextlib
import functools
import os
import pathlib
import shutil
import tempfile
import time

import psutil

SANDBOX_PREFIXES = ("autograde-kernel-", "autograde-warm-")
OWNER_FILE = "owner"  # in a sandbox's folder, beside (never inside) what the kernel sees: "PID START_TIME"


@functools.lru_cache(maxsize=None)
def shared_folder_base():
    """Where the folders a sandbox shares with the grader go (the ipc folder, which the kernel can write
    in): the host's /dev/shm where the grader can give kernels a memory cgroup, since what a kernel writes
    in a tmpfs is then charged to its cgroup and bounded by its memory limit; else the usual temporary
    folder (the kernel's files there are bounded only by its file-size limit, file by file)."""
    if os.access("/dev/shm", os.W_OK) and hierarchies("memory"):
        return "/dev/shm"
    return None


def sandbox_folder(prefix):
    """A new folder for a sandbox (``prefix``: one of ``SANDBOX_PREFIXES``) in ``shared_folder_base()``, owned
    by this process; the folders of sandboxes whose owner is gone are removed first."""
    base = pathlib.Path(shared_folder_base() or tempfile.gettempdir())
    sweep_orphans(base)
    folder = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    (folder / OWNER_FILE).write_text(_identity(os.getpid()))
    return folder


def sweep_orphans(base):
    """Remove the sandbox folders in ``base`` whose owner process no longer runs (a folder without an owner
    file is being made, or is not ours: kept)."""
    for prefix in SANDBOX_PREFIXES:
        for folder in base.glob(prefix + "*"):
            try:
                pid, _ = (folder / OWNER_FILE).read_text().split()
            except (OSError, ValueError):
                continue
            if not _identity(int(pid)):  # only a folder whose owner is surely gone: a pid that runs keeps it
                shutil.rmtree(folder, ignore_errors=True)


def _identity(pid):
    """``PID START_TIME`` of a running process, "" when no process runs with ``pid`` (recorded for whoever
    reads a folder; the sweep keeps a folder whose pid runs, even if reused: a leak, never a live folder lost)."""
    try:
        return f"{pid} {psutil.Process(pid).create_time():.2f}"
    except psutil.NoSuchProcess:
        return ""
    except (psutil.Error, ValueError):
        return f"{pid} unknown"


class KernelCgroup:
    """The cgroups of one sandbox (``folders``): ``join`` puts the calling process in all of them (it runs
    in the child before the kernel starts); ``remove`` removes them once empty (else they are swept later)."""

    def __init__(self, folders):
        self.folders = folders

    def join(self):
        for folder in self.folders:
            with open(folder / "cgroup.procs", "w") as handle:
                handle.write(str(os.getpid()))

    def remove(self):
        for folder in self.folders:
            with contextlib.suppress(OSError):  # still busy while the last processes are reaped: swept later
                folder.rmdir()


def make_cgroup(name, max_processes, memory_bytes):
    """The cgroups named after ``name`` the machine lets the grader make (cgroup v1 hierarchies, or v2 with
    the controller): a pids cgroup with ``max_processes``, and a memory cgroup with ``memory_bytes``, which
    also counts what the sandbox's processes write in tmpfs (their /tmp, /dev/shm, and the ipc folder when
    it is in the host's /dev/shm) and the kernel memory of their files; None when neither can be made."""
    folders = []
    for controller, limits in (("pids", {"pids.max": max_processes}),
                               ("memory", {"memory.limit_in_bytes": memory_bytes, "memory.max": memory_bytes})):
        if not list(limits.values())[0]:
            continue
        for base in hierarchies(controller):
            sweep(base)
            folder = base / f"autograde-{name}"
            try:
                folder.mkdir()
                written = [key for key, value in limits.items() if (folder / key).exists()]
                for key in written:
                    (folder / key).write_text(str(int(limits[key])))
                if not written:
                    raise OSError(f"no limit file in {folder}")
            except OSError:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                continue
            folders.append(folder)
            break
    return KernelCgroup(folders) if folders else None


def sweep(base, age=300):
    """Remove the empty cgroups that kernels ended more than ``age`` seconds ago left behind (a cgroup
    can only be removed once its last process has gone, which may be after its kernel's cleanup)."""
    now = time.time()
    for stale in base.glob("autograde-autograde-*"):
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime > age:
                stale.rmdir()  # fails, harmlessly, while a process is still in it


def hierarchies(controller):
    """Folders where a cgroup with ``controller`` can be made under the grader's own: cgroup v1's hierarchy
    of that controller, then v2's where the controller is enabled."""
    found = []
    try:
        lines = pathlib.Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            found.append(pathlib.Path("/sys/fs/cgroup", controller) / path.lstrip("/"))
        elif controllers == "":
            folder = pathlib.Path("/sys/fs/cgroup") / path.lstrip("/")
            with contextlib.suppress(OSError):
                if controller in (folder / "cgroup.subtree_control").read_text().split():
                    found.append(folder)
    return found
