"""A warm parent for one submission's kernels, run inside that submission's sandbox.

Starting an IPython kernel and importing what every notebook of the course imports first
(numpy, matplotlib's pyplot) costs seconds of CPU, paid again by every kernel. This
program pays it once: bound read-only into a sandbox (``autograde.runtime.kernels.warm_sandbox.WarmSandbox``), it
imports those modules, listens on a Unix socket in the sandbox's ``ipc`` folder, and for
each request forks a child that becomes a kernel exactly as ``python -m ipykernel_launcher``
would (same arguments, environment, working folder, fresh random state), with the limits the
grader asks for. It never runs a submission's code itself.

Requests and answers are messages of the course's wire format (``autograde.runtime.wire``), one
answer to each request:

* ``{"op": "kernel", "argv": [...], "env": {...}, "cwd": "...", "limits": {...}}``, with the
  kernel's evidence descriptor attached (``SCM_RIGHTS``): ``{"pid": <pid in the sandbox>}``; the
  kernel's folder ``cwd`` (a tmpfs of its own) is first filled afresh from the read-only copy the
  grader keeps of the notebook's folder;
* ``{"op": "clean"}``: every other process in the sandbox is killed (the kernel that ended and
  whatever it left running), ``/tmp`` is emptied but for what the sandbox mounted there:
  ``{"clean": true}``.

The sandbox hides the ``autograde`` package: the grader binds this file and ``wire.py`` into one
folder of the sandbox and runs ``python warm_parent.py SOCKET`` there, which imports ``wire`` from
beside it.
"""
import contextlib
import os
import resource
import shutil
import signal
import socket
import sys

if __package__:  # imported in the grader (seed, warm_up, ...)
    from autograde.runtime import wire
else:  # run as a script in the sandbox, beside wire.py
    import wire

EVIDENCE_FD = 250  # where a kernel finds its evidence descriptor (the number is arbitrary, above stdio's)


def warm_up():
    """Import what each kernel would import first, with the backend ipykernel would choose."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # what ipykernel's kernelspec sets when frozen modules are on (debugpy then says so on stderr)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    # what every kernel imports later: debugpy (a tenth of a second of its start), IPython's
    # completer, history database and traceback formatting (at a cell's first error)
    import ipykernel.debugger  # noqa: F401
    import IPython.core.completerlib  # noqa: F401
    try:
        import sqlite3  # noqa: F401
        import stack_data  # noqa: F401
    except ImportError:  # IPython does without them
        pass
    try:
        import numpy  # noqa: F401
        import numpy.random  # noqa: F401
        import matplotlib.pyplot  # noqa: F401  (the backend itself is loaded at the first figure, as always)
    except ImportError:  # a course without them: the kernels import what they use
        pass


def become_kernel(request, evidence_fd):
    """In the forked child: set up the process as the grader asked, then run ipykernel. Never returns."""
    try:
        os.setsid()
        for name, value in request.get("limits", {}).items():
            resource.setrlimit(int(name), (int(value), int(value)))
        if evidence_fd is not None:
            os.dup2(evidence_fd, EVIDENCE_FD)
            os.close(evidence_fd)
        os.environ.clear()
        os.environ.update(request["env"])
        if evidence_fd is not None:
            os.environ["AUTOGRADE_EVIDENCE_FD"] = str(EVIDENCE_FD)
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # as `python -m ipykernel_launcher` run there would have it
        sys.modules.pop("wire", None)  # the notebook's folder may hold a wire.py of its own
        if "numpy.random" in sys.modules:  # a fresh process draws its own seed
            sys.modules["numpy.random"].seed()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - the kernel's own failure, reported on its stderr
        import traceback
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


SEED = "/run/autograde"  # the read-only originals the grader binds into the sandbox (autograde.runtime.kernels.view.SEED)


def seed(cwd):
    """Give the next kernel its own copy of the notebook's folder (a size-capped tmpfs at ``cwd``) and of
    matplotlib's font list, from the read-only originals."""
    _empty(cwd)
    with contextlib.suppress(OSError):
        shutil.copytree(os.path.join(SEED, "folder"), cwd, dirs_exist_ok=True)
    seed_fonts()


def seed_fonts():
    if os.path.isdir(os.path.join(SEED, "matplotlib")):
        with contextlib.suppress(OSError):
            shutil.copytree(os.path.join(SEED, "matplotlib"), "/tmp/matplotlib", dirs_exist_ok=True)


def clean():
    """Kill every other process of the sandbox (PID 1, bubblewrap, is spared by the kernel), and empty /tmp."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _empty("/tmp")


def _empty(folder):
    """Remove what is in ``folder``, except what the sandbox mounted (and what is inside that)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if os.path.ismount(entry.path):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                _empty(entry.path)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:  # still holds a mount point, or went meanwhile
            pass


def serve(path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped by the system, the grader watches them
    while True:
        connection, _ = listener.accept()
        with connection:
            while True:
                try:
                    request, fds = wire.receive(connection, max_fds=4)
                except wire.Closed:  # the grader is done with this sandbox
                    break
                if request.get("op") == "kernel":
                    seed(request["cwd"])
                    pid = os.fork()
                    if pid == 0:
                        listener.close()
                        connection.close()
                        become_kernel(request, fds[0] if fds else None)
                    answer = {"pid": pid}
                elif request.get("op") == "clean":
                    clean()
                    answer = {"clean": True}
                else:
                    answer = {"error": f"unknown request {request.get('op')!r}"}
                for fd in fds:  # a forked kernel holds its own copies
                    os.close(fd)
                wire.send(connection, answer)


if __name__ == "__main__":
    seed_fonts()
    warm_up()
    serve(sys.argv[1])
