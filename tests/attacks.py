"""Attacks on the judge, shared by the sandbox test (stock nbgrader) and the class-grading test.

``JUDGE_ATTACK`` is the start of an answer cell whose functions are all still the release's stubs:
it tries every way to make the hidden checks pass without a correct function. It must earn
nothing: the checks run in the grader's process (autograde.runtime.judge.remote), which the kernel cannot reach,
and the solution and the checks are not in the kernel's file system.
"""
import os
import pathlib
import shutil

JUDGE_ATTACK = '''
import ast, builtins, glob, importlib, importlib.util, os, pathlib, sys, types
import numpy as np
from IPython import get_ipython

def attempt(what, action):
    try:
        action()
        print("CHEAT", what, "did not raise")
    except Exception as exc:
        print("CHEAT", what, "failed:", type(exc).__name__)

NAMES = {names!r}
stolen = {{}}
# the reference, however it can be found: imported by name, by a name built at run time, or read as a file
def by_import():
    module = importlib.import_module("".join(["auto", "grade", ".", "content", ".", "solu", "tion"]))
    stolen.update({{n: getattr(module, n) for n in NAMES}})
def by_file():
    candidates = [pathlib.Path(p) for p in sys.path if p] + list(pathlib.Path.cwd().parents)
    for folder in candidates:
        for path in sum((glob.glob(str(folder / pattern)) for pattern in ("solution.py", "*/solution.py", "*/*/solution.py")), []):
            namespace = {{}}
            exec(open(path).read(), namespace)
            stolen.update({{n: namespace[n] for n in NAMES if n in namespace}})
    if not stolen:
        raise FileNotFoundError("no solution.py")
attempt("import the solution", by_import)
attempt("read the solution", by_file)
attempt("find the checks", lambda: print(importlib.util.find_spec("autograde").origin))

# every later cell wrapped in try/except BaseException: pass, so no failure is ever shown
class Swallow(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(node)
get_ipython().ast_transformers.append(Swallow())
type(get_ipython()).showtraceback = lambda *args, **kwargs: None
# whatever the checks compare with, it agrees
np.allclose = np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
# the checks themselves, replaced under computed names
fake = types.ModuleType("fake")
fake.__getattr__ = lambda name: (lambda *args, **kwargs: print("PASSED"))
for name in ["auto" + "grade"] + ["autograde." + m for m in ("content.checks", "content.checking", "runtime.judge.remote", "content.solution")] + [
        "autograde.content.checks.nb0%d" % i for i in range(1, 9)]:
    sys.modules[name] = fake
# acting differently when graded: then every function is the reference, if one was stolen
graded = any(key.startswith("NBGRADER") for key in os.environ)
print("CHEAT graded:", graded, "stolen:", sorted(stolen))
'''


def judge_attack(function_names, stub):
    """The first answer cell of a notebook whose answer cells define ``function_names`` (every later check
    runs after the attack): the attack, the release's ``stub`` of the cell's own function, then the
    functions replaced by stolen ones (the later answer cells define theirs again: the print shows what
    was stolen)."""
    steal = "\n".join(f"if '{n}' in stolen:\n    {n} = stolen['{n}']" for n in function_names)
    return JUDGE_ATTACK.format(names=list(function_names)) + "\n" + stub + "\n" + steal + "\n"


# -- the host, searched from a grading kernel (the sandbox is an allow-list) --------------------
SEARCH_ATTACK = '''
import os, pathlib, re, sys, time
found, stolen, started = [], {{}}, time.monotonic()
def search():
    for top, folders, files in os.walk("/"):
        if top in ("/proc", "/sys", "/dev") or time.monotonic() - started > 60:
            folders[:] = []
            continue
        for name in files:
            if name == "solution.py" or "decoy" in name or "decoy" in top:
                found.append(os.path.join(top, name))
try:
    search()
except Exception as exc:
    print("SEARCH failed:", type(exc).__name__)
# where an editable install of the grader points, read from the environment's import hooks
for folder in sys.path:
    for hook in pathlib.Path(folder).glob("__editable__*") if os.path.isdir(folder) else []:
        for target in re.findall(r"'(/[^']+)'", hook.read_text(errors="replace")):
            for candidate in (pathlib.Path(target) / "solution.py", pathlib.Path(target, "autograde", "content", "solution.py")):
                if candidate.exists():
                    found.append(str(candidate))
for path in found:
    if path.endswith(".py"):
        try:
            namespace = {{}}
            exec(open(path).read(), namespace)
            stolen.update({{n: namespace[n] for n in {names!r} if n in namespace}})
        except Exception as exc:
            print("SEARCH could not run", path, type(exc).__name__)
print("SEARCH found:", found)
print("SEARCH stolen:", sorted(stolen))
print("SEARCH environment:", dict(os.environ))
'''


def search_attack(function_names, stub):
    """The first answer cell of a notebook: search the whole file system (and the environment) for a
    solution, and use what it finds in place of every function; then the release's ``stub``."""
    steal = "\n".join(f"if '{n}' in stolen:\n    {n} = stolen['{n}']" for n in function_names)
    return SEARCH_ATTACK.format(names=list(function_names)) + "\n" + stub + "\n" + steal + "\n"


def planted_decoys(solution_source, token):
    """Decoys where the grading host keeps other things: a second checkout of the course with its solution
    (/srv, /opt), a file in a home folder, and what the test puts in the grader's environment (``token``).
    Returns the files made (each holds ``token``); the places that could not be written are skipped."""
    made = []
    for folder in (f"/srv/autograde-decoy-{token}/course/autograde", f"/opt/autograde-decoy-{token}/autograde",
                   f"/home/autograde-decoy-{token}", f"/var/tmp/autograde-decoy-{token}"):
        try:
            os.makedirs(folder)
            path = os.path.join(folder, "solution.py")
            with open(path, "w") as handle:
                handle.write(f"# {token}\n" + solution_source)
            made.append(path)
        except OSError:
            continue
    return made


def remove_decoys(token):
    for top in ("/srv", "/opt", "/home", "/var/tmp"):
        shutil.rmtree(os.path.join(top, f"autograde-decoy-{token}"), ignore_errors=True)


# -- the judge's socket, flooded by the student's function (the judge reads with a cap) ---------
FLOOD = '''
def _flood_the_judge():
    probe = globals().get("__autograde_probe__")
    judge = type(probe).session.__globals__["_JUDGE"]["socket"] if probe is not None else None
    if judge is None:
        return
    wire = type(probe).session.__globals__["wire"]  # the wire format, as the probe was given it
    try:
        judge.sendall(wire.HEADER.pack(2**40))  # a length header of a TiB ...
        chunk = bytes(2**20)
        for _ in range(3 * 1024):  # ... then 3 GiB
            judge.sendall(chunk)
    except OSError:
        pass
'''


def flooding(function, solution):
    """``solution`` (an answer cell defining ``function``), with ``function`` flooding the judge's socket
    each time it is called before it returns the right answer."""
    return FLOOD + "\n" + solution + f"\n_honest_{function} = {function}\n" + (
        f"def {function}(*args, **kwargs):\n    _flood_the_judge()\n    return _honest_{function}(*args, **kwargs)\n")


def looping(function):
    """An answer cell whose ``function`` never returns."""
    return f"def {function}(*args, **kwargs):\n    while True:\n        pass\n"


# -- a kernel that writes everywhere it can (what a grading kernel writes is bounded) -----------
FILL = '''
import os, sys
def _fill(folder, files=64):
    """files of 96 MiB, each under the file-size limit, until the folder is full"""
    written, chunk = 0, b"x" * (16 * 2**20)
    try:
        for i in range(files):
            with open(os.path.join(folder, f"filler-{{i}}"), "wb") as handle:
                for _ in range(6):
                    handle.write(chunk)
                    written += len(chunk)
        print("FILL", folder, "wrote", written, "and was never full")
    except OSError as exc:
        print("FILL", folder, "wrote", written, "then:", exc.strerror)
for _folder in {folders}:
    _fill(_folder)
'''
KERNEL_IPC_FOLDER = "os.path.dirname(sys.argv[sys.argv.index('-f') + 1])"


def filling(folders, solution):
    """An answer cell that fills each of ``folders`` (Python expressions) with files, then defines the
    function as ``solution`` does."""
    return FILL.format(folders="[" + ", ".join(folders) + "]") + "\n" + solution


# -- malformed messages on the judge's socket, one kind per call (issue: nothing a kernel sends raises) ---
GARBLE = '''
import base64 as _base64, json as _json
def _array(dtype, shape, data):
    return {{"t": "nd", "dtype": dtype, "shape": shape, "b": _base64.b64encode(data).decode()}}
_GARBAGE = [
    b"{{not json",
    b"\\xff\\xfe\\x00 bad bytes",
    b"[" * 200000 + b"]" * 200000,  # nesting deep enough to exhaust a parser
    _json.dumps({{"reply": "not an object"}}).encode(),
    _json.dumps({{"reply": {{"result": _array("<V8", [1], bytes(8))}}}}).encode(),  # a dtype the wire refuses
    _json.dumps({{"reply": {{"result": _array("<f8", [3], bytes(8))}}}}).encode(),  # shape and bytes disagree
    _json.dumps({{"reply": {{"result": _array("<f8", [10**12, 10**12], b"")}}}}).encode(),  # an absurd shape
    _json.dumps({{"reply": {{"error": ["not", "an", "object"]}}}}).encode(),
    _json.dumps({{"reply": {{"result": {{"t": "dict", "v": [[{{"t": "list", "v": []}}, {{"t": "py", "v": 1}}]]}}}}}}).encode(),
]
_sent = [0]
def _garble_the_judge():
    probe = globals().get("__autograde_probe__")
    judge = type(probe).session.__globals__["_JUDGE"]["socket"] if probe is not None else None
    if judge is None:
        return
    wire = type(probe).session.__globals__["wire"]
    message = _GARBAGE[_sent[0] % len(_GARBAGE)]
    _sent[0] += 1
    try:
        judge.sendall(wire.HEADER.pack(len(message)) + message)
    finally:
        judge.close()
'''


def garbling(function, solution):
    """``solution`` with ``function`` sending the judge a malformed message (a different kind at each call),
    closing its end of the socket, then returning the right answer."""
    return GARBLE.format() + "\n" + solution + f"\n_honest_{function} = {function}\n" + (
        f"def {function}(*args, **kwargs):\n    _garble_the_judge()\n    return _honest_{function}(*args, **kwargs)\n")


def sandbox_folders():
    """The folders sandboxes share with the grader that exist now (each must go with its kernel)."""
    import tempfile
    from autograde.runtime.kernels.cgroups import shared_folder_base
    base = pathlib.Path(shared_folder_base() or tempfile.gettempdir())
    return {p.name for p in base.glob("autograde-kernel-*")} | {p.name for p in base.glob("autograde-warm-*")}
