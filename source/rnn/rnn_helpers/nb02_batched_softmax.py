"""Notebook 02 (batched softmax): where exp is finite in float64."""
import numpy as np


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
