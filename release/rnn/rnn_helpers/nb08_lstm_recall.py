"""Notebook 08 (LSTM): the recall task of notebook 06, learned by your LSTM, next to the vanilla RNN.

The batches are those of 06 (lag_task_batch), the training loop too (_train_recall). The loss and
its gradients are YOUR loss_and_gradients of notebook 05, run with YOUR lstm_forward and
lstm_backward where it calls rnn_forward and rnn_backward: the same one-hot inputs, output layer,
masked loss and backward pass, with the LSTM's weights Wx (V, 4H), Wh (H, 4H), b (4H,) under the
keys Wxh, Whh, bh.
"""
import numpy as np

from .nb06_recall_task import _train_recall
from .nb08_lstm_gradient_flow import forget_bias_vector


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
