"""Catalogue entries for 06_vanishing_exploding."""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import rnn_forward

NB = "06_vanishing_exploding"


@mistake("impulse_response", NB, breaks={"test_impulse_response_values"},
         explain="the response starts at w instead of 1: the impulse x_0 = 1 arrives at t = 0, so "
                 "h_0 = w * h_{-1} + x_0 = 1 (h_{-1} = 0) and h_t = w**t, not w**(t + 1).")
def impulse_response_starts_at_w(w, n_steps):
    h, out = 1.0, np.zeros(n_steps)
    for t in range(n_steps):
        h = w * h
        out[t] = h
    return out


@mistake("impulse_response", NB, breaks={"test_impulse_response_values"},
         explain="the input is 1 at every step (a step, not an impulse): the unit impulse is x_0 = 1 "
                 "and x_t = 0 for every t > 0.")
def impulse_response_step_input(w, n_steps):
    h, out = 0.0, np.zeros(n_steps)
    for t in range(n_steps):
        h = w * h + 1.0
        out[t] = h
    return out


@mistake("impulse_response", NB, breaks={"test_impulse_response_shape", "test_impulse_response_values"},
         explain="the initial state h_{-1} = 0 is part of the output: return the n_steps states "
                 "h_0 .. h_{n_steps-1} only.")
def impulse_response_includes_initial_state(w, n_steps):
    return np.concatenate([[0.0], w ** np.arange(n_steps, dtype=float)])


@mistake("linear_recurrence_norms", NB, breaks={"test_linear_recurrence_norms_values"},
         explain="the recurrence uses the column form W @ h; in this course's row form the state "
                 "multiplies from the left, h_t = h_{t-1} @ W (W @ h is h @ W.T).")
def linear_recurrence_norms_column_form(W, h0, n_steps):
    norms, h = np.zeros(n_steps), np.array(h0, dtype=float)
    for t in range(n_steps):
        norms[t] = np.linalg.norm(h)
        h = W @ h
    return norms


@mistake("linear_recurrence_norms", NB, breaks={"test_linear_recurrence_norms_values"},
         explain="the first norm is taken after one step: norms[0] must be ||h0||, then ||h0 @ W||, "
                 "and so on.")
def linear_recurrence_norms_one_step_late(W, h0, n_steps):
    norms, h = np.zeros(n_steps), np.array(h0, dtype=float)
    for t in range(n_steps):
        h = h @ W
        norms[t] = np.linalg.norm(h)
    return norms


@mistake("linear_recurrence_norms", NB, breaks={"test_linear_recurrence_norms_pure"},
         explain="h0 is overwritten: `h = h0` does not copy, so writing h[:] = h @ W changes the "
                 "caller's array; start from h = h0.copy() or build new arrays.")
def linear_recurrence_norms_writes_h0(W, h0, n_steps):
    norms, h = np.zeros(n_steps), h0
    for t in range(n_steps):
        norms[t] = np.linalg.norm(h)
        h[:] = h @ W
    return norms


@mistake("spectral_radius", NB, breaks={"test_spectral_radius_values"},
         explain="this is the largest singular value (the 2-norm of W), not the spectral radius: the "
                 "radius is the largest |eigenvalue|, and the two differ when W is not symmetric.")
def spectral_radius_largest_singular_value(W):
    return float(np.linalg.svd(W, compute_uv=False)[0])


@mistake("spectral_radius", NB, breaks={"test_spectral_radius_values"},
         explain="this is the largest real part of the eigenvalues; the radius is the largest "
                 "absolute value |lambda|, which counts complex and negative eigenvalues too.")
def spectral_radius_largest_real_part(W):
    return float(np.max(np.linalg.eigvals(W).real))


@mistake("spectral_radius", NB, breaks={"test_spectral_radius_values"},
         explain="np.linalg.eig returns (eigenvalues, eigenvectors): this takes the largest entry of "
                 "the eigenvectors; use the eigenvalues (or np.linalg.eigvals).")
def spectral_radius_from_eigenvectors(W):
    return float(np.max(np.abs(np.linalg.eig(W)[1])))


@mistake("hidden_gradient_norms", NB, breaks={"test_hidden_gradient_norms_values"},
         explain="the tanh derivative is left out: going back one step multiplies by "
                 "(1 - h_t**2) elementwise before @ Whh.T, dL/dh_{t-1} = (dL/dh_t * (1 - h_t**2)) @ Whh.T.")
def hidden_gradient_norms_no_tanh_derivative(params, x, h0):
    rnn_forward(x, h0, params["Wxh"], params["Whh"], params["bh"])
    n_steps = x.shape[1]
    norms, g = np.zeros(n_steps), np.ones((x.shape[0], params["Whh"].shape[0]))
    for t in range(n_steps - 1, -1, -1):
        norms[t] = np.linalg.norm(g)
        g = g @ params["Whh"].T
    return norms


@mistake("hidden_gradient_norms", NB, breaks={"test_hidden_gradient_norms_values"},
         explain="the gradient goes back through Whh instead of Whh.T: in the row form "
                 "h_t = tanh(... + h_{t-1} @ Whh), so dL/dh_{t-1} = (dL/dh_t * (1 - h_t**2)) @ Whh.T.")
def hidden_gradient_norms_whh_not_transposed(params, x, h0):
    h, _ = rnn_forward(x, h0, params["Wxh"], params["Whh"], params["bh"])
    n_steps = x.shape[1]
    norms, g = np.zeros(n_steps), np.ones_like(h[:, -1])
    for t in range(n_steps - 1, -1, -1):
        norms[t] = np.linalg.norm(g)
        g = (g * (1.0 - h[:, t] ** 2)) @ params["Whh"]
    return norms


@mistake("hidden_gradient_norms", NB, breaks={"test_hidden_gradient_norms_values"},
         explain="the tanh derivative uses the previous state: stepping back from h_t multiplies by "
                 "1 - h_t**2, the derivative at the state that tanh produced at step t.")
def hidden_gradient_norms_derivative_of_previous_state(params, x, h0):
    h, _ = rnn_forward(x, h0, params["Wxh"], params["Whh"], params["bh"])
    previous = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    n_steps = x.shape[1]
    norms, g = np.zeros(n_steps), np.ones_like(h[:, -1])
    for t in range(n_steps - 1, -1, -1):
        norms[t] = np.linalg.norm(g)
        g = (g * (1.0 - previous[:, t] ** 2)) @ params["Whh"].T
    return norms


# Entries are pasted into a notebook on their own (function_source): no shared helpers here.
@mistake("clip_by_global_norm", NB, breaks={"test_clip_by_global_norm_values"},
         explain="each array is clipped by its own norm; global norm clipping scales ALL arrays by the "
                 "same factor max_norm / norm (norm over all of them together), which keeps the "
                 "direction of the whole gradient.")
def clip_by_global_norm_per_tensor(grads, max_norm):
    clipped = {}
    for k, g in grads.items():
        own = np.linalg.norm(g)
        clipped[k] = g * (max_norm / own) if own > max_norm else g.copy()
    return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


@mistake("clip_by_global_norm", NB, breaks={"test_clip_by_global_norm_norm"},
         explain="the returned norm is measured after clipping; return the global norm before "
                 "clipping, which is what you log to see an explosion.")
def clip_by_global_norm_returns_clipped_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    scale = min(1.0, max_norm / norm)
    clipped = {k: g * scale for k, g in grads.items()}
    return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in clipped.values())))


@mistake("clip_by_global_norm", NB, breaks={"test_clip_by_global_norm_small"},
         explain="the gradients are rescaled even when their norm is already below max_norm: "
                 "clipping only ever shrinks, so small gradients must come back unchanged.")
def clip_by_global_norm_always_rescales(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    return {k: g * (max_norm / norm) for k, g in grads.items()}, norm


@mistake("clip_by_global_norm", NB, breaks={"test_clip_by_global_norm_pure"},
         explain="the caller's gradients are scaled in place (g *= scale writes into the arrays of "
                 "the dict you were given); build new arrays, e.g. {k: g * scale for k, g in grads.items()}.")
def clip_by_global_norm_in_place(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return grads, norm
