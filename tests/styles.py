"""The two ways students write a function that builds on others, for the grading tests.

* ``calls-parts``: the source notebooks' solutions, where ``rnn_forward`` calls
  ``rnn_step_forward``, ``loss_and_gradients`` calls the forward pass, the loss and the
  backward functions by name, and so on. A wrong part then flows into the composite.
* ``self-contained``: the functions below, which compute everything themselves (their
  own loop, their own softmax inline). A wrong part then leaves the composite right, but
  the visible asserts that compare the composite with the student's own parts disagree.

The grading rule holds in both: a mistake costs points only in its own function's cells.
``noisy`` makes every answer warn, print to stderr and overflow, and must cost nothing.
"""
import re

import numpy as np

from autograde.content.notebooks import without_markers
from tests.alternatives import nb08

STYLES = ("calls-parts", "self-contained")


def rnn_forward(x, h0, Wxh, Whh, bh):
    N, T, _ = x.shape
    h = np.zeros((N, T, Whh.shape[0]))
    state = h0
    for t in range(T):
        state = np.tanh(x[:, t] @ Wxh + state @ Whh + bh)
        h[:, t] = state
    return h, (x, h0, h, Wxh, Whh)


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def cross_entropy(logits, targets, mask=None):
    m = logits.max(axis=-1, keepdims=True)
    log_p = logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    weights = np.ones(picked.shape) if mask is None else mask
    return float(-(picked * weights).sum() / logits.shape[0])


def cross_entropy_backward(logits, targets, mask=None):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    onehot = (targets[..., None] == np.arange(logits.shape[-1])).astype(float)
    weights = np.ones(targets.shape) if mask is None else mask
    return (p - onehot) * weights[..., None] / logits.shape[0]


def softmax_backward(p, dp):
    return p * dp - p * (p * dp).sum(axis=-1, keepdims=True)


def rnn_backward(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros(x.shape), np.zeros(Wxh.shape), np.zeros(Whh.shape), np.zeros(Whh.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t] = da @ Wxh.T
        dWxh += x[:, t].T @ da
        dWhh += h_prev.T @ da
        dbh += da.sum(axis=0)
        dh_next = da @ Whh.T
    return dx, dh_next, dWxh, dWhh, dbh


def loss_and_gradients(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = (params[k] for k in ("Wxh", "Whh", "bh", "Why", "by"))
    N, T = inputs.shape
    H, V = Why.shape
    weights = np.ones((N, T)) if mask is None else mask
    state = np.zeros((N, H)) if h0 is None else h0
    h = np.zeros((N, T, H))
    for t in range(T):
        state = np.tanh(Wxh[inputs[:, t]] + state @ Whh + bh)  # a one-hot input picks a row
        h[:, t] = state
    logits = h @ Why + by
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]
    loss = float(-(np.log(picked) * weights).sum() / N)
    dlogits = p.copy()
    dlogits[np.arange(N)[:, None], np.arange(T)[None, :], targets] -= 1
    dlogits *= weights[..., None] / N
    grads = {"Why": np.einsum("nth,ntv->hv", h, dlogits), "by": dlogits.sum(axis=(0, 1)),
             "Wxh": np.zeros(Wxh.shape), "Whh": np.zeros(Whh.shape), "bh": np.zeros(H)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        da = (dlogits[:, t] @ Why.T + dh_next) * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else (np.zeros((N, H)) if h0 is None else h0)
        np.add.at(grads["Wxh"], inputs[:, t], da)
        grads["Whh"] += h_prev.T @ da
        grads["bh"] += da.sum(axis=0)
        dh_next = da @ Whh.T
    return loss, grads, h[:, -1].copy()


def hidden_gradient_norms(params, x, h0):
    Wxh, Whh, bh = params["Wxh"], params["Whh"], params["bh"]
    states, state = [], h0
    for t in range(x.shape[1]):
        state = np.tanh(x[:, t] @ Wxh + state @ Whh + bh)
        states.append(state)
    norms, grad = [], np.ones(h0.shape)
    for h_t in reversed(states):
        norms.append(np.sqrt((grad ** 2).sum()))
        grad = (grad * (1 - h_t ** 2)) @ Whh.T
    return np.array(norms[::-1])


def sample(params, h0, seed_id, n, rng, temperature=1.0):
    Wxh, Whh, bh, Why, by = (params[k] for k in ("Wxh", "Whh", "bh", "Why", "by"))
    drawn, h, current = [], h0, seed_id
    while len(drawn) < n:
        h = np.tanh(Wxh[current] + h @ Whh + bh)
        z = (h @ Why + by) / temperature
        p = np.exp(z - z.max())
        current = int(rng.choice(len(p), p=p / p.sum()))
        drawn.append(current)
        if current == 0:
            break
    return drawn


def train_step(params, memory, inputs, targets, mask, lr, clip):
    Wxh, Whh, bh, Why, by = (params[k] for k in ("Wxh", "Whh", "bh", "Why", "by"))
    N, T = inputs.shape
    H = Whh.shape[0]
    h, state = np.zeros((N, T, H)), np.zeros((N, H))
    for t in range(T):
        state = np.tanh(Wxh[inputs[:, t]] + state @ Whh + bh)
        h[:, t] = state
    logits = h @ Why + by
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    rows = np.arange(N)[:, None], np.arange(T)[None, :], targets
    loss = float(-(np.log(p[rows]) * mask).sum() / N)
    dlogits = p
    dlogits[rows] -= 1
    dlogits *= mask[..., None] / N
    grads = {"Wxh": np.zeros(Wxh.shape), "Whh": np.zeros(Whh.shape), "bh": np.zeros(H),
             "Why": np.einsum("nth,ntv->hv", h, dlogits), "by": dlogits.sum(axis=(0, 1))}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        da = (dlogits[:, t] @ Why.T + dh_next) * (1 - h[:, t] ** 2)
        np.add.at(grads["Wxh"], inputs[:, t], da)
        grads["Whh"] += (h[:, t - 1] if t > 0 else np.zeros((N, H))).T @ da
        grads["bh"] += da.sum(axis=0)
        dh_next = da @ Whh.T
    for key, g in grads.items():
        g = np.minimum(np.maximum(g, -clip), clip)
        memory[key] += g * g
        params[key] -= lr * g / np.sqrt(memory[key] + 1e-8)
    return loss


# each one uses nothing but numpy, so that it can be pasted alone into its answer cell; the LSTM's
# self-contained composites are among the alternatives of 08
SELF_CONTAINED = {name: fn for name, fn in list(globals().items())
                  if callable(fn) and getattr(fn, "__module__", None) == __name__}
SELF_CONTAINED.update(lstm_forward=nb08.lstm_forward__self_contained, lstm_backward=nb08.lstm_backward__inlined_vectorised)


def noisy(answer_source, function):
    """An answer cell (the source notebook's, markers included) whose function, every time it runs,
    warns, prints to stderr and overflows before computing its answer; returned without markers."""
    lines = answer_source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION")
    indent = re.match(r"\s*", lines[at]).group(0)
    noise = [f"{indent}__import__('warnings').warn('{function}: a harmless warning')",
             f"{indent}print('{function}: debug output', file=__import__('sys').stderr)",
             f"{indent}__import__('numpy').exp(__import__('numpy').float64(1000.0))  # an overflow warning"]
    return without_markers("\n".join(lines[:at + 1] + noise + lines[at + 1:]) + "\n")
