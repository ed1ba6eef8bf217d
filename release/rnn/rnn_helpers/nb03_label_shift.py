"""Notebook 03 (vocabulary, padding, label shift): ids shown as characters, as text and as a grid
(notebook 07 uses ``decode`` too)."""
import numpy as np


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
