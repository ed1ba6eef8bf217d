"""Notebook 05 (backpropagation through time): the junction figure, BPTT in two chunks, and whether
the visible checks of rnn_backward wait for your rnn_step_backward."""
import numpy as np

from .numerics import numerical_gradient, rel_error


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
