"""Correct answers to 06_vanishing_exploding written differently from the source notebook."""
import numpy as np

NOTEBOOK = "06_vanishing_exploding"


def impulse_response__closed_form(w, n_steps):
    with np.errstate(over="ignore"):
        return np.float64(w) ** np.arange(n_steps)


def impulse_response__python_list(w, n_steps):
    out, h = [], 0.0
    for t in range(n_steps):
        h = w * h + (t == 0)
        out.append(h)
    return np.array(out, dtype=float)


def linear_recurrence_norms__matrix_powers(W, h0, n_steps):
    return np.array([np.linalg.norm(h0 @ np.linalg.matrix_power(W, t)) for t in range(n_steps)])


def linear_recurrence_norms__transpose_column(W, h0, n_steps):
    # the column form with W.T is the row form with W
    h, norms = np.array(h0, dtype=float)[:, None], []
    for _ in range(n_steps):
        norms.append(np.sqrt(np.sum(h ** 2)))
        h = W.T @ h
    return np.array(norms)


def spectral_radius__abs_max(W):
    return np.abs(np.linalg.eig(W)[0]).max()


def spectral_radius__hypot(W):
    lam = np.linalg.eigvals(W)
    return float(max(np.hypot(lam.real, lam.imag)))


def hidden_gradient_norms__jacobian_products(params, x, h0):
    # build each step's Jacobian dh_t/dh_{t-1} explicitly, one example at a time
    h, _ = rnn_forward(x, h0, params["Wxh"], params["Whh"], params["bh"])
    N, T, H = h.shape
    norms = np.zeros(T)
    for n in range(N):
        g = np.ones(H)
        norms[T - 1] += g @ g
        for t in range(T - 1, 0, -1):
            jacobian = np.diag(1.0 - h[n, t] ** 2) @ params["Whh"].T  # (H, H): d h_t / d h_{t-1}, column form
            g = jacobian.T @ g
            norms[t - 1] += g @ g
    return np.sqrt(norms)


def clip_by_global_norm__concatenate(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: factor * g for name, g in grads.items()}, float(norm)


def clip_by_global_norm__copy_then_scale(grads, max_norm):
    clipped = {k: v.copy() for k, v in grads.items()}
    norm = np.sqrt(sum(float(np.vdot(v, v)) for v in clipped.values()))
    if norm > max_norm:
        for v in clipped.values():
            v *= max_norm / norm
    return clipped, norm
