"""How long one redraw of notebook 06's interactive figures takes.

Each slider move of ``rnn_helpers.ImpulseExplorer`` / ``GradientNormExplorer`` updates the
lines of one existing matplotlib figure and re-renders it to the PNG of an
ipywidgets.Image. The baseline, measured in the same process on the same data, is what a
naive callback does: build a new figure each time (plt.subplots, plot, savefig, close).

Run from the repository root:  python benchmarks/widget_redraw.py [repeats]
"""
import io
import os
import pathlib
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "source" / "rnn"))
os.environ.pop("NBGRADER_EXECUTION", None)

import rnn_helpers  # noqa: E402
from autograde.content import solution  # noqa: E402

BUDGET_MS = 100.0


def timed(fn, repeats):
    """Median CPU time and median wall time of one call, in ms. CPU time (this process only)
    is what the budget is about: on a shared machine the wall time also counts waiting."""
    fn()  # warm up (fonts, caches)
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000.0)
        wall.append((time.perf_counter() - start_wall) * 1000.0)
    return statistics.median(cpu), statistics.median(wall)


def main(repeats=30):
    rng = np.random.default_rng(0)
    results = []

    impulse = rnn_helpers.ImpulseExplorer(solution.impulse_response)
    values = iter(np.tile(np.linspace(-1.5, 1.5, 61), 10))
    scales = iter(["linear", "log"] * 1000)

    def move_w():
        impulse.slider.value = float(next(values))          # observe() -> redraw()

    def toggle_scale():
        impulse.scale.value = next(scales)

    def new_impulse_figure():
        w = float(rng.uniform(-1.5, 1.5))
        t = np.arange(impulse.n_steps)
        fig, ax = plt.subplots(figsize=(7.0, 3.4), dpi=90)
        ax.plot(t, solution.impulse_response(w, impulse.n_steps), "o-", markersize=3.5, linewidth=1)
        ax.plot(t, np.abs(w) ** t, "--")
        ax.plot(t, -np.abs(w) ** t, "--")
        ax.set_title(f"w = {w:+.2f}")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)

    gradient = rnn_helpers.GradientNormExplorer(solution.hidden_gradient_norms, solution.spectral_radius)
    radii = iter(np.tile(np.linspace(0.3, 3.0, 55), 10))

    def move_radius():
        gradient.slider.value = float(np.round(next(radii), 2))

    def new_gradient_figure():
        params = dict(gradient.params, Whh=gradient.base * float(rng.uniform(0.3, 3.0)))
        norms = solution.hidden_gradient_norms(params, gradient.x, gradient.h0)
        fig, ax = plt.subplots(figsize=(7.0, 3.4), dpi=90)
        ax.semilogy(norms)
        ax.semilogy(norms[-1] * np.linalg.norm(params["Whh"], 2) ** np.arange(len(norms))[::-1], "--")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)

    open_before = len(plt.get_fignums())
    for label, redraw, baseline in [("impulse response, move w", move_w, new_impulse_figure),
                                    ("impulse response, switch linear/log", toggle_scale, new_impulse_figure),
                                    ("gradient norms, move radius", move_radius, new_gradient_figure)]:
        ms, wall = timed(redraw, repeats)
        base_ms, base_wall = timed(baseline, repeats)
        results.append((label, ms, wall, base_ms, base_wall))
    stacked = len(plt.get_fignums()) - open_before

    print(f"per-redraw time in ms, median of {repeats}: CPU (wall clock); baseline = a new figure per "
          f"redraw, measured in this process")
    print(f"{'figure':38s} {'redraw':>15s} {'new figure':>15s} {'ratio':>6s}")
    for label, ms, wall, base_ms, base_wall in results:
        print(f"{label:38s} {ms:6.1f} ({wall:6.1f}) {base_ms:6.1f} ({base_wall:6.1f}) {ms / base_ms:6.2f}")
    print(f"pyplot figures left open by the redraws: {stacked}; png bytes now: "
          f"{len(impulse.live.image.value)} and {len(gradient.live.image.value)}")
    slow = [label for label, ms, *_ in results if ms >= BUDGET_MS]
    print(f"budget {BUDGET_MS:.0f} ms of CPU per redraw: " + ("FAILED for " + ", ".join(slow) if slow else "met"))
    return 1 if slow or stacked else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
