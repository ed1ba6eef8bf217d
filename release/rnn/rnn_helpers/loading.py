"""The names corpus, and your functions from earlier notebooks (every notebook from 03 on).

``load_functions`` runs the setup and answer cells of an earlier notebook's saved file (never
its tests or demos) and returns the functions you name; ``is_written``, ``parts_written`` and
``functions_ready`` let a check or a figure wait, with a note, for a function you have not
written yet.
"""
import contextlib
import io
import json
import linecache
import pathlib
import sys

from .figures import _grading

# the notebooks' folder (this package sits in it): where names.txt and the earlier notebooks are,
# and where `import rnn_helpers` finds this package
NOTEBOOK_FOLDER = pathlib.Path(__file__).resolve().parent.parent


def load_names(path=None):
    """The corpus: a list of lower-case first names (1990 US Census lists), one per line of names.txt."""
    path = pathlib.Path(path) if path else NOTEBOOK_FOLDER / "names.txt"
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _answer_and_setup_cells(notebook_path):
    """(label, source) of each setup and answer cell; the label is the nbgrader cell id, if any."""
    cells = json.loads(notebook_path.read_text())["cells"]
    for number, cell in enumerate(cells, 1):
        meta = cell.get("metadata", {})
        is_answer = meta.get("nbgrader", {}).get("solution", False)
        is_setup = "setup" in meta.get("tags", [])
        if cell["cell_type"] == "code" and (is_answer or is_setup):
            label = meta.get("nbgrader", {}).get("grade_id") or f"cell {number}"
            yield label, "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def load_functions(notebook, *names):
    """Your own functions from an earlier notebook, by name.

    Runs the setup cells and answer cells of ``notebook`` (e.g. "01_cell_forward"),
    not its tests or demos, in a fresh namespace, and returns the named
    functions: one function for one name, a tuple for several.

    It reads the notebook FILE: a change you have not saved (Ctrl-S) is not seen (JupyterLab
    saves an open notebook every two minutes by itself). When the file has changed since this
    kernel last loaded from it, it says so: your functions from it are the new ones now.
    """
    path = NOTEBOOK_FOLDER / (notebook if notebook.endswith(".ipynb") else notebook + ".ipynb")
    if not path.exists():
        return _not_written(names, f"{path.name} is not in {NOTEBOOK_FOLDER} (keep the assignment's notebooks "
                                   "together in one folder)")
    try:
        cells = list(_answer_and_setup_cells(path))
    except Exception as exc:  # not JSON (a file cut short), not a notebook: as if nothing in it were written
        return _not_written(names, f"{path.name} cannot be read as a notebook ({type(exc).__name__}: {exc})")
    note = changed_since_loaded_note(path, cells)
    if note:
        print(note)
    namespace = {"__name__": f"notebook_{path.stem}"}
    added = str(NOTEBOOK_FOLDER) not in sys.path
    if added:  # setup cells import this package, wherever the caller runs from
        sys.path.insert(0, str(NOTEBOOK_FOLDER))
    try:
        for label, source in cells:
            # a name of its own for each cell, with its source in linecache, so that a traceback
            # through a loaded function quotes your code, not the notebook's JSON
            filename = f"<{path.stem}, {label}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source, filename, "exec"), namespace)
            except Exception as exc:  # a broken cell must not hide the functions around it
                print(f"load_functions: a cell of {path.name} raised {type(exc).__name__}: {exc}")
    finally:
        if added:
            sys.path.remove(str(NOTEBOOK_FOLDER))
    missing = [name for name in names if not callable(namespace.get(name))]
    if missing:
        raise NameError(f"load_functions: {path.name} defines no function {', '.join(missing)}")
    found = tuple(namespace[name] for name in names)
    _LOADED.update(zip(names, found))
    return found[0] if len(found) == 1 else found


_LOADED = {}  # every function load_functions has brought in, by name (loads nested in setup cells too)


def _not_written(names, why):
    """What load_functions returns for a notebook it cannot read: for each name, a function that raises
    NotImplementedError, as the release's stub does, so that the checks treat it as not written yet."""
    print(f"load_functions: {why}; {', '.join(names)} count as not written yet.")
    found = tuple(_stand_in(name, f"{name} could not be loaded: {why}") for name in names)
    _LOADED.update(zip(names, found))
    return found[0] if len(found) == 1 else found


def _stand_in(name, message):
    def stand_in(*args, **kwargs):
        raise NotImplementedError(message)
    stand_in.__name__ = stand_in.__qualname__ = name
    stand_in.__code__ = stand_in.__code__.replace(co_name=name)  # tracebacks and the checks name the function
    return stand_in


def is_written(function):
    """False while ``function`` is still the release's stub (its body raises NotImplementedError)."""
    code = getattr(function, "__code__", None)
    return code is None or "NotImplementedError" not in code.co_names


def parts_written(function, *parts):
    """Whether the visible checks of ``function`` can run: False, with a note, when you have
    written ``function`` but not yet one of the earlier functions (``parts``) it uses; without
    ``parts``, every function that load_functions has brought in from earlier notebooks.

    Those checks would only fail inside the unwritten part, so they wait for it; the hidden
    tests grade ``function`` with reference parts meanwhile. While ``function`` itself is not
    written the checks run, and fail, as they should.
    """
    if not is_written(function):
        return True
    missing = [part.__name__ for part in parts or _LOADED.values() if not is_written(part)]
    if missing:
        print(f"NOTE: {function.__name__} uses your {', '.join(missing)}, not written yet; these visible "
              "checks run once it is (the hidden tests use a reference for it meanwhile).")
    return not missing


def functions_ready(purpose, *functions):
    """True when every function is written; otherwise a note naming the missing ones, and False."""
    missing = [f.__name__ for f in functions if not is_written(f)]
    if missing:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        print(f"NOTE: {purpose}: skipped until you have written your {names}.")
    return not missing


_LOADED_CELLS = {}  # notebook file name -> the setup and answer cells load_functions last ran from it


def changed_since_loaded_note(notebook_path, cells):
    """The note load_functions prints when ``cells`` (the setup and answer cells of
    ``notebook_path`` now on disk, as (label, source) pairs) differ from those this kernel last
    loaded from it; None on a first load, when nothing changed, and while nbgrader grades."""
    name = pathlib.Path(notebook_path).name
    before, _LOADED_CELLS[name] = _LOADED_CELLS.get(name), list(cells)
    if _grading() or before is None or before == _LOADED_CELLS[name]:
        return None
    changed = [label for label, source in cells if (label, source) not in before]
    return (f"load_functions: {name} has changed since this notebook last loaded it "
            f"({', '.join(changed) or 'cells removed'}); using the version saved now.")
