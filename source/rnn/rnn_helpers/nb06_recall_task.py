"""Notebook 06 (vanishing and exploding gradients): learning fails on long lags.

A recall task: the first input is one of two signal symbols, then come ``lag`` random
distractors, and only after the last of them the model must name the signal. The training
loop calls YOUR loss_and_gradients (notebook 05) and clip_by_global_norm (06), passed in as
arguments; it updates the weights with plain gradient descent. Notebook 08 trains your LSTM on
the same task (``nb08_lstm_recall``).
"""
import numpy as np

from .figures import LiveFigure, _Explorer, _show
from .loading import is_written


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
