"""Notebook 06 (vanishing and exploding gradients): the interactive figures, a w slider over your
impulse_response and a spectral-radius slider over your hidden_gradient_norms."""
import numpy as np

from .figures import LiveFigure, _Explorer, _show
from .loading import functions_ready


def _log_limits(values, floor=1e-300):
    """y-limits for a log axis that show every finite positive value (None if there is none)."""
    values = np.abs(np.asarray(values, dtype=float))
    shown = values[np.isfinite(values) & (values > floor)]
    if shown.size == 0:
        return None
    return shown.min() / 3.0, shown.max() * 3.0


class ImpulseExplorer(_Explorer):
    """A slider for w and a linear/log switch; the plot shows your impulse_response(w, n_steps)."""

    def __init__(self, impulse_response, n_steps=40, w=-0.9):
        import ipywidgets

        self.impulse_response, self.n_steps = impulse_response, n_steps
        self.slider = ipywidgets.FloatSlider(value=w, min=-1.5, max=1.5, step=0.01, description="w",
                                             continuous_update=True, readout_format=".2f",
                                             layout=ipywidgets.Layout(width="420px"))
        self.scale = ipywidgets.ToggleButtons(options=["linear", "log"], value="linear",
                                              description="y scale", style={"button_width": "70px"})
        self.live = LiveFigure()
        ax, t = self.live.ax, np.arange(n_steps)
        (self.stems,) = ax.plot(t, np.zeros(n_steps), "o-", color="tab:blue", markersize=3.5, linewidth=1,
                                label=r"$h_t$")
        (self.upper,) = ax.plot(t, np.ones(n_steps), "--", color="tab:orange", linewidth=1,
                                label=r"envelope $\pm|w|^t$")
        (self.lower,) = ax.plot(t, -np.ones(n_steps), "--", color="tab:orange", linewidth=1)
        ax.axhline(0.0, color="0.6", linewidth=0.6)
        ax.set_xlabel("step t")
        self._log_shown = None
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.scale.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([ipywidgets.HBox([self.slider, self.scale]), self.live.caption,
                                       self.live.image])
        self.redraw()

    def redraw(self):
        """Update the lines of the existing figure for the current w and scale, then re-render it."""
        w, log = self.slider.value, self.scale.value == "log"
        ax, t = self.live.ax, np.arange(self.n_steps)
        try:
            with np.errstate(all="ignore"):
                h = np.asarray(self.impulse_response(w, self.n_steps), dtype=float)
                envelope = np.abs(w) ** t
        except NotImplementedError:
            self.live.caption.value = "<b>implement impulse_response above, then move the slider</b>"
            self.live.render()
            return
        ax.set_yscale("log" if log else "linear")
        if log:  # a log axis shows magnitudes only
            self.stems.set_data(t, np.abs(h))
            self.stems.set_label(r"$|h_t|$")
            self.lower.set_visible(False)
            limits = _log_limits(np.concatenate([h, envelope])) or (1e-3, 10)
        else:
            self.stems.set_data(t, h)
            self.stems.set_label(r"$h_t$")
            self.lower.set_visible(True)
            top = max(1.0, float(np.nanmax(np.abs(h[np.isfinite(h)]), initial=1.0)))
            limits = (-1.1 * top, 1.1 * top)
        self.upper.set_data(t, envelope)
        self.lower.set_data(t, -envelope)
        ax.set_ylim(*limits)
        if log != self._log_shown:  # the legend names h_t or |h_t|: rebuild it only when that changes
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
            self._log_shown = log
        regime = "decays" if abs(w) < 1 else ("stays at size 1" if abs(w) == 1 else "explodes")
        self.live.caption.value = (f"impulse response of h<sub>t</sub> = w h<sub>t-1</sub> + x<sub>t</sub> "
                                   f"for w = {w:+.2f}: it {regime}")
        self.live.render()


def gradient_flow_setup(spectral_radius, N=4, T=60, D=8, H=32, seed=0):
    """The weights and inputs of the gradient-flow comparison (08) and of 06's spectral-radius slider.

    Returns (vanilla, lstm, x, h0): vanilla = {Wxh (D, H), Whh (H, H) scaled by your spectral_radius
    to radius 1, bh (H,)}; lstm = {Wx (D, 4H), Wh (H, 4H)} with entries of size 1/sqrt(fan-in);
    x (N, T, D); h0 (N, H) zeros. The LSTM's bias b (4H,) is what the comparison varies.
    """
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((H, H))
    vanilla = {"Wxh": rng.standard_normal((D, H)) * 0.5, "Whh": base / spectral_radius(base), "bh": np.zeros(H)}
    x, h0 = rng.standard_normal((N, T, D)), np.zeros((N, H))
    lstm = {"Wx": rng.standard_normal((D, 4 * H)) / np.sqrt(D), "Wh": rng.standard_normal((H, 4 * H)) / np.sqrt(H)}
    return vanilla, lstm, x, h0


class GradientNormExplorer(_Explorer):
    """A slider for the spectral radius of a random Whh (scaled with your spectral_radius); the plot
    shows your hidden_gradient_norms(params, x, h0) on a log scale, with the bound of Pascanu et al. (2013)."""

    def __init__(self, hidden_gradient_norms, spectral_radius, radius=1.0, N=4, T=60, D=8, H=32, seed=0):
        import ipywidgets

        self.hidden_gradient_norms = hidden_gradient_norms
        self.params, _, self.x, self.h0 = gradient_flow_setup(spectral_radius, N, T, D, H, seed)
        self.base = self.params["Whh"].copy()   # spectral radius 1, by your spectral_radius
        self.slider = ipywidgets.FloatSlider(value=radius, min=0.3, max=3.0, step=0.05,
                                             description="radius", readout_format=".2f",
                                             layout=ipywidgets.Layout(width="420px"))
        self.live = LiveFigure()
        ax, t = self.live.ax, np.arange(T)
        (self.curve,) = ax.plot(t, np.ones(T), color="tab:blue", linewidth=1.8, label=r"$\|\partial L/\partial h_t\|$")
        (self.bound,) = ax.plot(t, np.ones(T), "--", color="tab:red", linewidth=1,
                                label=r"bound $\sigma_{max}^{T-1-t}\,\|\partial L/\partial h_{T-1}\|$")
        ax.set_yscale("log")
        ax.set_xlabel("step t (the loss is read at the last step)")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
        self.slider.observe(lambda change: self.redraw(), names="value")
        self.widget = ipywidgets.VBox([self.slider, self.live.caption, self.live.image])
        self.redraw()

    def redraw(self):
        radius = self.slider.value
        ax, T = self.live.ax, self.x.shape[1]
        self.params["Whh"] = self.base * radius
        try:
            with np.errstate(all="ignore"):
                norms = np.asarray(self.hidden_gradient_norms(self.params, self.x, self.h0), dtype=float)
        except NotImplementedError:
            self.live.caption.value = "<b>implement hidden_gradient_norms above, then move the slider</b>"
            self.live.render()
            return
        sigma = float(np.linalg.norm(self.params["Whh"], 2))
        with np.errstate(all="ignore"):
            bound = norms[-1] * sigma ** (T - 1 - np.arange(T))
        self.curve.set_ydata(norms)
        self.bound.set_ydata(bound)
        limits = _log_limits(norms)
        if limits:
            ax.set_ylim(max(limits[0], 1e-30), limits[1] * 10)
        self.live.caption.value = (f"tanh RNN, H = {self.base.shape[0]}: spectral radius {radius:.2f}, "
                                   f"largest singular value {sigma:.2f}; ||dL/dh<sub>0</sub>|| / "
                                   f"||dL/dh<sub>T-1</sub>|| = {norms[0] / norms[-1]:.1e}")
        self.live.render()


def impulse_explorer(impulse_response, **kwargs):
    """The w slider for your impulse_response (its first picture only, while nbgrader grades)."""
    return _show(lambda: ImpulseExplorer(impulse_response, **kwargs), "impulse_response")


def gradient_norm_explorer(hidden_gradient_norms, spectral_radius, **kwargs):
    """The spectral-radius slider for your hidden_gradient_norms (its first picture only, while nbgrader grades)."""
    if not functions_ready("the spectral-radius slider", spectral_radius):
        return None
    return _show(lambda: GradientNormExplorer(hidden_gradient_norms, spectral_radius, **kwargs), "hidden_gradient_norms")
