"""A warm parent for one submission's kernels: one sandbox per notebook folder, kernels forked in it.

``WarmSandbox.for_folder(km, cwd)`` starts (or reuses) a sandbox in which ``warm_parent`` has imported
what every kernel imports; ``fork_kernel`` asks it, over ``wire``, for a kernel, which the kernel
manager then drives through ``ForkedKernel`` as if it had launched it. Between kernels every other
process in the sandbox is killed, ``/tmp`` emptied and the folder copied afresh, so each kernel starts
as a cold one would. ``close_warm_sandbox`` ends the current one (a grading process calls it before
it exits).
"""
import atexit
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import psutil

from autograde.runtime import wire
from autograde.runtime.kernels.cgroups import make_cgroup, sandbox_folder
from autograde.runtime.kernels.view import copy_folder


WARM_FOLDER = "/tmp/autograde-runtime"  # inside a warm sandbox: the warm parent's script and wire.py, bound read-only
WARM_ANSWER_LIMIT = 2**16  # bytes of one answer the grader reads from a warm parent (it shares a sandbox with a submission)


class ForkedKernel:
    """What jupyter_client's provisioner needs of a ``Popen`` (poll, wait, signals), for a kernel that the
    warm parent forked: the grader is not its parent, so it watches the process rather than waiting for it."""

    stdin = stdout = stderr = None

    def __init__(self, process):
        self.process, self.pid, self.returncode = process, process.pid, None

    def poll(self):
        if self.returncode is None:
            try:
                alive = self.process.is_running() and self.process.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
            if not alive:
                self.returncode = -signal.SIGKILL if getattr(self, "_killed", False) else 0
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum):
        with contextlib.suppress(psutil.Error):
            self.process.send_signal(signum)

    def kill(self):
        self._killed = True
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class WarmSandbox:
    """One sandbox for the kernels of one submission folder, started by ``autograde.runtime.kernels.warm_parent`` (a warm
    parent that forks each kernel). A grading process keeps at most one: a kernel in another folder
    closes it and starts another. Only one kernel runs in it at a time; when a kernel has ended,
    ``clean`` kills every other process in the sandbox and empties its /tmp, and the next kernel gets a
    fresh copy of the folder, so each kernel starts as a cold one would."""

    current = None  # (owner pid, key, WarmSandbox)

    @classmethod
    def for_folder(cls, km, cwd):
        """The warm sandbox for kernels of ``km`` in ``cwd``, started if need be; None when the kernel is not
        ipykernel or the warm parent cannot start (the kernel then starts cold)."""
        argv = list(km.kernel_spec.argv)
        if argv[1:3] != ["-m", "ipykernel_launcher"]:
            return None
        key = (str(cwd), argv[0], km.hide_grader, km.max_processes, km._bwrap)
        owner, known, warm = cls.current or (None, None, None)
        if owner == os.getpid() and known == key and warm.busy:
            return None  # a kernel still runs there: this one starts cold
        if owner == os.getpid() and known == key and warm.usable():
            warm.busy = True
            warm.refresh(cwd)
            return warm
        if owner == os.getpid():
            warm.close()
        cls.current = None
        try:
            warm = cls(km, cwd, argv[0])
        except (OSError, RuntimeError, ValueError) as exc:
            km.log.warning("kernels start cold: the warm parent did not start (%s)", exc)
            return None
        cls.current = (os.getpid(), key, warm)
        return warm

    def __init__(self, km, cwd, python, timeout=60):
        self.folder = sandbox_folder("autograde-warm-")
        self.busy, self.kernels = True, 0  # busy from when a kernel is asked for until clean()
        (self.folder / "ipc").mkdir()
        self.work = self.folder / "work"
        self.work.mkdir()
        self.limits = (km.folder_files, km.folder_size)
        self.refresh(cwd)
        args, self.env = km.sandbox_arguments(cwd, self.folder, self.folder / "ipc")
        # the warm parent runs as a script beside the one module it imports (the package is hidden)
        runtime = pathlib.Path(__file__).parents[1]
        warm_parent = f"{WARM_FOLDER}/warm_parent.py"
        args += ["--ro-bind", str(runtime / "kernels" / "warm_parent.py"), warm_parent,
                 "--ro-bind", str(runtime / "wire.py"), f"{WARM_FOLDER}/wire.py"]
        self.cgroup = make_cgroup(self.folder.name, km.max_processes, km.memory_limit)
        join = None if self.cgroup is None else self.cgroup.join
        address = str(self.folder / "ipc" / "warm-parent")
        self.bwrap = subprocess.Popen(
            args + ["--", python, warm_parent, address], env={**km.kernel_environment(os.environ), **self.env},
            stdin=subprocess.DEVNULL, preexec_fn=join, start_new_session=True)
        self.channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.channel.connect(address)
                break
            except OSError:
                if self.bwrap.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"exit status {self.bwrap.returncode}" if self.bwrap.returncode is not None
                                       else f"no answer in {timeout} s")
                time.sleep(0.02)
        self.channel.settimeout(timeout)
        self.warm_parent = self._inside()[0]

    def _inside(self):
        """The sandbox's processes that are not bubblewrap, oldest first (the warm parent comes first)."""
        try:
            inside = psutil.Process(self.bwrap.pid).children(recursive=True)
        except psutil.Error:
            return []
        alive = []
        for p in inside:
            with contextlib.suppress(psutil.Error):
                if p.name() != "bwrap" and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
        return sorted(alive, key=lambda p: (p.create_time(), p.pid))

    def usable(self):
        return self.bwrap.poll() is None and self.warm_parent.is_running()

    def refresh(self, cwd):
        """Replace the private copy of the folder with a fresh one (while no kernel runs); the warm parent
        copies it into the next kernel's own folder."""
        for entry in list(self.work.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
        self.skipped = copy_folder(cwd, self.work, *self.limits)

    def new_ipc_folder(self):
        self.kernels += 1
        return self.folder / "ipc" / f"kernel-{self.kernels}"

    def _ask(self, request, fds=()):
        """The warm parent's answer to ``request`` (sent with the descriptors ``fds``); ``wire.Closed`` (an
        OSError) when it stopped, ``wire.Malformed`` (a ValueError) for an answer it cannot have sent."""
        wire.send(self.channel, request, fds)
        return wire.receive(self.channel, WARM_ANSWER_LIMIT)

    def fork_kernel(self, argv, env, cwd, limits, evidence_fd):
        """Ask the warm parent for a kernel; its process (seen from the grader), as psutil.Process."""
        answer = self._ask({"op": "kernel", "argv": list(argv), "env": env, "cwd": str(cwd),
                            "limits": {str(k): int(v) for k, v in limits.items()}}, [evidence_fd])
        inner = answer.get("pid")
        for p in self.warm_parent.children():
            if _inner_pid(p.pid) == inner:
                return p
        raise RuntimeError(f"the kernel forked by the warm parent (pid {inner!r} in the sandbox) is not running")

    def others(self, kernel_pid):
        """Commands of the processes in the sandbox other than the warm parent and the kernel."""
        return [command for _, command in described(p for p in self._inside()
                                                     if p.pid not in (self.warm_parent.pid, kernel_pid))]

    def clean(self):
        """After a kernel ended: kill every other process in the sandbox and empty /tmp; if the warm
        parent does not answer (the submission killed it), the whole sandbox goes."""
        try:
            self._ask({"op": "clean"})
            deadline = time.monotonic() + 5
            while len(self._inside()) > 1 and time.monotonic() < deadline:  # SIGKILLed processes still exiting
                time.sleep(0.01)
            if [p.pid for p in self._inside()] != [self.warm_parent.pid]:
                raise RuntimeError("processes outlived the cleaning")
            self.busy = False
        except (OSError, ValueError, RuntimeError, psutil.Error):
            self.close()

    def close(self):
        with contextlib.suppress(OSError):
            os.killpg(self.bwrap.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.bwrap.kill()
        self.bwrap.wait()
        with contextlib.suppress(Exception):
            self.channel.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.cgroup is not None:
            self.cgroup.remove()
        self.busy = True  # never used again
        if WarmSandbox.current and WarmSandbox.current[2] is self:
            WarmSandbox.current = None


@atexit.register
def close_warm_sandbox():
    """Close this process's warm sandbox, if it has one (at exit; a process that ends with ``os._exit``, as
    grade-class's grading processes do, calls it itself)."""
    owner, _, warm = WarmSandbox.current or (None, None, None)
    if owner == os.getpid():
        warm.close()


def _inner_pid(pid):
    """The pid of host process ``pid`` in its own (innermost) PID namespace, or None."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return None


def described(processes):
    """(start time, command) of the live processes among ``processes``, oldest first."""
    found = []
    for p in processes:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                found.append((p.create_time(), " ".join(p.cmdline())[:200] or p.name()))
        except psutil.Error:  # it ended meanwhile
            pass
    return sorted(found)
