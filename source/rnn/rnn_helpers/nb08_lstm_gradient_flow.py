"""Notebook 08 (LSTM): why gating fixes vanishing gradients. ||dL/dh_t|| through your LSTM, and the
forget-bias slider that compares it with your vanilla RNN of notebook 06."""
import io

import numpy as np

from .figures import LiveFigure, _Explorer, _show
from .loading import functions_ready
from .nb06_vanishing_exploding import gradient_flow_setup
from .nb08_lstm import _sigmoid


def lstm_hidden_gradient_norms(lstm_forward, lstm_backward, Wx, Wh, b, x, h0):
    """||dL/dh_t|| for t = 0..T-1 through an LSTM, with L = the sum of the entries of the last
    hidden state (as 06's hidden_gradient_norms does for the tanh RNN), from your lstm_forward and
    lstm_backward as they are.

    lstm_backward returns the gradient of every input x_t, not of every state h_t. So the LSTM
    reads H more inputs, always zero, whose weights are a copy of Wh: forward they change nothing,
    and the gradient that reaches them at step t + 1 is da_{t+1} Wh^T, which is dL/dh_t (h_t enters
    the loss only through step t + 1). Wx (D, 4H), Wh (H, 4H), b (4H,), x (N, T, D), h0 (N, H).
    Returns an array (T,).
    """
    N, T, D = x.shape
    H = h0.shape[1]
    probed = np.concatenate([x, np.zeros((N, T, H))], axis=2)             # (N, T, D + H)
    _, cache = lstm_forward(probed, h0, np.concatenate([Wx, Wh]), Wh, b)
    dh = np.zeros((N, T, H))
    dh[:, -1] = 1.0                                                       # the loss reads h_{T-1} only
    dprobe = lstm_backward(dh, cache)[0][:, :, D:]                        # (N, T, H): dL/dh_{t-1} at t
    return np.append(np.linalg.norm(dprobe[:, 1:], axis=(0, 2)), np.linalg.norm(dh[:, -1]))


class LstmGradientExplorer(_Explorer):
    """A slider for the forget-gate bias of an LSTM; the plot shows ||dL/dh_t|| through your LSTM
    next to a vanilla tanh RNN (your hidden_gradient_norms from 06) on the same inputs.

    The weights are those of gradient_flow_setup(spectral_radius) (06): the same as 06's slider."""

    def __init__(self, hidden_gradient_norms, spectral_radius, lstm_forward, lstm_backward, forget_bias=1.0):
        import ipywidgets

        self.lstm_forward, self.lstm_backward = lstm_forward, lstm_backward
        self.vanilla, lstm, self.x, self.h0 = gradient_flow_setup(spectral_radius)
        self.Wx, self.Wh = lstm["Wx"], lstm["Wh"]
        self.H = H = self.h0.shape[1]
        T = self.x.shape[1]
        self.slider = ipywidgets.FloatSlider(value=forget_bias, min=0.0, max=3.0, step=0.25,
                                             description="forget bias", readout_format=".2f",
                                             style={"description_width": "80px"},
                                             layout=ipywidgets.Layout(width="420px"))
        self.live = LiveFigure()
        ax, t = self.live.ax, np.arange(T)
        # the LSTM curve is drawn alone on a saved background (blitting): a redraw costs one line, not a figure
        (self.lstm_curve,) = ax.plot(t, np.ones(T), color="tab:blue", linewidth=1.8, label="LSTM", animated=True)
        (self.vanilla_curve,) = ax.plot(t, np.ones(T), color="0.45", linewidth=1.5, linestyle="--",
                                        label="vanilla tanh RNN (spectral radius 1)")
        ax.set_yscale("log")
        ax.set_xlabel("step t (the loss is read at the last step)")
        ax.set_ylabel(r"$\|\partial L/\partial h_t\|$")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
        try:
            with np.errstate(all="ignore"):
                self.vanilla_norms = np.asarray(hidden_gradient_norms(self.vanilla, self.x, self.h0), dtype=float)
            self.vanilla_curve.set_ydata(self.vanilla_norms)
        except NotImplementedError:
            self.vanilla_norms = None
            self.vanilla_curve.set_visible(False)
        ax.set_ylim(1e-18, 1e3)  # fixed, wide enough for both curves at any forget bias of the slider
        self.live.canvas.draw()
        self.background = self.live.canvas.copy_from_bbox(self.live.fig.bbox)
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([self.slider, self.live.caption, self.live.image])
        self.redraw()

    def bias(self):
        """b (4H,): zero except the forget gate's slice, which is the slider's value."""
        return forget_bias_vector(self.H, self.slider.value)

    def redraw(self):
        """Recompute the LSTM's gradient norms for the current forget bias; update the existing figure."""
        ax, bias = self.live.ax, self.slider.value
        try:
            with np.errstate(all="ignore"):
                norms = lstm_hidden_gradient_norms(self.lstm_forward, self.lstm_backward, self.Wx, self.Wh,
                                                   self.bias(), self.x, self.h0)
        except NotImplementedError:
            self.live.caption.value = "<b>implement lstm_forward and lstm_backward above, then move the slider</b>"
            self.live.render()
            return
        self.lstm_curve.set_ydata(np.maximum(norms, 1e-30))
        canvas = self.live.canvas
        canvas.restore_region(self.background)
        ax.draw_artist(self.lstm_curve)
        vanilla = ("vanilla: (write hidden_gradient_norms in 06 to see it)" if self.vanilla_norms is None else
                   f"vanilla: {self.vanilla_norms[0] / self.vanilla_norms[-1]:.0e}")
        self.live.caption.value = (f"forget bias {bias:.2f}, so f &asymp; &sigma;({bias:.2f}) = {_sigmoid(bias):.2f} "
                                   f"per step. ||dL/dh<sub>0</sub>|| / ||dL/dh<sub>T-1</sub>||: LSTM "
                                   f"{norms[0] / norms[-1]:.0e}, {vanilla}")
        self.live.image.value = self._png()

    def _png(self):
        """The canvas as it stands (background and the blitted curve), as PNG bytes."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(np.asarray(self.live.canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def forget_bias_vector(H, forget_bias):
    """b (4H,): zero except the forget gate's block b[H:2H], which is forget_bias."""
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return b


def lstm_gradient_explorer(hidden_gradient_norms, spectral_radius, lstm_forward, lstm_backward, **kwargs):
    """The forget-bias slider for your LSTM (its first picture only, while nbgrader grades)."""
    if not functions_ready("the forget-bias slider", spectral_radius):
        return None
    return _show(lambda: LstmGradientExplorer(hidden_gradient_norms, spectral_radius, lstm_forward, lstm_backward,
                                              **kwargs), "the LSTM's gradient norms")
