"""Notebook 07 (character model): a progress line and a live loss curve for a training loop, and
whether the visible checks of sample can rely on your softmax."""
import numpy as np


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
