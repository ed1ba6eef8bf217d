"""An IPython startup file of every sandboxed grading kernel: what the submission tried, as evidence.

``autograde.runtime.kernels.sandbox`` binds this file, read-only, into the fresh IPython profile of the kernel,
so it runs before the first cell. It installs a Python audit hook (PEP 578; a hook cannot be
removed once added) that appends one JSON line per suspicious event to a file descriptor the
grader opened before the sandbox started (``AUTOGRADE_EVIDENCE_FD``; the file itself is not
in the sandbox's file system):

* ``outside``: opening, listing or globbing a path in a watched folder (the course folder with
  the gradebook and every student's files, the grader's package; ``AUTOGRADE_WATCH``) other
  than the notebook's own folder and the Python environment (``AUTOGRADE_ALLOW``);
* ``grader``: importing ``autograde`` (a finder first on ``sys.meta_path`` notes it);
* ``network``: connecting, binding or sending on a socket (except the grader's own Unix sockets,
  ``AUTOGRADE_CHANNEL``);
* ``process``: starting a process (``subprocess``, ``os.system``, ``fork``, ``exec``, ``spawn``);
* ``signal``: sending a signal (``os.kill``, ``os.killpg``).

The sandbox already stops each of these from reaching anything; the lines only say that a
submission tried, for the integrity report. Evidence, not proof: a submission can write to the
same descriptor, and ``ctypes`` can act without audit events.
"""


def _autograde_watch():
    import json
    import os
    import sys

    fd = int(os.environ.pop("AUTOGRADE_EVIDENCE_FD", "-1"))
    watched = [w for w in os.environ.pop("AUTOGRADE_WATCH", "").split(os.pathsep) if w]
    allowed = [a for a in os.environ.pop("AUTOGRADE_ALLOW", "").split(os.pathsep) if a]  # the environment
    grader_channel = os.environ.pop("AUTOGRADE_CHANNEL", "")  # the folder of the grader's own sockets
    if fd < 0:
        return
    here = os.getcwd()
    room = [500]  # lines at most: a loop of attempts must not fill the disk

    def record(kind, detail):
        if room[0] > 0:
            room[0] -= 1
            try:
                os.write(fd, (json.dumps({"kind": kind, "detail": str(detail)[:300]}) + "\n").encode())
            except OSError:
                pass

    def outside(path):
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str) or not watched:
            return False
        full = os.path.normpath(os.path.join(here, path))
        if any(full == a or full.startswith(a + os.sep) for a in [here] + allowed):
            return False
        return any(full == w or full.startswith(w + os.sep) for w in watched)

    paths = {"open", "os.listdir", "os.scandir", "glob.glob", "os.chdir", "os.remove", "os.rename", "os.rmdir",
             "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.truncate", "shutil.rmtree", "shutil.copyfile"}
    network = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"}
    processes = {"subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn",
                 "pty.spawn"}
    signals = {"os.kill", "os.killpg"}

    def hook(event, args):
        if event in paths:
            if args and outside(args[0]):
                record("outside", f"{event} {args[0]}")
        elif event in network:
            address = args[1] if len(args) > 1 else ""
            if not (isinstance(address, str) and grader_channel and address.startswith(grader_channel)):
                record("network", f"{event} {address}")
        elif event in processes:
            record("process", f"{event} {args[0] if args else ''}")
        elif event in signals:
            record("signal", f"{event} {args}")

    sys.addaudithook(hook)

    class GraderImports:
        """First on sys.meta_path: notes every attempt to import autograde (importlib's too, which raises
        no audit event), then lets the normal finders fail to find it."""

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "autograde":
                record("grader", f"import {name}")
            return None

    sys.meta_path.insert(0, GraderImports())


_autograde_watch()
del _autograde_watch
