"""Notebook 01 (one RNN step, the unrolled forward pass): the picture of the network unrolled in time."""


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
