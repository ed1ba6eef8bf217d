"""Helpers shared by the notebooks of this assignment.

You do not need to edit this file. It holds the plumbing that every notebook
uses, so that each notebook can stay about its own idea:

* ``rel_error`` and ``numerical_gradient``: checking your work numerically;
* ``load_names``: the names corpus (``names.txt``);
* ``load_functions``: brings the functions you wrote in an earlier notebook
  into a later one (it runs that notebook's answer cells, never its tests);
* ``draw_unrolled_rnn``: the picture of the network unrolled in time.
"""
import contextlib
import io
import json
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def rel_error(a, b):
    """Largest relative error between two arrays of the same shape.

    Each entry contributes |a - b| / max(|a| + |b|, 1e-12): the small floor keeps
    the ratio finite where both are zero. In float64, a correct gradient gives
    about 1e-7 or less; 1e-2 or more means a bug.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: a has shape {a.shape} but b has shape {b.shape}; "
                         "compare arrays of the same shape")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def numerical_gradient(f, x, df=None, step=1e-5):
    """Centred finite differences of f at x, one entry of x at a time.

    f: function of no arguments that reads x and returns a float or an array.
    x: float64 array, nudged in place and restored.
    df: upstream gradient, the same shape as f's output (omit when f returns a float).
    Returns an array shaped like x: sum((f(x + step) - f(x - step)) * df) / (2 step).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: x must be a float64 array, got "
                        f"{type(x).__name__} {getattr(x, 'dtype', '')}")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + step
        f_plus = np.array(f(), dtype=np.float64)
        x[index] = original - step
        f_minus = np.array(f(), dtype=np.float64)
        x[index] = original
        if df is None:
            if f_plus.size != 1:
                raise ValueError(f"numerical_gradient: f returns shape {f_plus.shape}; pass df, "
                                 "the upstream gradient of that shape")
            grad[index] = (f_plus - f_minus).item() / (2 * step)
        else:
            if np.shape(df) != f_plus.shape:
                raise ValueError(f"numerical_gradient: df has shape {np.shape(df)} but f returns "
                                 f"shape {f_plus.shape}")
            grad[index] = np.sum((f_plus - f_minus) * df) / (2 * step)
    return grad


def load_names(path=None):
    """The corpus: a list of lower-case first names (1990 US Census lists), one per line of names.txt."""
    path = pathlib.Path(path) if path else HERE / "names.txt"
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _answer_and_setup_cells(notebook_path):
    cells = json.loads(notebook_path.read_text())["cells"]
    for cell in cells:
        meta = cell.get("metadata", {})
        is_answer = meta.get("nbgrader", {}).get("solution", False)
        is_setup = "setup" in meta.get("tags", [])
        if cell["cell_type"] == "code" and (is_answer or is_setup):
            yield "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def load_functions(notebook, *names):
    """Your own functions from an earlier notebook, by name.

    Runs the setup cells and answer cells of ``notebook`` (e.g. "01_cell_forward"),
    not its tests or demos, in a fresh namespace, and returns the named
    functions: one function for one name, a tuple for several.
    """
    path = HERE / (notebook if notebook.endswith(".ipynb") else notebook + ".ipynb")
    if not path.exists():
        raise FileNotFoundError(f"load_functions: {path.name} is not in {HERE}; "
                                "keep the assignment's notebooks together in one folder")
    namespace = {"__name__": f"notebook_{path.stem}"}
    added = str(HERE) not in sys.path
    if added:  # setup cells import this module, wherever the caller runs from
        sys.path.insert(0, str(HERE))
    try:
        for source in _answer_and_setup_cells(path):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source, str(path), "exec"), namespace)
            except Exception as exc:  # a broken cell must not hide the functions around it
                print(f"load_functions: a cell of {path.name} raised {type(exc).__name__}: {exc}")
    finally:
        if added:
            sys.path.remove(str(HERE))
    missing = [name for name in names if not callable(namespace.get(name))]
    if missing:
        raise NameError(f"load_functions: {path.name} defines no function {', '.join(missing)}")
    found = tuple(namespace[name] for name in names)
    return found[0] if len(found) == 1 else found


def draw_unrolled_rnn(n_steps=4, ax=None):
    """Draw the recurrence unrolled over n_steps: x_t -> h_t -> logits_t, and h_{t-1} -> h_t."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 * n_steps + 1.5, 3.6))
    box = dict(boxstyle="round,pad=0.35", linewidth=1.2)
    rows = {"x": (0.0, "#dbe9f6", r"$x_{%s}$"), "h": (1.0, "#fde2c8", r"$h_{%s}$"),
            "y": (2.0, "#dff2d8", r"$\mathrm{logits}_{%s}$")}
    arrow = dict(arrowstyle="->", linewidth=1.2, color="#333333")
    ax.text(-1.2, 1.0, r"$h_{-1}$", ha="center", va="center", fontsize=13, bbox=dict(box, facecolor="#eeeeee"))
    for t in range(n_steps):
        for key, (y, colour, label) in rows.items():
            ax.text(1.5 * t, y, label % t, ha="center", va="center", fontsize=13, bbox=dict(box, facecolor=colour))
        ax.annotate("", xy=(1.5 * t, 0.78), xytext=(1.5 * t, 0.22), arrowprops=arrow)
        ax.annotate("", xy=(1.5 * t, 1.72), xytext=(1.5 * t, 1.22), arrowprops=arrow)
        start = -1.2 if t == 0 else 1.5 * (t - 1)
        ax.annotate("", xy=(1.5 * t - 0.33, 1.0), xytext=(start + 0.33, 1.0), arrowprops=arrow)
        ax.text(1.5 * t - 0.75, 1.1, "Whh", ha="center", fontsize=9, color="#555555")
        ax.text(1.5 * t + 0.08, 0.45, "Wxh", fontsize=9, color="#555555")
        ax.text(1.5 * t + 0.08, 1.42, "Why", fontsize=9, color="#555555")
    ax.set_xlim(-1.7, 1.5 * (n_steps - 1) + 0.8)
    ax.set_ylim(-0.5, 2.5)
    ax.axis("off")
    ax.set_title("The same weights at every step: the network unrolled in time")
    return ax
