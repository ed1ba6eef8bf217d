"""Helpers shared by the notebooks of this assignment.

You do not need to edit this file. It holds the plumbing that every notebook
uses, so that each notebook can stay about its own idea:

* ``rel_error`` and ``numerical_gradient``: checking your work numerically;
* ``load_names``: the names corpus (``names.txt``);
* ``load_functions``: brings the functions you wrote in an earlier notebook
  into a later one (it runs that notebook's answer cells, never its tests);
* ``draw_unrolled_rnn``: the picture of the network unrolled in time;
* ``decode``, ``print_batch``, ``plot_char_grid``: ids shown as characters (notebooks 03, 07);
* ``impulse_explorer``, ``gradient_norm_explorer``: the interactive figures of notebook 06;
* ``lag_sweep``, ``train_on_lag``, ``plot_lag_accuracy``, ``plot_clipping_rescue``,
  ``lag_explorer``: notebook 06's recall task, trained with your own functions;
* ``lstm_hidden_gradient_norms``, ``lstm_gradient_explorer``, ``lstm_lag_sweep``: notebook 08's
  comparisons of your LSTM with your vanilla RNN.

A helper that needs a function you write takes yours as an argument: nothing here holds the
answer to an exercise.
"""
import contextlib
import io
import json
import linecache
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
    path = HERE / (notebook if notebook.endswith(".ipynb") else notebook + ".ipynb")
    if not path.exists():
        return _not_written(names, f"{path.name} is not in {HERE} (keep the assignment's notebooks together "
                                   "in one folder)")
    try:
        cells = list(_answer_and_setup_cells(path))
    except Exception as exc:  # not JSON (a file cut short), not a notebook: as if nothing in it were written
        return _not_written(names, f"{path.name} cannot be read as a notebook ({type(exc).__name__}: {exc})")
    note = changed_since_loaded_note(path, cells)
    if note:
        print(note)
    namespace = {"__name__": f"notebook_{path.stem}"}
    added = str(HERE) not in sys.path
    if added:  # setup cells import this module, wherever the caller runs from
        sys.path.insert(0, str(HERE))
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
            sys.path.remove(str(HERE))
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


# ---------------------------------------------------------------------------
# 03 label shift: ids shown as characters
# ---------------------------------------------------------------------------
BOUNDARY_MARK = "·"  # how the boundary token "\n" (id 0) is shown on screen


def decode(ids, chars, boundary=BOUNDARY_MARK):
    """The characters of a sequence of ids, as one string.

    The boundary token "\\n" is shown as ``boundary``; ``boundary=""`` drops it, so
    ``decode(ids, chars, "")`` is the bare name.
    """
    return "".join(boundary if chars[i] == "\n" else chars[i] for i in np.asarray(ids, dtype=int).ravel())


def _cell_text(value, chars, is_mask):
    if is_mask:
        return f"{value:g}"
    return BOUNDARY_MARK if chars[int(value)] == "\n" else chars[int(value)]


def print_batch(chars, rows, n_examples=None):
    """Print a batch one example at a time, its arrays aligned column by column.

    rows: {label: array (N, T)}; integer arrays are ids, shown as characters, float
    arrays (masks) as numbers. Example: ``print_batch(chars, {"inputs": inputs,
    "targets": targets, "mask": mask})``. Arrays with fewer rows stop early.
    """
    arrays = {label: np.asarray(a) for label, a in rows.items()}
    n_rows = max(len(a) for a in arrays.values())
    width = max(len(label) for label in arrays) + 2
    for n in range(n_rows if n_examples is None else min(n_examples, n_rows)):
        for k, (label, a) in enumerate(arrays.items()):
            if n >= len(a):
                continue
            is_mask = np.issubdtype(a.dtype, np.floating) or a.dtype == bool
            cells = " ".join(_cell_text(v, chars, is_mask) for v in a[n])
            print(f"{f'row {n}' if k == 0 else '':<7}{label:<{width}}{cells}")
        print()


def plot_char_grid(ids, chars, mask=None, wrong=None, ax=None, title=None, row_labels=None):
    """Draw an (N, T) array of ids as a grid of characters.

    Cells where ``mask`` is 1 are green (real predictions), 0 grey (padding); cells
    where ``wrong`` is True are red. Returns the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    ids = np.atleast_2d(np.asarray(ids, dtype=int))
    n_rows, n_cols = ids.shape
    colour = np.ones(ids.shape, dtype=int) if mask is None else (np.asarray(mask) > 0).astype(int)
    if wrong is not None:
        colour = np.where(np.asarray(wrong, dtype=bool), 2, colour)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * n_cols + 1.5, 0.45 * n_rows + 0.8))
    cmap = ListedColormap(["#e4e4e4", "#cfe8c4", "#f4a6a0"])
    ax.imshow(colour, cmap=cmap, vmin=0, vmax=2, aspect="equal")
    for (n, t), i in np.ndenumerate(ids):
        ax.text(t, n, _cell_text(i, chars, False), ha="center", va="center", fontsize=12, family="monospace")
    ax.set_xticks(range(n_cols))
    ax.set_xlabel("t (time)")
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(row_labels if row_labels is not None else [f"row {n}" for n in range(n_rows)])
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


# ---------------------------------------------------------------------------
# 05 backpropagation through time: the junction figure, BPTT in two chunks
# ---------------------------------------------------------------------------
def draw_bptt_junction(n_steps=3, ax=None):
    """The unrolled network with its backward pass: at every h_t, the gradient from the
    output at step t and the gradient from step t + 1 meet at a sum (the junction)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    if ax is None:
        _, ax = plt.subplots(figsize=(3.0 * n_steps + 1.6, 4.6))
    box = dict(boxstyle="round,pad=0.35", linewidth=1.2)
    grey = dict(arrowstyle="->", linewidth=1.1, color="#9a9a9a")
    red = dict(arrowstyle="->", linewidth=1.8, color="#c0392b")
    dx = 3.0
    ax.text(-1.5, 1.0, r"$h_{-1}$", ha="center", va="center", fontsize=13, bbox=dict(box, facecolor="#eeeeee"))
    for t in range(n_steps):
        X = dx * t
        ax.text(X, 0.0, r"$x_{%d}$" % t, ha="center", va="center", fontsize=13, bbox=dict(box, facecolor="#dbe9f6"))
        ax.text(X, 1.0, r"$h_{%d}$" % t, ha="center", va="center", fontsize=13, bbox=dict(box, facecolor="#fde2c8"))
        ax.text(X, 2.6, r"$\mathrm{logits}_{%d}$" % t, ha="center", va="center", fontsize=12,
                bbox=dict(box, facecolor="#dff2d8"))
        # forward pass (grey)
        ax.annotate("", xy=(X, 0.75), xytext=(X, 0.25), arrowprops=grey)
        ax.annotate("", xy=(X - 0.2, 2.33), xytext=(X - 0.2, 1.25), arrowprops=grey)
        start = -1.5 if t == 0 else X - dx
        ax.annotate("", xy=(X - 0.35, 0.95), xytext=(start + 0.35, 0.95), arrowprops=grey)
        # backward pass (red): the junction, a sum just above h_t
        J = (X + 0.55, 1.75)
        ax.add_patch(Circle(J, 0.17, facecolor="white", edgecolor="#c0392b", linewidth=1.8, zorder=3))
        ax.text(*J, "+", ha="center", va="center", fontsize=14, color="#c0392b", zorder=4)
        ax.annotate("", xy=(J[0] - 0.08, J[1] + 0.16), xytext=(X + 0.15, 2.33), arrowprops=red)
        ax.annotate("", xy=(X + 0.22, 1.25), xytext=(J[0] - 0.1, J[1] - 0.14), arrowprops=red)
        ax.text(X + 0.42, 2.28, "dh[:, %d]" % t, fontsize=9, color="#c0392b")
        # gradient sent back to the previous step, through tanh' and Whh.T
        target = (-1.5 + 0.3, 1.25) if t == 0 else (dx * (t - 1) + 0.55 + 0.17, 1.75)
        ax.annotate("", xy=target, xytext=(X - 0.3, 1.12),
                    arrowprops=dict(red, connectionstyle="arc3,rad=-0.25"))
        ax.text(X - dx / 2 - 0.1, 1.58 if t > 0 else 1.62, "dh_next" if t > 0 else "dh0",
                fontsize=9, color="#c0392b", ha="center")
        ax.annotate("", xy=(X + 0.2, 0.25), xytext=(X + 0.2, 0.75), arrowprops=dict(red, linewidth=1.2))
        ax.text(X + 0.28, 0.42, "dx[:, %d]" % t, fontsize=9, color="#c0392b")
    X = dx * (n_steps - 1)
    ax.annotate("", xy=(X + 0.55 + 0.17, 1.75), xytext=(X + 1.45, 1.75), arrowprops=red)
    ax.text(X + 1.5, 1.75, "0", fontsize=11, color="#c0392b", va="center")
    ax.annotate("dh = dh[:, t] + dh_next\n(the junction)", xy=(dx * (n_steps - 2) + 0.72, 1.78) if n_steps > 1
                else (0.72, 1.78), xytext=(dx * max(n_steps - 2, 0) + 0.6, 3.35), fontsize=10, color="#c0392b",
                ha="center", arrowprops=dict(arrowstyle="-", color="#c0392b", linewidth=0.8, linestyle=":"))
    ax.set_xlim(-2.0, X + 1.9)
    ax.set_ylim(-0.4, 3.8)
    ax.axis("off")
    ax.set_title("Forward (grey) and backward (red): each $h_t$ receives two gradients, and they add")
    return ax


def bptt_last_step_apart(rnn_backward, rnn_step_backward, dh, cache):
    """Backpropagation through time with the last step done separately.

    The last step goes back with ``rnn_step_backward`` alone; then ``rnn_backward`` runs
    on the steps before it, where the gradient that the last step sent back through
    its h_prev joins the gradient reaching the state h[:, -2] (the junction). Returns
    the tuple rnn_backward returns, (dx, dh0, dWxh, dWhh, dbh), with the weight
    gradients of both parts added. A correct rnn_backward gives the same in one call,
    whatever your rnn_step_backward computes. Needs T >= 2.
    """
    x, h0, h, Wxh, Whh = cache
    last = rnn_step_backward(dh[:, -1].copy(), (x[:, -1], h[:, -2], h[:, -1], Wxh, Whh))
    dh_before = dh[:, :-1].copy()
    dh_before[:, -1] = dh_before[:, -1] + last[1]
    before = rnn_backward(dh_before, (x[:, :-1], h0, h[:, :-1], Wxh, Whh))
    return (np.concatenate([before[0], last[0][:, None]], axis=1), before[1],
            before[2] + last[2], before[3] + last[3], before[4] + last[4])


# ---------------------------------------------------------------------------
# 06 vanishing and exploding gradients: interactive figures
# ---------------------------------------------------------------------------
# A figure is drawn with matplotlib's Agg renderer into an ipywidgets.Image as PNG bytes.
# Every redraw updates the same Figure (Line2D.set_data, one canvas draw) and replaces the
# image's bytes: nothing stacks up, and it works in plain JupyterLab without extensions.

def _grading():
    """True while nbgrader executes the notebook (autograde, validate): no widgets then."""
    import os
    return bool(os.environ.get("NBGRADER_EXECUTION"))


class _Explorer:
    """What every interactive figure shares: ``widget`` (the sliders, caption and image) and ``live``
    (its LiveFigure). Shown as the widget, with the picture of its current state as a PNG beside it:
    a page without a running kernel (nbconvert's HTML, formgrader, a feedback page) shows that image."""

    def static_png(self):
        """The figure as it stands, drawn in full with the caption as its title: PNG bytes."""
        import html
        import re
        import textwrap

        fig = self.live.fig
        caption = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<sub>(.*?)</sub>", r"_\1", self.live.caption.value)))
        lines = textwrap.wrap(caption, 110)
        title = fig.suptitle("\n".join(lines), fontsize=8, y=0.995, va="top")
        top = fig.subplotpars.top
        fig.subplots_adjust(top=top - 0.04 - 0.035 * len(lines))
        animated = [artist for artist in fig.findobj() if artist.get_animated()]   # blitted curves
        for artist in animated:
            artist.set_animated(False)
        try:
            return self.live.png()
        finally:
            for artist in animated:
                artist.set_animated(True)
            title.remove()
            fig.subplots_adjust(top=top)

    def _repr_mimebundle_(self, **kwargs):
        import base64

        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.static_png()).decode("ascii")
        return bundle


class _StaticFigure:
    """A PNG shown as it is (an explorer's first picture, while nbgrader runs the notebook)."""

    def __init__(self, png):
        self.png = png

    def _repr_png_(self):
        return self.png


def _show(make_explorer, what):
    """``make_explorer()``, or while nbgrader runs the notebook, the picture of its first state only
    (no widget: nothing would move it); a function of yours that raises leaves a note instead."""
    if not _grading():
        return make_explorer()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return _StaticFigure(make_explorer().static_png())
    except Exception as exc:
        print(f"(the figure of {what} could not be drawn: {type(exc).__name__}: {exc})")
        return None


class LiveFigure:
    """One matplotlib figure shown in an ``ipywidgets.Image`` and redrawn in place."""

    def __init__(self, figsize=(7.0, 3.4), dpi=90):
        import ipywidgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.11, right=0.97, bottom=0.15, top=0.9)
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(width=f"{int(figsize[0] * dpi)}px"))
        # the title lives in HTML above the image: drawing text is most of what a redraw costs
        self.caption = ipywidgets.HTML()

    def png(self):
        buffer = io.BytesIO()
        self.canvas.print_png(buffer, pil_kwargs={"compress_level": 1})  # fast zlib: the PNG is shown, not stored
        return buffer.getvalue()

    def render(self):
        self.image.value = self.png()


def _log_limits(values, floor=1e-300):
    """y-limits for a log axis that show every finite positive value (None if there is none)."""
    values = np.abs(np.asarray(values, dtype=float))
    shown = values[np.isfinite(values) & (values > floor)]
    if shown.size == 0:
        return None
    return shown.min() / 3.0, shown.max() * 3.0


class ImpulseExplorer(_Explorer):
    """A slider for w and a linear/log switch; the plot shows your impulse_response(w, n_steps)."""

    def __init__(self, impulse_response, n_steps=40, w=-0.9):
        import ipywidgets

        self.impulse_response, self.n_steps = impulse_response, n_steps
        self.slider = ipywidgets.FloatSlider(value=w, min=-1.5, max=1.5, step=0.01, description="w",
                                             continuous_update=True, readout_format=".2f",
                                             layout=ipywidgets.Layout(width="420px"))
        self.scale = ipywidgets.ToggleButtons(options=["linear", "log"], value="linear",
                                              description="y scale", style={"button_width": "70px"})
        self.live = LiveFigure()
        ax, t = self.live.ax, np.arange(n_steps)
        (self.stems,) = ax.plot(t, np.zeros(n_steps), "o-", color="tab:blue", markersize=3.5, linewidth=1,
                                label=r"$h_t$")
        (self.upper,) = ax.plot(t, np.ones(n_steps), "--", color="tab:orange", linewidth=1,
                                label=r"envelope $\pm|w|^t$")
        (self.lower,) = ax.plot(t, -np.ones(n_steps), "--", color="tab:orange", linewidth=1)
        ax.axhline(0.0, color="0.6", linewidth=0.6)
        ax.set_xlabel("step t")
        self._log_shown = None
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.scale.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([ipywidgets.HBox([self.slider, self.scale]), self.live.caption,
                                       self.live.image])
        self.redraw()

    def redraw(self):
        """Update the lines of the existing figure for the current w and scale, then re-render it."""
        w, log = self.slider.value, self.scale.value == "log"
        ax, t = self.live.ax, np.arange(self.n_steps)
        try:
            with np.errstate(all="ignore"):
                h = np.asarray(self.impulse_response(w, self.n_steps), dtype=float)
                envelope = np.abs(w) ** t
        except NotImplementedError:
            self.live.caption.value = "<b>implement impulse_response above, then move the slider</b>"
            self.live.render()
            return
        ax.set_yscale("log" if log else "linear")
        if log:  # a log axis shows magnitudes only
            self.stems.set_data(t, np.abs(h))
            self.stems.set_label(r"$|h_t|$")
            self.lower.set_visible(False)
            limits = _log_limits(np.concatenate([h, envelope])) or (1e-3, 10)
        else:
            self.stems.set_data(t, h)
            self.stems.set_label(r"$h_t$")
            self.lower.set_visible(True)
            top = max(1.0, float(np.nanmax(np.abs(h[np.isfinite(h)]), initial=1.0)))
            limits = (-1.1 * top, 1.1 * top)
        self.upper.set_data(t, envelope)
        self.lower.set_data(t, -envelope)
        ax.set_ylim(*limits)
        if log != self._log_shown:  # the legend names h_t or |h_t|: rebuild it only when that changes
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
            self._log_shown = log
        regime = "decays" if abs(w) < 1 else ("stays at size 1" if abs(w) == 1 else "explodes")
        self.live.caption.value = (f"impulse response of h<sub>t</sub> = w h<sub>t-1</sub> + x<sub>t</sub> "
                                   f"for w = {w:+.2f}: it {regime}")
        self.live.render()


class GradientNormExplorer(_Explorer):
    """A slider for the spectral radius of a random Whh (scaled with your spectral_radius); the plot
    shows your hidden_gradient_norms(params, x, h0) on a log scale, with the bound of Pascanu et al. (2013)."""

    def __init__(self, hidden_gradient_norms, spectral_radius, radius=1.0, N=4, T=60, D=8, H=32, seed=0):
        import ipywidgets

        rng = np.random.default_rng(seed)
        self.hidden_gradient_norms = hidden_gradient_norms
        base = rng.standard_normal((H, H))
        self.base = base / spectral_radius(base)   # spectral radius 1, by your spectral_radius
        self.params = {"Wxh": rng.standard_normal((D, H)) * 0.5, "Whh": self.base.copy(), "bh": np.zeros(H)}
        self.x, self.h0 = rng.standard_normal((N, T, D)), np.zeros((N, H))
        self.slider = ipywidgets.FloatSlider(value=radius, min=0.3, max=3.0, step=0.05,
                                             description="radius", readout_format=".2f",
                                             layout=ipywidgets.Layout(width="420px"))
        self.live = LiveFigure()
        ax, t = self.live.ax, np.arange(T)
        (self.curve,) = ax.plot(t, np.ones(T), color="tab:blue", linewidth=1.8, label=r"$\|\partial L/\partial h_t\|$")
        (self.bound,) = ax.plot(t, np.ones(T), "--", color="tab:red", linewidth=1,
                                label=r"bound $\sigma_{max}^{T-1-t}\,\|\partial L/\partial h_{T-1}\|$")
        ax.set_yscale("log")
        ax.set_xlabel("step t (the loss is read at the last step)")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([self.slider, self.live.caption, self.live.image])
        self.redraw()

    def redraw(self):
        radius = self.slider.value
        ax, T = self.live.ax, self.x.shape[1]
        self.params["Whh"] = self.base * radius
        try:
            with np.errstate(all="ignore"):
                norms = np.asarray(self.hidden_gradient_norms(self.params, self.x, self.h0), dtype=float)
        except NotImplementedError:
            self.live.caption.value = "<b>implement hidden_gradient_norms above, then move the slider</b>"
            self.live.render()
            return
        sigma = float(np.linalg.norm(self.params["Whh"], 2))
        with np.errstate(all="ignore"):
            bound = norms[-1] * sigma ** (T - 1 - np.arange(T))
        self.curve.set_ydata(norms)
        self.bound.set_ydata(bound)
        limits = _log_limits(norms)
        if limits:
            ax.set_ylim(max(limits[0], 1e-30), limits[1] * 10)
        self.live.caption.value = (f"tanh RNN, H = {self.base.shape[0]}: spectral radius {radius:.2f}, "
                                   f"largest singular value {sigma:.2f}; ||dL/dh<sub>0</sub>|| / "
                                   f"||dL/dh<sub>T-1</sub>|| = {norms[0] / norms[-1]:.1e}")
        self.live.render()


def impulse_explorer(impulse_response, **kwargs):
    """The w slider for your impulse_response (its first picture only, while nbgrader grades)."""
    return _show(lambda: ImpulseExplorer(impulse_response, **kwargs), "impulse_response")


def gradient_norm_explorer(hidden_gradient_norms, spectral_radius, **kwargs):
    """The spectral-radius slider for your hidden_gradient_norms (its first picture only, while nbgrader grades)."""
    if not functions_ready("the spectral-radius slider", spectral_radius):
        return None
    return _show(lambda: GradientNormExplorer(hidden_gradient_norms, spectral_radius, **kwargs), "hidden_gradient_norms")


# ---------------------------------------------------------------------------
# 02 batched softmax: where exp is finite in float64
# ---------------------------------------------------------------------------
def plot_exp_range(ax=None):
    """exp(x) in float64 on a log scale: finite only for about -745 < x < 709.8."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    overflow, underflow = np.log(np.finfo(np.float64).max), np.log(np.nextafter(0.0, 1.0))
    x = np.linspace(-1000.0, 1000.0, 2001)
    finite = (x > underflow) & (x < overflow)
    ax.plot(x[finite], x[finite] / np.log(10.0), color="#1f77b4", linewidth=2,
            label="log10 exp(x): finite in float64")
    ax.axvspan(overflow, 1000, color="#d62728", alpha=0.15)
    ax.axvspan(-1000, underflow, color="#7f7f7f", alpha=0.2)
    ax.text(850, 0, "exp(x) = inf\n(overflow)", ha="center", va="center", color="#a01010")
    ax.text(-870, 0, "exp(x) = 0\n(underflow)", ha="center", va="center", color="#404040")
    ax.axvline(0, color="black", linewidth=0.8, linestyle=":")
    ax.annotate("after the max shift every exponent is <= 0\nand the largest is exactly 0: exp(0) = 1",
                xy=(0, 0), xytext=(-620, 200), arrowprops=dict(arrowstyle="->"), fontsize=9)
    ax.set_xlim(-1000, 1000)
    ax.set_xlabel("x")
    ax.set_ylabel("log10 exp(x)")
    ax.set_title(f"float64 exp(x) is finite and nonzero only for {underflow:.0f} < x < {overflow:.1f}")
    ax.legend(loc="lower right")
    return ax


# ---------------------------------------------------------------------------
# 04 cross-entropy: the learning rate absorbs a wrongly scaled gradient
# ---------------------------------------------------------------------------
def plot_learning_rate_sweep(learning_rates, final_losses, start_loss, ax=None):
    """Final loss against the learning rate (log scale), one curve per way of scaling the gradient.

    final_losses: {label: sequence of losses, one per learning rate}; start_loss: the loss before training.
    Diverged runs (loss above 2 * start_loss, inf or nan) are drawn at the top edge.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    top = 2.0 * start_loss
    for (label, losses), colour in zip(final_losses.items(), ["#2ca02c", "#d62728", "#1f77b4", "#9467bd"]):
        losses = np.asarray(losses, dtype=np.float64)
        shown = np.where(np.isfinite(losses) & (losses < top), losses, top)
        ax.plot(learning_rates, shown, "o-", color=colour, markersize=3.5, label=label)
        best = int(np.nanargmin(np.where(np.isfinite(losses), losses, np.inf)))
        ax.plot(learning_rates[best], shown[best], "*", color=colour, markersize=14)
    ax.axhline(start_loss, color="grey", linestyle=":", linewidth=1)
    ax.text(learning_rates[0], start_loss, " loss before training", va="bottom", fontsize=8, color="grey")
    ax.text(learning_rates[-1], top, "diverged ", ha="right", va="bottom", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_ylim(0, top * 1.12)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss after training")
    ax.set_title("The same model, the same data: only the scale of the gradient differs (star: best rate)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(final_losses), fontsize=8)
    return ax


# ---------------------------------------------------------------------------
# 07 char rnn: a progress line and a live loss curve for a training loop
# ---------------------------------------------------------------------------
class _Text:
    """Plain text for IPython's display (a str would be shown with its quotes)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


class TrainingMonitor:
    """A progress line and one loss figure, both redrawn in place while a loop trains.

    ``monitor = TrainingMonitor(n_steps, baseline=np.log(V), unigram=...)``, then
    ``monitor.update(step, loss)`` every step (and ``validation=`` now and then), and
    ``monitor.finish()`` at the end. The figure is redrawn at most every ``every``
    seconds, so drawing costs little; ``live=False`` (used while nbgrader grades) draws nothing.
    The smoothed curve is an exponential moving average of the batch losses, corrected for its
    start at zero as Adam corrects its moments: it weighs the last 1 / (1 - smoothing) batches
    (20 by default) and so trails the batch losses by about that many steps.
    """

    def __init__(self, n_steps, baseline=None, unigram=None, every=1.0, live=True, smoothing=0.95,
                 ylabel="loss per character (nats)"):
        import time

        self.n_steps, self.baseline, self.unigram, self.every, self.live = n_steps, baseline, unigram, every, live
        self._average = 0.0
        self.smoothing, self.ylabel = smoothing, ylabel
        self.steps, self.losses, self.smooth = [], [], []
        self.val_steps, self.val_losses = [], []
        self.start = self.last_draw = time.perf_counter()
        self.fig = self.progress = self.plot = None
        if live:
            from IPython.display import display

            self.progress = display(_Text(self._line()), display_id=True)
            self.fig = self._figure()
            self.plot = display(self.fig, display_id=True)

    def _figure(self):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 3.8))
        plt.close(fig)  # shown through the display handle only, not again at the end of the cell
        self.ax = ax
        (self.raw_line,) = ax.plot([], [], color="tab:blue", alpha=0.25, linewidth=0.8, label="batch")
        (self.smooth_line,) = ax.plot([], [], color="tab:blue", linewidth=1.8,
                                      label=f"batch, averaged over about {1 / (1 - self.smoothing):.0f} steps")
        (self.val_line,) = ax.plot([], [], "o-", color="tab:orange", markersize=4, label="validation names")
        if self.baseline is not None:
            ax.axhline(self.baseline, color="tab:red", linestyle="--", linewidth=1.2,
                       label=f"uniform guess, ln V = {self.baseline:.2f}")
        if self.unigram is not None:
            ax.axhline(self.unigram, color="tab:purple", linestyle=":", linewidth=1.2,
                       label=f"unigram (letter frequencies), {self.unigram:.2f}")
        ax.set_xlim(0, self.n_steps)
        ax.set_xlabel("training step")
        ax.set_ylabel(self.ylabel)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        return fig

    def elapsed(self):
        import time

        return time.perf_counter() - self.start

    def _line(self):
        done = len(self.steps) and self.steps[-1] + 1
        filled = int(30 * done / max(self.n_steps, 1))
        loss = f"   loss {self.smooth[-1]:.3f}" if self.smooth else ""
        val = f"   validation {self.val_losses[-1]:.3f}" if self.val_losses else ""
        return f"[{'#' * filled}{'.' * (30 - filled)}] step {done}/{self.n_steps}   {self.elapsed():5.1f} s{loss}{val}"

    def update(self, step, loss, validation=None):
        """Record the loss of ``step`` (and a validation loss, if given); redraw when it is time."""
        import time

        loss = float(loss)
        self.steps.append(step)
        self.losses.append(loss)
        if np.isfinite(loss):
            self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        self.smooth.append(self._average / (1 - self.smoothing ** len(self.losses)))
        if validation is not None:
            self.val_steps.append(step)
            self.val_losses.append(float(validation))
        if self.live and time.perf_counter() - self.last_draw >= self.every:
            self.draw()

    def draw(self):
        import time

        if not self.live:
            return
        self.progress.update(_Text(self._line()))
        self.raw_line.set_data(self.steps, self.losses)
        self.smooth_line.set_data(self.steps, self.smooth)
        self.val_line.set_data(self.val_steps, self.val_losses)
        finite = [v for v in self.losses + self.val_losses if np.isfinite(v)]
        if finite:
            top = max(finite + [b for b in (self.baseline, self.unigram) if b])
            self.ax.set_ylim(min(finite) * 0.9, min(top, 3 * np.median(finite)) * 1.08)
        self.plot.update(self.fig)
        self.last_draw = time.perf_counter()

    def finish(self):
        """The last redraw; returns the figure (None when not live)."""
        self.draw()
        if not self.live:
            print(self._line())
        return self.fig


def softmax_works_on_a_vector(softmax):
    """True when your softmax from notebook 02 handles a single vector of logits (V,).

    The visible tests of ``sample`` run your sample, which calls your softmax; when the
    softmax is broken they are skipped with a note: a mistake in 02 is 02's to fix (the
    hidden tests of sample use a correct softmax). A softmax not written yet counts as
    working, so that those tests still fail until it is.
    """
    try:
        works = bool(np.allclose(softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75]))
    except NotImplementedError:
        return True
    except Exception:
        works = False
    if not works:
        print("NOTE: your softmax from 02_batched_softmax is wrong on a single vector, so the visible "
              "checks of sample are skipped; fix softmax in notebook 02 first.")
    return works


# ---------------------------------------------------------------------------
# load_functions: a note when the saved file changed since this kernel last read it
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# 08 LSTM: the cell diagram, readiness of your parts for the visible checks, the
# gradient-norm comparison with the vanilla RNN
# ---------------------------------------------------------------------------
# Gates are stacked along the last axis in the order i, f, o, g (input, forget, output, candidate).
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow warnings


def draw_lstm_cell(ax=None):
    """The LSTM cell in the course's row form: the cell-state line along the top (one multiply
    by f, one add), the four gates computed from one stacked product, the output path below."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(10.5, 5.2))
    arrow = dict(arrowstyle="->", linewidth=1.3, color="#333333")
    state = dict(arrowstyle="->", linewidth=2.6, color="#c0392b")

    def op(xy, text):
        ax.add_patch(Circle(xy, 0.22, facecolor="white", edgecolor="#333333", linewidth=1.3, zorder=3))
        ax.text(*xy, text, ha="center", va="center", fontsize=13, zorder=4)

    def gate(x, label, colour, name):
        ax.add_patch(FancyBboxPatch((x - 0.42, 0.55), 0.84, 0.6, boxstyle="round,pad=0.05", facecolor=colour,
                                    edgecolor="#555555", zorder=2))
        ax.text(x, 0.85, label, ha="center", va="center", fontsize=12, zorder=3)
        ax.text(x, 0.3, name, ha="center", va="center", fontsize=9, color="#444444", zorder=3,
                bbox=dict(boxstyle="square,pad=0.1", facecolor="#fbfbfb", edgecolor="none"))

    ax.add_patch(FancyBboxPatch((0.3, -0.7), 7.4, 4.6, boxstyle="round,pad=0.1", facecolor="#fbfbfb",
                                edgecolor="#999999", linestyle="--"))
    # the cell state: a straight line with one multiply and one add
    ax.text(-0.6, 3.3, r"$c_{t-1}$", ha="center", va="center", fontsize=14)
    ax.text(8.7, 3.3, r"$c_t$", ha="center", va="center", fontsize=14)
    ax.annotate("", xy=(2.28, 3.3), xytext=(-0.2, 3.3), arrowprops=state)
    op((2.5, 3.3), r"$\times$")
    ax.annotate("", xy=(4.48, 3.3), xytext=(2.72, 3.3), arrowprops=state)
    op((4.7, 3.3), "+")
    ax.annotate("", xy=(8.4, 3.3), xytext=(4.92, 3.3), arrowprops=state)
    ax.text(3.6, 3.55, "the cell state: no weight matrix, no squashing", ha="center", fontsize=9, color="#c0392b")
    # the gates, from one stacked product a = x_t Wx + h_{t-1} Wh + b, in the order i, f, o, g
    ax.text(-0.6, 0.85, r"$h_{t-1}$", ha="center", va="center", fontsize=14)
    ax.text(1.2, -1.15, r"$x_t$", ha="center", va="center", fontsize=14)
    ax.annotate("", xy=(0.7, 0.85), xytext=(-0.2, 0.85), arrowprops=arrow)
    ax.annotate("", xy=(1.2, -0.2), xytext=(1.2, -0.9), arrowprops=arrow)
    ax.text(1.35, -0.4, r"$a = x_t W_x + h_{t-1} W_h + b$, split as $i, f, o, g$", fontsize=9, ha="left",
            va="center", color="#444444")
    ax.plot([0.7, 0.7, 6.2], [0.85, -0.1, -0.1], color="#333333", linewidth=1.3)
    xs = {"f": 2.5, "i": 3.8, "g": 4.7, "o": 6.2}
    gate(xs["f"], r"$\sigma$", "#f6d7d2", "forget f")
    gate(xs["i"], r"$\sigma$", "#dbe9f6", "input i")
    gate(xs["g"], r"$\tanh$", "#dff2d8", "candidate g")
    gate(xs["o"], r"$\sigma$", "#fde2c8", "output o")
    for x in xs.values():
        ax.annotate("", xy=(x, 0.5), xytext=(x, -0.1), arrowprops=arrow)
    ax.annotate("", xy=(2.5, 3.08), xytext=(2.5, 1.2), arrowprops=arrow)          # f * c_{t-1}
    op((4.25, 2.1), r"$\times$")                                                  # i * g
    ax.annotate("", xy=(4.1, 1.93), xytext=(3.8, 1.2), arrowprops=arrow)
    ax.annotate("", xy=(4.4, 1.93), xytext=(4.7, 1.2), arrowprops=arrow)
    ax.annotate("", xy=(4.62, 3.09), xytext=(4.32, 2.31), arrowprops=arrow)
    # the output path: h_t = o * tanh(c_t)
    ax.plot([6.9, 6.9], [3.3, 2.95], color="#333333", linewidth=1.3)
    ax.text(6.9, 2.75, r"$\tanh$", ha="center", va="center", fontsize=11,
            bbox=dict(boxstyle="round,pad=0.2", facecolor="#eeeeee", edgecolor="#777777"))
    op((6.9, 1.9), r"$\times$")
    ax.annotate("", xy=(6.9, 2.12), xytext=(6.9, 2.55), arrowprops=arrow)
    ax.annotate("", xy=(6.72, 1.77), xytext=(6.2, 1.2), arrowprops=arrow)
    ax.annotate("", xy=(8.4, 1.9), xytext=(7.12, 1.9), arrowprops=arrow)
    ax.text(8.7, 1.9, r"$h_t$", ha="center", va="center", fontsize=14)
    ax.set_xlim(-1.1, 9.2)
    ax.set_ylim(-1.5, 4.1)
    ax.axis("off")
    ax.set_title("One LSTM step: the gates i, f, o, g come from one stacked product; the cell state "
                 "runs along the top", fontsize=10)
    return ax


def _lstm_step_forward_agrees(step_forward):
    """Your lstm_step_forward against two cases worked out from the equations, number by number."""
    s, t = _sigmoid, np.tanh
    # zero weights: every gate is its bias, the same in both units (i, f, o, g = 0.5, 0.75, 0.25, 0.6)
    b = np.repeat([0.0, np.log(3.0), -np.log(3.0), np.arctanh(0.6)], 2)
    c_prev = np.array([[1.0, -1.0]])
    h, c, cache = step_forward(np.zeros((1, 3)), np.zeros((1, 2)), c_prev, np.zeros((3, 8)), np.zeros((2, 8)), b)
    want_c = 0.75 * c_prev + 0.5 * 0.6
    ok = np.allclose(c, want_c) and np.allclose(h, 0.25 * t(want_c))
    # one unit, weights in use: a = x Wx + h_prev Wh + b = (0.2, 0.35, 0.95, 0.55)
    h, c, cache = step_forward(np.array([[1.0]]), np.array([[0.5]]), np.array([[0.2]]),
                               np.array([[0.2, 0.4, 0.6, 0.8]]), np.array([[-0.2, 0.1, 0.3, -0.5]]),
                               np.array([0.1, -0.1, 0.2, 0.0]))
    want_c = s(0.35) * 0.2 + s(0.2) * t(0.55)
    ok = ok and np.allclose(c, want_c) and np.allclose(h, s(0.95) * t(want_c))
    return ok and len(cache) == 10 and np.allclose(cache[9], c) and np.allclose(
        [cache[5], cache[6], cache[7], cache[8]], [[[s(0.2)]], [[s(0.35)]], [[s(0.95)]], [[t(0.55)]]])


def _lstm_forward_agrees(forward, step_forward):
    """Your lstm_forward against your lstm_step_forward: at every step t, your step applied to the
    states your forward pass stored at t - 1 (h0 and a zero cell state at t = 0) gives the states it
    stored at t."""
    rng = np.random.default_rng(81)
    x, h0 = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 2))
    Wx, Wh, b = rng.standard_normal((3, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8)
    h, cache = forward(x, h0, Wx, Wh, b)
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)                    # (N, T, H)
    c_before = np.concatenate([np.zeros((2, 1, 2)), cache[3][:, :-1]], axis=1)
    stepped = [step_forward(x[:, t], h_before[:, t], c_before[:, t], Wx, Wh, b)[:2] for t in range(3)]
    return all(np.allclose(h[:, t], h_t) and np.allclose(cache[3][:, t], c_t) for t, (h_t, c_t) in enumerate(stepped))


def _lstm_step_backward_agrees(step_backward, step_forward):
    """Your lstm_step_backward against numerical gradients of your lstm_step_forward."""
    rng = np.random.default_rng(82)
    arrays = [rng.standard_normal(shape) for shape in [(2, 3), (2, 2), (2, 2), (3, 8), (2, 8), (8,)]]
    dh, dc = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    both = lambda: np.stack(step_forward(*arrays)[:2])
    grads = step_backward(dh, dc, step_forward(*arrays)[2])
    order = [0, 1, 2, 3, 4, 5]  # dx_t, dh_prev, dc_prev, dWx, dWh, db against x_t, h_prev, c_prev, Wx, Wh, b
    return all(rel_error(grads[k], numerical_gradient(both, arrays[k], np.stack([dh, dc]))) < 1e-6 for k in order)


def lstm_parts_ready(function, *parts):
    """Whether the visible checks of ``function`` can rely on your earlier LSTM functions
    (``parts``, among lstm_step_forward, lstm_forward, lstm_step_backward).

    The numerical gradient checks run your forward pass; if a part is not written yet or fails
    its own checks above, these checks would blame ``function`` for it, so they wait (with a
    note) and the hidden tests grade ``function`` on reference parts meanwhile. While
    ``function`` itself is not written the checks run, and fail, as they should.
    """
    if not is_written(function):
        return True
    mine = {part.__name__: part for part in parts}
    checks = {
        "lstm_step_forward": lambda: _lstm_step_forward_agrees(mine["lstm_step_forward"]),
        "lstm_forward": lambda: _lstm_forward_agrees(mine["lstm_forward"], mine["lstm_step_forward"]),
        "lstm_step_backward": lambda: _lstm_step_backward_agrees(mine["lstm_step_backward"], mine["lstm_step_forward"]),
    }
    for name, part in mine.items():
        if not is_written(part):
            print(f"NOTE: {function.__name__} is checked with your {name}, not written yet; these visible "
                  "checks run once it is (the hidden tests use a reference for it meanwhile).")
            return False
        try:
            with np.errstate(all="ignore"):
                ok = checks[name]()
        except Exception:
            ok = False
        if not ok:
            print(f"NOTE: {function.__name__} is checked with your {name}, which does not pass its own "
                  f"checks above; fix it first and these visible checks will run (the hidden tests grade "
                  f"{function.__name__} on a reference {name} meanwhile).")
            return False
    return True


# what each gate's block of db tells, when it is the only block that disagrees with the numerical gradient
_ONE_GATE_OFF = {
    "i": ("the input gate i", "in the cell update c_t = f * c_{t-1} + i * g, i multiplies g, so di = dc * g"),
    "f": ("the forget gate f", "in the cell update c_t = f * c_{t-1} + i * g, f multiplies the old cell state, "
                               "so df = dc * c_prev"),
    "o": ("the output gate o", "o multiplies tanh(c_next) in h_next = o * tanh(c_next), so do = dh_next * tanh(c_next)"),
    "g": ("the candidate g", "g = tanh(a_g) is the one block through a tanh, so da_g = dg * (1 - g**2), not the "
                             "sigmoid's g * (1 - g)"),
}


def lstm_step_backward_diagnosis(step_backward, step_forward):
    """The mistake in your lstm_step_backward, read from numerical gradients of your lstm_step_forward:
    a sentence for the message of a failed check ("" when none of the patterns below fits).

    One step (N = 2, D = 3, H = 2) is sent back three times: with the gradient arriving at c_next only,
    at h_next only, then at both. Each time your dc_prev, and your db block by block (the pre-activation
    gradients of the gates i, f, o, g, summed over the batch), are compared with their numerical values.
    """
    try:
        return _lstm_step_backward_diagnosis(step_backward, step_forward)
    except Exception:   # a message is being written: an error of yours here must not replace it
        return ""


def _lstm_step_backward_diagnosis(step_backward, step_forward):
    rng = np.random.default_rng(83)
    arrays = [rng.standard_normal(shape) for shape in [(2, 3), (2, 2), (2, 2), (3, 8), (2, 8), (8,)]]
    c_prev, b = arrays[2], arrays[5]
    cache = step_forward(*arrays)[2]
    c_next = cache[9]
    both = lambda: np.stack(step_forward(*arrays)[:2])
    with np.errstate(all="ignore"):
        def sent_back(dh_next, dc_next):   # (your dc_prev, numerical), (your db, numerical)
            grads = step_backward(dh_next.copy(), dc_next.copy(), cache)
            upstream = np.stack([dh_next, dc_next])
            return ((np.asarray(grads[2], dtype=float), numerical_gradient(both, c_prev, upstream)),
                    (np.asarray(grads[5], dtype=float), numerical_gradient(both, b, upstream)))
        zeros, dh_next, dc_next = np.zeros((2, 2)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))

        (mine, numeric), _ = sent_back(zeros, dc_next)
        if mine.shape == numeric.shape and rel_error(mine, numeric) > 1e-6 and np.allclose(mine, dc_next):
            return ("With a gradient at c_next only, your dc_prev is dc_next itself: the forget gate is missing. The "
                    "cell update is c_t = f * c_{t-1} + i * g, so the gradient goes back along the cell state as "
                    "dc_prev = dc * f.")
        (mine, numeric), _ = sent_back(dh_next, zeros)
        if mine.shape == numeric.shape and rel_error(mine, numeric) > 1e-6:
            if np.allclose(mine, 0):
                return ("With a gradient at h_next only, your dc_prev is zero: dc is dc_next alone. But "
                        "h_next = o * tanh(c_next) reads c_next, so dh_next reaches the cell state too: "
                        "dc = dc_next + dh_next * o * (1 - tanh(c_next)**2).")
            tanh_slope = 1 - np.tanh(c_next) ** 2
            if np.allclose(mine, numeric * (1 - np.tanh(c_prev) ** 2) / tanh_slope):
                return ("The tanh derivative on the path h_next = o * tanh(c_next) is taken at c_prev: it "
                        "belongs to the cell state inside that tanh, c_next.")
            if np.allclose(mine, numeric * (1 - c_next**2) / tanh_slope):
                return ("The tanh derivative on the path h_next = o * tanh(c_next) is written 1 - c_next**2: "
                        "1 - y**2 holds for y = tanh(c_next), the tanh's output, so it is 1 - tanh(c_next)**2.")
        _, (mine, numeric) = sent_back(dh_next, dc_next)
        if mine.shape != numeric.shape:
            return ""
        blocks = lambda a: dict(zip("ifog", np.split(a, 4)))
        mine, numeric = blocks(mine), blocks(numeric)
        off = [gate for gate in "ifog" if rel_error(mine[gate], numeric[gate]) > 1e-6]
        if off == ["o", "g"] and np.allclose(mine["o"], numeric["g"]) and np.allclose(mine["g"], numeric["o"]):
            return ("The blocks of the output gate and the candidate are swapped: stack da in the order of the "
                    "forward pass, i, f, o, g, so that each block of Wx, Wh and b gets its own gate's gradient.")
        if len(off) == 1:
            gate, why = _ONE_GATE_OFF[off[0]]
            return f"Of the four gates, only {gate} has a wrong gradient (its block of db): {why}."
        if off == ["i", "f", "o"]:
            return ("The gradients of the three sigmoid gates i, f, o are off (their blocks of db), the candidate's is "
                    "right: a sigmoid's derivative is s * (1 - s) written with the gate's output s, e.g. i * (1 - i).")
        if off:
            return f"The gradients of the gates {', '.join(off)} are off (their blocks of db)."
    return ""


def lstm_backward_diagnosis(backward, forward):
    """The mistake in your lstm_backward, read from numerical gradients of your lstm_forward: a sentence
    for the message of a failed check ("" when all of these pass).

    Sequences of one step, then of two steps with the links between the steps cut and restored one at a
    time: Wh = 0 cuts the path from h_0 into step 1, a forget gate shut (bias -60) the path along the cell
    state. N = 2, D = 2, H = 2; each time every gradient is compared with its numerical value.
    """
    try:
        return _lstm_backward_diagnosis(backward, forward)
    except Exception:   # a message is being written: an error of yours here must not replace it
        return ""


def _lstm_backward_diagnosis(backward, forward):
    rng = np.random.default_rng(84)
    x, h0, dh = rng.standard_normal((2, 2, 2)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2, 2))
    Wx, Wh, b = rng.standard_normal((2, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8)
    shut = b.copy()
    shut[2:4] = -60.0   # the forget gate's block: f = 9e-27, below rounding next to the rest of c
    probes = [
        (1, Wh, b, "On a single step it is already wrong. Is the step's cache rebuilt right? At t = 0 the states "
                   "that entered the step are h0 and the zero cell state (c[:, t - 1] at t = 0 is c[:, -1], the "
                   "last cell state)."),
        (2, 0 * Wh, shut, "On two steps with no gradient passing between them (Wh = 0 and the forget gate shut) "
                          "it is wrong: the weights act at both steps, so their gradients add up over the steps "
                          "(+=, not =)."),
        (2, 0 * Wh, b, "On two steps linked only through the cell state (Wh = 0) it is wrong: the dc_prev that "
                       "step t + 1 returns is the dc_next of step t (the junction of c)."),
        (2, Wh, b, "It is right when only the cell state links the steps, wrong once h_0 feeds step 1 as well: "
                   "the dh_prev that step t + 1 returns joins dh[:, t] (the junction of h)."),
    ]
    with np.errstate(all="ignore"):
        for T, Wh_probe, b_probe, message in probes:
            arrays = [x[:, :T].copy(), h0.copy(), Wx.copy(), Wh_probe.copy(), b_probe.copy()]
            upstream = dh[:, :T].copy()
            grads = backward(upstream.copy(), forward(*arrays)[1])
            states = lambda: forward(*arrays)[0]
            for grad, array in zip(grads, arrays):
                grad = np.asarray(grad, dtype=float)
                if grad.shape != array.shape or rel_error(grad, numerical_gradient(states, array, upstream)) > 1e-6:
                    return message
    return ""


def lstm_hidden_gradient_norms(lstm_forward, lstm_backward, Wx, Wh, b, x, h0):
    """||dL/dh_t|| for t = 0..T-1 through an LSTM, with L = the sum of the entries of the last
    hidden state (as 06's hidden_gradient_norms does for the tanh RNN), from your lstm_forward and
    lstm_backward as they are.

    lstm_backward returns the gradient of every input x_t, not of every state h_t. So the LSTM
    reads H more inputs, always zero, whose weights are a copy of Wh: forward they change nothing,
    and the gradient that reaches them at step t + 1 is da_{t+1} Wh^T, which is dL/dh_t (h_t enters
    the loss only through step t + 1). Wx (D, 4H), Wh (H, 4H), b (4H,), x (N, T, D), h0 (N, H).
    Returns an array (T,).
    """
    N, T, D = x.shape
    H = h0.shape[1]
    probed = np.concatenate([x, np.zeros((N, T, H))], axis=2)             # (N, T, D + H)
    _, cache = lstm_forward(probed, h0, np.concatenate([Wx, Wh]), Wh, b)
    dh = np.zeros((N, T, H))
    dh[:, -1] = 1.0                                                       # the loss reads h_{T-1} only
    dprobe = lstm_backward(dh, cache)[0][:, :, D:]                        # (N, T, H): dL/dh_{t-1} at t
    return np.append(np.linalg.norm(dprobe[:, 1:], axis=(0, 2)), np.linalg.norm(dh[:, -1]))


class LstmGradientExplorer(_Explorer):
    """A slider for the forget-gate bias of an LSTM; the plot shows ||dL/dh_t|| through your LSTM
    next to a vanilla tanh RNN (your hidden_gradient_norms from 06) on the same inputs.

    The weights are those of gradient_flow_setup(spectral_radius): the same as 06's explorer and 08's figure."""

    def __init__(self, hidden_gradient_norms, spectral_radius, lstm_forward, lstm_backward, forget_bias=1.0):
        import ipywidgets

        self.lstm_forward, self.lstm_backward = lstm_forward, lstm_backward
        self.vanilla, lstm, self.x, self.h0 = gradient_flow_setup(spectral_radius)
        self.Wx, self.Wh = lstm["Wx"], lstm["Wh"]
        self.H = H = self.h0.shape[1]
        T = self.x.shape[1]
        self.slider = ipywidgets.FloatSlider(value=forget_bias, min=0.0, max=3.0, step=0.25,
                                             description="forget bias", readout_format=".2f",
                                             style={"description_width": "80px"},
                                             layout=ipywidgets.Layout(width="420px"))
        self.live = LiveFigure()
        ax, t = self.live.ax, np.arange(T)
        # the LSTM curve is drawn alone on a saved background (blitting): a redraw costs one line, not a figure
        (self.lstm_curve,) = ax.plot(t, np.ones(T), color="tab:blue", linewidth=1.8, label="LSTM", animated=True)
        (self.vanilla_curve,) = ax.plot(t, np.ones(T), color="0.45", linewidth=1.5, linestyle="--",
                                        label="vanilla tanh RNN (spectral radius 1)")
        ax.set_yscale("log")
        ax.set_xlabel("step t (the loss is read at the last step)")
        ax.set_ylabel(r"$\|\partial L/\partial h_t\|$")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
        try:
            with np.errstate(all="ignore"):
                self.vanilla_norms = np.asarray(hidden_gradient_norms(self.vanilla, self.x, self.h0), dtype=float)
            self.vanilla_curve.set_ydata(self.vanilla_norms)
        except NotImplementedError:
            self.vanilla_norms = None
            self.vanilla_curve.set_visible(False)
        ax.set_ylim(1e-18, 1e3)  # fixed, wide enough for both curves at any forget bias of the slider
        self.live.canvas.draw()
        self.background = self.live.canvas.copy_from_bbox(self.live.fig.bbox)
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([self.slider, self.live.caption, self.live.image])
        self.redraw()

    def bias(self):
        """b (4H,): zero except the forget gate's slice, which is the slider's value."""
        return forget_bias_vector(self.H, self.slider.value)

    def redraw(self):
        """Recompute the LSTM's gradient norms for the current forget bias; update the existing figure."""
        ax, bias = self.live.ax, self.slider.value
        try:
            with np.errstate(all="ignore"):
                norms = lstm_hidden_gradient_norms(self.lstm_forward, self.lstm_backward, self.Wx, self.Wh,
                                                   self.bias(), self.x, self.h0)
        except NotImplementedError:
            self.live.caption.value = "<b>implement lstm_forward and lstm_backward above, then move the slider</b>"
            self.live.render()
            return
        self.lstm_curve.set_ydata(np.maximum(norms, 1e-30))
        canvas = self.live.canvas
        canvas.restore_region(self.background)
        ax.draw_artist(self.lstm_curve)
        vanilla = ("vanilla: (write hidden_gradient_norms in 06 to see it)" if self.vanilla_norms is None else
                   f"vanilla: {self.vanilla_norms[0] / self.vanilla_norms[-1]:.0e}")
        self.live.caption.value = (f"forget bias {bias:.2f}, so f &asymp; &sigma;({bias:.2f}) = {_sigmoid(bias):.2f} "
                                   f"per step. ||dL/dh<sub>0</sub>|| / ||dL/dh<sub>T-1</sub>||: LSTM "
                                   f"{norms[0] / norms[-1]:.0e}, {vanilla}")
        self.live.image.value = self._png()

    def _png(self):
        """The canvas as it stands (background and the blitted curve), as PNG bytes."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(np.asarray(self.live.canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def gradient_flow_setup(spectral_radius, N=4, T=60, D=8, H=32, seed=0):
    """The weights and inputs of the gradient-flow comparison (08) and of 06's spectral-radius slider.

    Returns (vanilla, lstm, x, h0): vanilla = {Wxh (D, H), Whh (H, H) scaled by your spectral_radius
    to radius 1, bh (H,)}; lstm = {Wx (D, 4H), Wh (H, 4H)} with entries of size 1/sqrt(fan-in);
    x (N, T, D); h0 (N, H) zeros. The LSTM's bias b (4H,) is what the comparison varies.
    """
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((H, H))
    vanilla = {"Wxh": rng.standard_normal((D, H)) * 0.5, "Whh": base / spectral_radius(base), "bh": np.zeros(H)}
    x, h0 = rng.standard_normal((N, T, D)), np.zeros((N, H))
    lstm = {"Wx": rng.standard_normal((D, 4 * H)) / np.sqrt(D), "Wh": rng.standard_normal((H, 4 * H)) / np.sqrt(H)}
    return vanilla, lstm, x, h0


def forget_bias_vector(H, forget_bias):
    """b (4H,): zero except the forget gate's block b[H:2H], which is forget_bias."""
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return b


def lstm_gradient_explorer(hidden_gradient_norms, spectral_radius, lstm_forward, lstm_backward, **kwargs):
    """The forget-bias slider for your LSTM (its first picture only, while nbgrader grades)."""
    if not functions_ready("the forget-bias slider", spectral_radius):
        return None
    return _show(lambda: LstmGradientExplorer(hidden_gradient_norms, spectral_radius, lstm_forward, lstm_backward,
                                              **kwargs), "the LSTM's gradient norms")


# ---------------------------------------------------------------------------
# 06 vanishing and exploding gradients: learning fails on long lags
# ---------------------------------------------------------------------------
# A recall task: the first input is one of two signal symbols, then come `lag` random
# distractors, and only after the last of them the model must name the signal. The
# training loop calls YOUR loss_and_gradients (notebook 05) and clip_by_global_norm (06),
# passed in as arguments; it updates the weights with plain gradient descent.

def lag_task_batch(rng, n_sequences, lag, n_symbols=10):
    """A batch of the recall task: (inputs, targets, mask), each (N, lag + 1).

    inputs[:, 0] is the signal, id 0 or 1; inputs[:, 1:] are distractors drawn from the ids
    2 .. n_symbols - 1. Only the last step is scored: targets[:, -1] is the signal and
    mask[:, -1] = 1, everything else is masked out (mask 0, target 0).
    """
    signal = rng.integers(0, 2, n_sequences)
    inputs = rng.integers(2, n_symbols, (n_sequences, lag + 1))
    inputs[:, 0] = signal
    targets = np.zeros((n_sequences, lag + 1), dtype=int)
    targets[:, -1] = signal
    mask = np.zeros((n_sequences, lag + 1))
    mask[:, -1] = 1.0
    return inputs, targets, mask


def _lag_task_params(rng, n_symbols, hidden, spectral_radius):
    """Random weights: Whh scaled by your spectral_radius to radius 1, inputs strong enough to move the state."""
    Whh = rng.standard_normal((hidden, hidden))
    Whh /= spectral_radius(Whh)
    return {"Wxh": rng.standard_normal((n_symbols, hidden)) * 0.5, "Whh": Whh, "bh": np.zeros(hidden),
            "Why": rng.standard_normal((hidden, n_symbols)) * 0.1, "by": np.zeros(n_symbols)}


def lag_task_ready(loss_and_gradients, clip_by_global_norm, spectral_radius):
    """True when the functions the lag experiments call are written; otherwise a note and False."""
    missing = [f.__name__ for f in (loss_and_gradients, clip_by_global_norm, spectral_radius) if not is_written(f)]
    if missing:
        print(f"NOTE: the lag experiments run your {', '.join(missing)}, not written yet: they are "
              f"skipped until {'it is' if len(missing) == 1 else 'they are'}.")
    return not missing


def train_on_lag(loss_and_gradients, clip_by_global_norm, spectral_radius, lag, **kwargs):
    """Train a tanh RNN on the recall task at one lag with gradient descent (see _train_recall;
    Whh starts at spectral radius 1, by your spectral_radius)."""
    return _train_recall(loss_and_gradients, clip_by_global_norm, lag,
                         lambda rng, n_symbols, hidden: _lag_task_params(rng, n_symbols, hidden, spectral_radius),
                         **kwargs)


def _train_recall(loss_and_gradients, clip_by_global_norm, lag, init, steps=200, lr=1.0, max_norm=None,
                  hidden=16, batch=64, seed=0, n_symbols=10, n_test=500, stop_below=0.02):
    """Train a model on the recall task at one lag with gradient descent, from the weights
    init(rng, n_symbols, hidden) gives (a dict with at least Why (H, V) and by (V,)).

    Every step draws a fresh batch, computes (loss, grads) with your loss_and_gradients and,
    when max_norm is given, clips them with your clip_by_global_norm. Returns a dict:
    losses (steps,) the batch loss before each update; norms (steps,) the global gradient
    norm before clipping, as your clip_by_global_norm reports it (a run without clipping
    calls it with max_norm = inf, which leaves the gradients as they are); accuracy, the share of n_test fresh
    sequences whose signal the trained model names (chance: 0.5). A run stops early once the
    mean loss of its last 10 batches is below stop_below: it has learned the task (the rest of
    its curve is left as nan).
    """
    rng = np.random.default_rng(seed)
    params = init(rng, n_symbols, hidden)
    losses, norms = np.full(steps, np.nan), np.full(steps, np.nan)
    with np.errstate(all="ignore"):  # a run without clipping may overflow: that is what it shows
        for step in range(steps):
            loss, grads, _ = loss_and_gradients(params, *lag_task_batch(rng, batch, lag, n_symbols))
            clipped, norms[step] = clip_by_global_norm(grads, np.inf if max_norm is None else max_norm)
            losses[step] = loss
            if not np.isfinite(loss) or (step >= 10 and losses[step - 9: step + 1].mean() < stop_below):
                break
            for name in params:
                params[name] -= lr * clipped[name]
        inputs, targets, mask = lag_task_batch(np.random.default_rng(10_000 + lag), n_test, lag, n_symbols)
        _, _, h_last = loss_and_gradients(params, inputs, targets, mask)
        guesses = np.argmax(h_last @ params["Why"] + params["by"], axis=-1)   # the output at the last step
    return {"lag": lag, "max_norm": max_norm, "seed": seed, "lr": lr, "losses": losses, "norms": norms,
            "accuracy": float(np.mean(guesses == targets[:, -1]))}


def lag_sweep(loss_and_gradients, clip_by_global_norm, spectral_radius, lags, max_norms=(None, 1.0), seeds=(0, 1),
              **kwargs):
    """train_on_lag for every lag, clipping threshold (None: no clipping) and seed: a list of run dicts."""
    return [train_on_lag(loss_and_gradients, clip_by_global_norm, spectral_radius, lag, max_norm=max_norm, seed=seed,
                         **kwargs)
            for lag in lags for max_norm in max_norms for seed in seeds]


def lag_run_table(runs):
    """Every run of a lag sweep as text: one row per lag and clipping threshold, and for each seed
    the test accuracy, the steps trained (fewer than asked: it learned and stopped) and the largest
    batch loss met on the way."""
    seeds = sorted({run["seed"] for run in runs})
    lines = [f"{'':27s}" + "".join(f"{f'seed {seed}':>31s}" for seed in seeds),
             f"{'lag':>3s}  {'':22s}" + "".join(f"{'accuracy':>15s} {'steps':>5s} {'max loss':>9s}" for _ in seeds)]
    for lag in sorted({run["lag"] for run in runs}):
        for max_norm in dict.fromkeys(run["max_norm"] for run in runs):
            cells = []
            for seed in seeds:
                run = next((r for r in runs if (r["lag"], r["max_norm"], r["seed"]) == (lag, max_norm, seed)), None)
                if run is None:
                    cells.append(f"{'':>32s}")
                    continue
                trained = int(np.sum(np.isfinite(run["losses"])))
                cells.append(f"{run['accuracy']:>15.0%} {trained:5d} {np.nanmax(run['losses']):9.1f}")
            lines.append(f"{lag:3d}  {_run_label(max_norm):22s}" + "".join(cells))
    return "\n".join(lines)


def _run_colour(max_norm):
    """Red for a run without clipping, blue for a clipped one."""
    return "tab:red" if max_norm is None else "tab:blue"


def _run_label(max_norm):
    return "no clipping" if max_norm is None else f"clipped to norm {max_norm:g}"


def plot_lag_accuracy(runs, ax=None):
    """Test accuracy against the lag: one dot per run, a line through the mean of the seeds."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6))
    lags = sorted({run["lag"] for run in runs})
    thresholds = list(dict.fromkeys(run["max_norm"] for run in runs))
    for k, max_norm in enumerate(thresholds):
        shift = (k - (len(thresholds) - 1) / 2) * 0.25     # side by side, so that equal dots stay visible
        mine = [run for run in runs if run["max_norm"] == max_norm]
        ax.plot([run["lag"] + shift for run in mine], [run["accuracy"] for run in mine], "o",
                color=_run_colour(max_norm), alpha=0.45, markersize=5)
        means = [np.mean([run["accuracy"] for run in mine if run["lag"] == lag]) for lag in lags]
        ax.plot(np.array(lags) + shift, means, "-", color=_run_colour(max_norm), linewidth=1.8,
                label=f"{_run_label(max_norm)} (line: mean over seeds)")
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.text(lags[0], 0.51, "chance", ha="left", va="bottom", fontsize=8, color="0.4")
    ax.set_ylim(0.3, 1.05)
    ax.set_xticks(lags)
    ax.set_xlabel("lag L: distractors between the signal and the question")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return ax


def plot_clipping_rescue(free, clipped, axes=None):
    """Two runs of train_on_lag, without and with clipping: loss and gradient norm per step."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    for run in (free, clipped):
        label = f"{_run_label(run['max_norm'])}: test accuracy {run['accuracy']:.0%}"
        axes[0].plot(run["losses"], color=_run_colour(run["max_norm"]), linewidth=1, label=label)
        axes[1].semilogy(run["norms"], color=_run_colour(run["max_norm"]), linewidth=1, alpha=0.8,
                         label=_run_label(run["max_norm"]))
    if clipped["max_norm"] is not None:
        axes[1].axhline(clipped["max_norm"], color="tab:blue", linestyle="--", linewidth=1,
                        label="the threshold max_norm")
    axes[0].axhline(np.log(2), color="0.5", linestyle=":", linewidth=1)
    axes[0].text(len(free["losses"]) - 1, np.log(2), "ln 2: a coin toss", ha="right", va="bottom",
                 fontsize=8, color="0.4")
    axes[0].set_ylabel("batch loss (nats)")
    axes[0].set_title(f"lag {free['lag']}, learning rate {free['lr']:g}: the loss", fontsize=10)
    axes[1].set_ylabel("global gradient norm (before clipping)")
    axes[1].set_title("the gradient norm that clip_by_global_norm measured", fontsize=10)
    for ax in axes:
        ax.set_xlabel("training step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return axes


class LagExplorer(_Explorer):
    """A slider over the lags of a lag_sweep: the loss curves of every run at that lag.

    Nothing is trained on a redraw: the curves come from the runs already made.
    """

    def __init__(self, runs, lag=None):
        import ipywidgets

        self.runs = runs
        lags = sorted({run["lag"] for run in runs})
        self.slider = ipywidgets.SelectionSlider(options=lags, value=lag if lag in lags else lags[len(lags) // 2],
                                                 description="lag L", layout=ipywidgets.Layout(width="420px"))
        self.live = LiveFigure()
        ax = self.live.ax
        steps = max(len(run["losses"]) for run in runs)
        self.lines = []
        for k in range(max(sum(1 for r in runs if r["lag"] == lag) for lag in lags)):
            (line,) = ax.plot([], [], linewidth=1)
            self.lines.append(line)
        ax.axhline(np.log(2), color="0.5", linestyle=":", linewidth=1)
        finite = np.concatenate([run["losses"][np.isfinite(run["losses"])] for run in runs])
        ax.set_xlim(0, steps)
        ax.set_ylim(0, max(1.0, min(float(finite.max()), 12.0)) * 1.05)
        ax.set_xlabel("training step")
        ax.set_ylabel("batch loss (nats)")
        for max_norm in dict.fromkeys(run["max_norm"] for run in runs):
            ax.plot([], [], color=_run_colour(max_norm), label=_run_label(max_norm))
        ax.legend(loc="upper right", fontsize=8)
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([self.slider, self.live.caption, self.live.image])
        self.redraw()

    def redraw(self):
        lag = self.slider.value
        shown = [run for run in self.runs if run["lag"] == lag]
        for line in self.lines:
            line.set_data([], [])
        for line, run in zip(self.lines, shown):
            line.set_data(np.arange(len(run["losses"])), np.minimum(run["losses"], 1e3))
            line.set_color(_run_colour(run["max_norm"]))
        accuracies = ", ".join(f"{_run_label(run['max_norm'])} (seed {run['seed']}) {run['accuracy']:.0%}"
                               for run in shown)
        self.live.caption.value = f"lag {lag}: test accuracy {accuracies}"
        self.live.render()


def lag_explorer(runs, **kwargs):
    """The lag slider over the runs of lag_sweep (its first picture only, while nbgrader grades)."""
    if not runs:
        print("(no runs to show: the lag experiments were skipped)")
        return None
    return _show(lambda: LagExplorer(runs, **kwargs), "the lag sweep")


# ---------------------------------------------------------------------------
# 05 backpropagation through time: do the visible checks of rnn_backward wait for the step?
# ---------------------------------------------------------------------------
def step_backward_is_right(rnn_step_backward, x_t, h_prev, Wxh, Whh, bh, dh_next):
    """True when your rnn_step_backward matches numerical gradients on this one step.

    The numerical checks of rnn_backward compare it with the true gradient, which only a
    correct step can give: when the step is wrong they wait, with a note (its own tests
    say what is wrong). A step not written yet counts as right, so those checks still
    fail until it is. Shapes: x_t (N, D), h_prev (N, H), Wxh (D, H), Whh (H, H), bh (H,),
    dh_next (N, H).
    """
    step = lambda: np.tanh(x_t @ Wxh + h_prev @ Whh + bh)   # one forward step, written out
    try:
        grads = rnn_step_backward(dh_next.copy(), (x_t, h_prev, step(), Wxh, Whh))
        right = all(np.shape(g) == a.shape and rel_error(g, numerical_gradient(step, a, dh_next)) < 1e-7
                    for g, a in zip(grads, (x_t, h_prev, Wxh, Whh, bh)))
    except NotImplementedError:
        return True
    except Exception:
        right = False
    if not right:
        print("NOTE: your rnn_step_backward does not match numerical gradients (its tests above say where), "
              "so the numerical checks of rnn_backward wait until it does.")
    return right


# ---------------------------------------------------------------------------
# 08 LSTM: the recall task of notebook 06, learned by your LSTM
# ---------------------------------------------------------------------------
# The batches are those of 06 (lag_task_batch), the training loop too (_train_recall). The loss and
# its gradients are YOUR loss_and_gradients of notebook 05, run with YOUR lstm_forward and lstm_backward
# where it calls rnn_forward and rnn_backward: the same one-hot inputs, output layer, masked loss and
# backward pass, with the LSTM's weights Wx (V, 4H), Wh (H, 4H), b (4H,) under the keys Wxh, Whh, bh.

def _lstm_lag_params(rng, n_symbols, hidden, forget_bias):
    """Wx (V, 4H) like an embedding (one-hot inputs pick a row), Wh (H, 4H) with entries of
    size 1/sqrt(H), b (4H,) zero except the forget block b[H:2H] = forget_bias; Why (H, V), by (V,).
    Under the keys of the vanilla RNN (Wxh, Whh, bh), where loss_and_gradients reads them."""
    return {"Wxh": rng.standard_normal((n_symbols, 4 * hidden)), "bh": forget_bias_vector(hidden, forget_bias),
            "Whh": rng.standard_normal((hidden, 4 * hidden)) / np.sqrt(hidden),
            "Why": rng.standard_normal((hidden, n_symbols)) * 0.1, "by": np.zeros(n_symbols)}


def _global_names(code):
    """The global names a function's code (and the code of functions defined in it) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _global_names(const)
    return names


def lstm_loss_and_gradients(loss_and_gradients, lstm_forward, lstm_backward):
    """Your loss_and_gradients of notebook 05 with your LSTM in it: a copy of the function whose
    calls of rnn_forward and rnn_backward go to lstm_forward and lstm_backward (the two have the
    same arguments and return the same tuples, with the LSTM's cache). None, with a note, when
    your loss_and_gradients does not call rnn_forward and rnn_backward by these names.

    The copy takes params with Wxh (V, 4H), Whh (H, 4H), bh (4H,), Why (H, V), by (V,) and the
    arguments of loss_and_gradients; h0 defaults to zeros (N, H).
    """
    import types

    missing = {"rnn_forward", "rnn_backward"} - _global_names(loss_and_gradients.__code__)
    if missing:
        print(f"NOTE: the LSTM curves run your loss_and_gradients (notebook 05) with your LSTM in place of "
              f"rnn_forward and rnn_backward; yours does not call {' and '.join(sorted(missing))}, so they are "
              "skipped. Write loss_and_gradients with calls of your rnn_forward and rnn_backward to see them.")
        return None
    swapped = types.FunctionType(loss_and_gradients.__code__,
                                 dict(loss_and_gradients.__globals__, rnn_forward=lstm_forward,
                                      rnn_backward=lstm_backward),
                                 "lstm_loss_and_gradients", loss_and_gradients.__defaults__,
                                 loss_and_gradients.__closure__)

    def with_lstm(params, inputs, targets, mask=None, h0=None):
        if h0 is None:   # the LSTM's state has H units, Whh (H, 4H) its rows
            h0 = np.zeros((len(inputs), params["Whh"].shape[0]))
        return swapped(params, inputs, targets, mask, h0)

    return with_lstm


def lstm_lag_sweep(loss_and_gradients, clip_by_global_norm, lstm_forward, lstm_backward, lags, forget_biases=(1.0,),
                   seeds=(0,), max_norm=1.0, **kwargs):
    """The recall task learned by your LSTM (see lstm_loss_and_gradients) for every lag, forget-gate
    bias and seed, trained as train_on_lag trains the vanilla RNN (clipped by your clip_by_global_norm):
    a list of run dicts, each with its "model" and "forget_bias". [] when the LSTM cannot be run."""
    loss = lstm_loss_and_gradients(loss_and_gradients, lstm_forward, lstm_backward)
    if loss is None:
        return []
    runs = []
    for lag in lags:
        for bias in forget_biases:
            init = lambda rng, n_symbols, hidden: _lstm_lag_params(rng, n_symbols, hidden, bias)
            for seed in seeds:
                run = _train_recall(loss, clip_by_global_norm, lag, init, max_norm=max_norm, seed=seed, **kwargs)
                runs.append(dict(run, model=f"LSTM, forget bias {bias:g}", forget_bias=bias))
    return runs


def functions_ready(purpose, *functions):
    """True when every function is written; otherwise a note naming the missing ones, and False."""
    missing = [f.__name__ for f in functions if not is_written(f)]
    if missing:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        print(f"NOTE: {purpose}: skipped until you have written your {names}.")
    return not missing


def _model_name(run):
    """The curve a run belongs to: runs of train_on_lag carry no "model" and are the vanilla RNN."""
    return run.get("model", "vanilla RNN")


def _lag_table(runs, cell):
    """One row per model, one column per lag; cell(list of that model's runs at that lag) -> text of width 7."""
    lags = sorted({run["lag"] for run in runs})
    rows = [f"{'lag L':22s}" + "".join(f"{lag:>7d}" for lag in lags)]
    for model in dict.fromkeys(_model_name(run) for run in runs):
        mine = [[run for run in runs if _model_name(run) == model and run["lag"] == lag] for lag in lags]
        rows.append(f"{model:22s}" + "".join(cell(at_lag) if at_lag else f"{'':7s}" for at_lag in mine))
    return "\n".join(rows)


def lag_accuracy_table(runs):
    """The test accuracies as text: one row per model, one column per lag (mean over seeds)."""
    return _lag_table(runs, lambda mine: f"{np.mean([run['accuracy'] for run in mine]):7.0%}")


def lag_steps_table(runs):
    """The steps each run trained, as text (one row per model, one column per lag; seeds joined by "/")."""
    return _lag_table(runs, lambda mine: f"{'/'.join(str(int(np.sum(np.isfinite(run['losses'])))) for run in mine):>7s}")


def plot_lag_comparison(runs, ax=None):
    """Test accuracy against the lag (log scale), one curve per model: a line through the mean
    of the seeds, a dot per run; the curves are set a little apart so that equal points stay visible."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.8))
    lags = sorted({run["lag"] for run in runs})
    models = list(dict.fromkeys(_model_name(run) for run in runs))
    greens = iter(["tab:green", "darkgreen", "olive", "teal"])
    for k, model in enumerate(models):
        mine = [run for run in runs if _model_name(run) == model]
        colour, style = ("tab:blue", "-o") if model == "vanilla RNN" else (next(greens), "--s" if k % 2 else "-D")
        apart = 2.0 ** ((k - (len(models) - 1) / 2) * 0.04)       # a small shift on the log axis
        ax.plot([run["lag"] * apart for run in mine], [run["accuracy"] for run in mine], "o", color=colour,
                alpha=0.4, markersize=5)
        shown = [lag for lag in lags if any(run["lag"] == lag for run in mine)]
        means = [np.mean([run["accuracy"] for run in mine if run["lag"] == lag]) for lag in shown]
        ax.plot(np.array(shown) * apart, means, style, color=colour, linewidth=1.8, markersize=4, label=model)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.text(lags[0], 0.51, "chance", ha="left", va="bottom", fontsize=8, color="0.4")
    ax.set_xscale("log", base=2)
    ax.set_xticks(lags, [str(lag) for lag in lags])
    ax.minorticks_off()
    ax.set_ylim(0.3, 1.05)
    ax.set_xlabel("lag L: distractors between the signal and the question (log scale)")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return ax
