"""Attacks on the judge, shared by the sandbox test (stock nbgrader) and the class-grading test.

``JUDGE_ATTACK`` is the start of an answer cell whose functions are all still the release's stubs:
it tries every way to make the hidden checks pass without a correct function. It must earn
nothing: the checks run in the grader's process (autograde.remote), which the kernel cannot reach,
and the solution and the checks are not in the kernel's file system.
"""

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
    module = importlib.import_module("".join(["auto", "grade", ".", "solu", "tion"]))
    stolen.update({{n: getattr(module, n) for n in NAMES}})
def by_file():
    candidates = [pathlib.Path(p) for p in sys.path if p] + list(pathlib.Path.cwd().parents)
    for folder in candidates:
        for path in glob.glob(str(folder / "*" / "solution.py")) + glob.glob(str(folder / "solution.py")):
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
for name in ["auto" + "grade"] + ["autograde." + m for m in ("checks", "checking", "remote", "solution")] + [
        "autograde.checks.nb0%d" % i for i in range(1, 9)]:
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
