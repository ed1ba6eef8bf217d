"""Notebook 04 (cross-entropy): the learning rate absorbs a wrongly scaled gradient."""
import numpy as np


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
