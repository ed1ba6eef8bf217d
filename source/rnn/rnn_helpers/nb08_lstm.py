"""Notebook 08 (LSTM): the cell diagram, and whether your earlier LSTM functions are ready for the
visible checks of the later ones.

Gates are stacked along the last axis in the order i, f, o, g (input, forget, output, candidate).
"""
import numpy as np

from .loading import is_written
from .numerics import numerical_gradient, rel_error


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
