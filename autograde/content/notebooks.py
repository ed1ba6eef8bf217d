"""Reading, writing and rewriting the course's notebooks.

* cell constructors with nbgrader metadata, for authoring a source notebook;
* ``fill``: a submission made from a released notebook, its answer cells taken
  from the source notebook (markers removed) or from catalogue code.
"""
import copy
import inspect
import pathlib
import re
import textwrap

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def _nbgrader(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text):
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(source):
    """A free code cell: demos and plots, run by students, never graded."""
    return nbformat.v4.new_code_cell(source.strip("\n"))


def setup(grade_id, source):
    """A read-only code cell that later notebooks also run (imports, loading earlier functions)."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"), metadata=_nbgrader(grade_id, locked=True))
    cell.metadata["tags"] = ["setup"]
    return cell


def answer(grade_id, source):
    """An answer cell: the solution between ### BEGIN/END SOLUTION markers."""
    return nbformat.v4.new_code_cell(source.strip("\n"), metadata=_nbgrader(grade_id, solution=True))


def test(grade_id, source, points):
    """A read-only, autograded test cell (visible asserts, then a ### BEGIN HIDDEN TESTS block)."""
    return nbformat.v4.new_code_cell(source.strip("\n"),
                                     metadata=_nbgrader(grade_id, grade=True, locked=True, points=points))


def new_notebook(cells):
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC,
                                                           "language_info": LANGUAGE_INFO})


def read(path):
    return nbformat.read(str(path), as_version=4)


def write(nb, path):
    nbformat.write(nb, str(path))


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_answer(cell):
    return cell.metadata.get("nbgrader", {}).get("solution", False)


def is_test(cell):
    return cell.metadata.get("nbgrader", {}).get("grade", False)


def function_of(test_grade_id, functions):
    """The graded function whose test cell this is: the longest name in ``functions`` such that the
    grade id is ``test_<name>_<check>`` (``test_softmax_backward_values`` is softmax_backward's)."""
    owners = [f for f in functions if test_grade_id.startswith(f"test_{f}_")]
    return max(owners, key=len) if owners else None


def without_markers(source):
    """An answer cell's solution as a student would have typed it."""
    return SOLUTION_MARKERS.sub("", source)


def fill(release_nb, source_nb, replace=None):
    """A submission: the released notebook with every answer cell completed.

    Answer cells get the source notebook's solution, except those whose grade id
    is a key of ``replace`` ({grade_id: code}), which get that code instead.
    """
    replace = dict(replace or {})
    solutions = {grade_id(c): without_markers(c.source) for c in source_nb.cells if is_answer(c)}
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = replace.pop(grade_id(cell), solutions[grade_id(cell)])
    if replace:
        raise KeyError(f"no answer cell with grade id {sorted(replace)}")
    return nb


def notebook_paths(folder):
    return sorted(p for p in pathlib.Path(folder).glob("*.ipynb"))


def function_source(fn, rename_to):
    """The source of ``fn`` (decorators dropped) with its name changed to ``rename_to``:
    how catalogue mistakes and alternative solutions are pasted into an answer cell."""
    source = textwrap.dedent(inspect.getsource(fn))
    source = source[source.index(f"def {fn.__name__}("):]
    return source.replace(f"def {fn.__name__}(", f"def {rename_to}(", 1)


def transitive_calls(direct):
    """{function: every function it calls, directly or through others}, from ``direct``
    ({function: the functions its own source calls})."""
    closure = {}
    for function in direct:
        seen, todo = set(), set(direct[function])
        while todo:
            part = todo.pop()
            seen.add(part)
            todo |= direct.get(part, set()) - seen
        closure[function] = seen
    return closure
