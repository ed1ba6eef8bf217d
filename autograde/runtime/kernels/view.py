"""What a sandboxed kernel sees of the host: an allow-list, built on an empty root.

``sandbox_view`` lists the read-only binds (the system's programs and libraries, a few files of
``/etc``, the Python environment of ``python_folders``, the course's ``read_only_paths``), with the
``autograde`` package covered wherever it lies in them. ``copy_folder`` makes the kernel's own copy
of its notebook folder, regular files only (``SEED`` holds the originals inside the sandbox, which
``SEED_COMMAND`` or the warm parent copy into the kernel's tmpfs). ``matplotlib_cache`` is the font
list every kernel gets, built once per grading process.
"""
import atexit
import contextlib
import importlib.util
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import tempfile


SEED = "/run/autograde"  # inside the sandbox: read-only originals of what each kernel gets a writable copy of
# A cold kernel's command starts with this: its folder and matplotlib's font list copied from SEED into its
# own size-capped tmpfs (a warm parent does the same before each fork: autograde.runtime.kernels.warm_parent.seed)
SEED_COMMAND = ["/bin/sh", "-c", f'cp -R {SEED}/folder/. . 2>/dev/null; if [ -d {SEED}/matplotlib ]; then '
                f'mkdir -p /tmp/matplotlib && cp -R {SEED}/matplotlib/. /tmp/matplotlib 2>/dev/null; fi; exec "$@"',
                "autograde-seed"]
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


def package_folder(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(list(spec.submodule_search_locations)[0]).resolve()
