"""Reference implementation of every graded function in the course.

Instructor-only: this module never reaches students (a test proves that nothing
under ``release/`` contains or imports it). The hidden tests compare each
student function with the function of the same name here.

Conventions, the same in every notebook and in the hidden checks:

* batch-first: ``x (N, T, D)``, hidden states ``(N, T, H)``, logits ``(N, T, V)``;
* row form: ``h_t = tanh(x_t @ Wxh + h_prev @ Whh + bh)``, ``logits_t = h_t @ Why + by``
  with ``Wxh (D, H)``, ``Whh (H, H)``, ``bh (H,)``, ``Why (H, V)``, ``by (V,)``;
* ``L = (1/N) sum_n sum_t mask[n, t] * -log softmax(logits[n, t])[targets[n, t]]``;
* pure functions never modify their arguments; ``adagrad_update`` works in place.
"""
import numpy as np

BOUNDARY = "\n"  # id 0: the token that starts and ends every name
PARAM_NAMES = ("Wxh", "Whh", "bh", "Why", "by")


# --------------------------------------------------------------------------
# 01 cell forward
# --------------------------------------------------------------------------
def rnn_step_forward(x_t, h_prev, Wxh, Whh, bh):
    """One step of the recurrence for a whole batch.

    x_t (N, D), h_prev (N, H), Wxh (D, H), Whh (H, H), bh (H,).
    Returns h_next (N, H) and cache = (x_t, h_prev, h_next, Wxh, Whh).
    """
    h_next = np.tanh(x_t @ Wxh + h_prev @ Whh + bh)
    return h_next, (x_t, h_prev, h_next, Wxh, Whh)


def rnn_forward(x, h0, Wxh, Whh, bh):
    """Unroll the recurrence over T steps.

    x (N, T, D), h0 (N, H). Returns h (N, T, H), the state after every step,
    and cache = (x, h0, h, Wxh, Whh).
    """
    n_batch, n_steps, _ = x.shape
    h = np.empty((n_batch, n_steps, h0.shape[-1]), dtype=np.result_type(x, h0, Wxh, Whh, bh))
    h_prev = h0
    for t in range(n_steps):
        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wxh, Whh, bh)
        h[:, t] = h_prev
    return h, (x, h0, h, Wxh, Whh)


def output_forward(h, Why, by):
    """Logits for every state: h (..., H) -> logits (..., V)."""
    return h @ Why + by


# --------------------------------------------------------------------------
# 02 batched softmax
# --------------------------------------------------------------------------
def softmax(z):
    """Softmax over the last axis, for any leading shape: z (..., V) -> p (..., V).

    Each row is shifted by its own maximum, so exp never overflows and the
    largest entry of every row becomes exp(0) = 1.
    """
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(z):
    """log(softmax(z)) over the last axis without ever taking log(0): (..., V) -> (..., V)."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


# --------------------------------------------------------------------------
# 03 label shift
# --------------------------------------------------------------------------
def build_vocab(names):
    """Vocabulary of a list of strings.

    Returns chars (list of str) with chars[0] == "\\n" followed by every other
    character in sorted order, and char_to_id (dict str -> int), its inverse.
    """
    chars = [BOUNDARY] + sorted(set("".join(names)) - {BOUNDARY})
    return chars, {c: i for i, c in enumerate(chars)}


def encode(name, char_to_id):
    """Ids of one name framed by the boundary token: [0, ids..., 0] (length len(name) + 2)."""
    return [0] + [char_to_id[c] for c in name] + [0]


def one_hot(ids, vocab_size):
    """One-hot floats: ids (any shape, ints in [0, vocab_size)) -> ids.shape + (vocab_size,)."""
    ids = np.asarray(ids)
    return (ids[..., None] == np.arange(vocab_size)).astype(np.float64)


def pad_batch(encoded):
    """Pad a list of id lists into a rectangle.

    Returns ids (N, L_max) int64, padded with the boundary id 0, and
    lengths (N,) int64 with lengths[n] = len(encoded[n]).
    """
    lengths = np.array([len(seq) for seq in encoded], dtype=np.int64)
    ids = np.zeros((len(encoded), lengths.max(initial=0)), dtype=np.int64)
    for n, seq in enumerate(encoded):
        ids[n, : len(seq)] = seq
    return ids, lengths


def shift_labels(ids, lengths):
    """Next-character targets: inputs and targets are ids moved one step apart in time.

    ids (N, L), lengths (N,). Returns inputs (N, L-1) = ids[:, :-1],
    targets (N, L-1) = ids[:, 1:], and mask (N, L-1) float, 1.0 where
    t < lengths[n] - 1 (a real prediction) and 0.0 on padding.
    """
    ids = np.asarray(ids)
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < np.asarray(lengths)[:, None] - 1).astype(np.float64)
    return ids[:, :-1].copy(), ids[:, 1:].copy(), mask


# --------------------------------------------------------------------------
# 04 cross-entropy
# --------------------------------------------------------------------------
def _mask_or_ones(mask, shape):
    return np.ones(shape) if mask is None else np.asarray(mask, dtype=np.float64)


def cross_entropy(logits, targets, mask=None):
    """Per-step cross-entropy summed over time, averaged over the batch.

    logits (N, T, V), targets (N, T) int, mask (N, T) or None (all ones).
    Returns a Python float.
    """
    log_p = log_softmax(logits)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    mask = _mask_or_ones(mask, picked.shape)
    return float(-(picked * mask).sum() / logits.shape[0])


def cross_entropy_backward(logits, targets, mask=None):
    """dL/dlogits of ``cross_entropy``: (p - onehot(targets)) * mask / N, shape (N, T, V)."""
    dlogits = softmax(logits)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    mask = _mask_or_ones(mask, targets.shape)
    return dlogits * mask[..., None] / logits.shape[0]


def softmax_backward(p, dp):
    """Jacobian-vector product through softmax over the last axis.

    p = softmax(z) (..., V), dp = dL/dp (..., V). Returns dL/dz (..., V):
    dz_i = sum_j p_j (delta_ij - p_i) dp_j = p_i (dp_i - sum_j p_j dp_j).
    """
    return p * (dp - np.sum(p * dp, axis=-1, keepdims=True))


# --------------------------------------------------------------------------
# 05 backpropagation through time
# --------------------------------------------------------------------------
def output_backward(dlogits, h, Why):
    """Backward through logits = h @ Why + by.

    dlogits (..., V), h (..., H), Why (H, V). Returns dh (..., H), dWhy (H, V), dby (V,).
    """
    n_hidden, n_out = Why.shape
    dh = dlogits @ Why.T
    dWhy = h.reshape(-1, n_hidden).T @ dlogits.reshape(-1, n_out)
    dby = dlogits.reshape(-1, n_out).sum(axis=0)
    return dh, dWhy, dby


def rnn_step_backward(dh_next, cache):
    """Backward through one step. dh_next (N, H): the total gradient reaching h_next.

    Returns dx_t (N, D), dh_prev (N, H), dWxh (D, H), dWhh (H, H), dbh (H,).
    """
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next * (1.0 - h_next**2)  # tanh'(a) written with its output
    return da @ Wxh.T, da @ Whh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_backward(dh, cache):
    """Backpropagation through time.

    dh (N, T, H): the gradient reaching each h_t from the outputs at step t.
    cache = (x, h0, h, Wxh, Whh) from rnn_forward.
    Returns dx (N, T, D), dh0 (N, H), dWxh (D, H), dWhh (H, H), dbh (H,).
    """
    x, h0, h, Wxh, Whh = cache
    n_steps = x.shape[1]
    dx = np.zeros_like(x, dtype=np.result_type(x, dh))
    dWxh, dWhh = np.zeros_like(Wxh), np.zeros_like(Whh)
    dbh = np.zeros(Whh.shape[0], dtype=dWhh.dtype)
    dh_next = np.zeros_like(h0, dtype=dWhh.dtype)
    for t in reversed(range(n_steps)):
        h_prev = h[:, t - 1] if t > 0 else h0
        step_cache = (x[:, t], h_prev, h[:, t], Wxh, Whh)
        # the junction: the output's gradient at t joins the one from step t + 1
        dx[:, t], dh_next, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t] + dh_next, step_cache)
        dWxh += dWxh_t
        dWhh += dWhh_t
        dbh += dbh_t
    return dx, dh_next, dWxh, dWhh, dbh


def loss_and_gradients(params, inputs, targets, mask=None, h0=None):
    """Loss of a batch of id sequences and the gradient of every parameter.

    params: dict Wxh (V, H), Whh (H, H), bh (H,), Why (H, V), by (V,).
    inputs, targets (N, T) int ids; mask (N, T) or None; h0 (N, H) or None (zeros).
    Returns (loss float, grads dict with the keys of params, h_last (N, H)).
    """
    Wxh, Whh, bh, Why, by = (params[k] for k in PARAM_NAMES)
    if h0 is None:
        h0 = np.zeros((inputs.shape[0], Whh.shape[0]))
    x = one_hot(inputs, Wxh.shape[0])
    h, cache = rnn_forward(x, h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask)
    dlogits = cross_entropy_backward(logits, targets, mask)
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, -1].copy()


# --------------------------------------------------------------------------
# 06 vanishing and exploding gradients
# --------------------------------------------------------------------------
def impulse_response(w, n_steps):
    """h_t = w h_{t-1} + x_t with x a unit impulse at t = 0 and h_{-1} = 0: returns (n_steps,) = w**t."""
    h = np.zeros(n_steps)
    h_prev = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # |w| > 1 is meant to explode
        for t in range(n_steps):
            h_prev = w * h_prev + (1.0 if t == 0 else 0.0)
            h[t] = h_prev
    return h


def linear_recurrence_norms(W, h0, n_steps):
    """||h_t|| for h_t = h_{t-1} @ W, t = 0..n_steps-1 (t = 0 is ||h0||). W (H, H), h0 (H,) or (N, H)."""
    norms = np.zeros(n_steps)
    h = np.asarray(h0, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            norms[t] = np.linalg.norm(h)
            h = h @ W
    return norms


def spectral_radius(W):
    """Largest |eigenvalue| of a square matrix W (H, H), as a float."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def hidden_gradient_norms(params, x, h0):
    """||dL/dh_t|| for t = 0..T-1 where L = sum of the entries of the last state h_{T-1}.

    params with Wxh (D, H), Whh (H, H), bh (H,); x (N, T, D); h0 (N, H). Returns (T,).
    """
    h, _ = rnn_forward(x, h0, params["Wxh"], params["Whh"], params["bh"])
    n_steps = x.shape[1]
    norms = np.zeros(n_steps)
    dh = np.ones_like(h[:, -1])
    for t in reversed(range(n_steps)):
        norms[t] = np.linalg.norm(dh)
        dh = (dh * (1.0 - h[:, t] ** 2)) @ params["Whh"].T  # now dL/dh_{t-1}
    return norms


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients together so that their joint 2-norm is at most max_norm.

    grads: dict of arrays. Returns (clipped, norm): a new dict (the input is not
    modified) and the global norm before clipping, a float.
    """
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}, norm


# --------------------------------------------------------------------------
# 07 character model
# --------------------------------------------------------------------------
def clip_gradients(grads, max_value):
    """Clip every entry into [-max_value, max_value]; returns a new dict."""
    return {k: np.clip(g, -max_value, max_value) for k, g in grads.items()}


def adagrad_update(params, grads, memory, lr, eps=1e-8):
    """Adagrad, in place: memory[k] += g*g; params[k] -= lr * g / sqrt(memory[k] + eps). Returns None."""
    for k, g in grads.items():
        memory[k] += g * g
        params[k] -= lr * g / np.sqrt(memory[k] + eps)


def sample(params, h0, seed_id, n, rng, temperature=1.0):
    """Draw up to n ids from the model, starting from seed_id and state h0 (H,).

    Each step feeds the previous id, computes softmax(logits / temperature) and
    draws the next id with rng; stops after drawing the boundary id 0, which is
    kept. Returns a list of Python ints.
    """
    Wxh, Whh, bh, Why, by = (params[k] for k in PARAM_NAMES)
    vocab_size = Why.shape[1]
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(Wxh[current] + h @ Whh + bh)  # the row of Wxh picked by a one-hot input
        p = softmax((h @ Why + by) / temperature)
        current = int(rng.choice(vocab_size, p=p))
        drawn.append(current)
        if current == 0:
            break
    return drawn


def train_step(params, memory, inputs, targets, mask, lr, clip):
    """One update: loss_and_gradients, clip_gradients(clip), adagrad_update. Returns the loss."""
    loss, grads, _ = loss_and_gradients(params, inputs, targets, mask)
    adagrad_update(params, clip_gradients(grads, clip), memory, lr)
    return loss


def init_params(vocab_size, hidden_size, rng, scale=0.01):
    """Small random weights and zero biases: the dict that every training function takes."""
    return {
        "Wxh": rng.standard_normal((vocab_size, hidden_size)) * scale,
        "Whh": rng.standard_normal((hidden_size, hidden_size)) * scale,
        "bh": np.zeros(hidden_size),
        "Why": rng.standard_normal((hidden_size, vocab_size)) * scale,
        "by": np.zeros(vocab_size),
    }


# --------------------------------------------------------------------------
# 03 label shift: the embedding view of one-hot
# --------------------------------------------------------------------------
def embedding_forward(ids, W):
    """Rows of W picked by id: ids (any shape, ints in [0, V)), W (V, H) -> ids.shape + (H,).

    Equals one_hot(ids, V) @ W without building the one-hot array.
    """
    return W[np.asarray(ids)]


def embedding_backward(dout, ids, vocab_size):
    """Gradient of embedding_forward with respect to W.

    dout (ids.shape + (H,)), ids (any shape), vocab_size V -> dW (V, H): row v sums dout
    over every position where ids == v (np.add.at, so that repeated ids add up).
    """
    ids = np.asarray(ids)
    dout = np.asarray(dout, dtype=np.float64)
    dW = np.zeros((vocab_size, dout.shape[-1]))
    np.add.at(dW, ids.ravel(), dout.reshape(-1, dout.shape[-1]))
    return dW


# --------------------------------------------------------------------------
# 08 LSTM
# --------------------------------------------------------------------------
# The four gates are stacked along the last axis of one pre-activation a (N, 4H), in the
# order i, f, o, g: a[:, :H] input gate, a[:, H:2H] forget gate, a[:, 2H:3H] output gate,
# a[:, 3H:] candidate. Wx (D, 4H), Wh (H, 4H) and b (4H,) use the same order.
def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), elementwise, without overflow for large |z|."""
    return np.exp(-np.logaddexp(0.0, -z))


def lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step for a whole batch, in row form.

    x_t (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    a = x_t @ Wx + h_prev @ Wh + b (N, 4H), split as i, f, o, g (each (N, H));
    c_next = f * c_prev + i * g, h_next = o * tanh(c_next).
    Returns h_next (N, H), c_next (N, H) and
    cache = (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next).
    """
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next)


def lstm_forward(x, h0, Wx, Wh, b):
    """The LSTM over a whole sequence; the initial cell state is zero.

    x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    Returns h (N, T, H) and cache = (x, h0, h, c, Wx, Wh, i, f, o, g): h and the cell
    states c are (N, T, H), and each gate i, f, o, g is (N, T, H), step t at [:, t].
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c = np.zeros((N, T, H)), np.zeros((N, T, H))
    gates = [np.zeros((N, T, H)) for _ in range(4)]
    h_t, c_t = h0, np.zeros((N, H))
    for t in range(T):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        h[:, t], c[:, t] = h_t, c_t
        for stacked, gate in zip(gates, step_cache[5:9]):
            stacked[:, t] = gate
    return h, (x, h0, h, c, Wx, Wh, *gates)


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward through one LSTM step.

    dh_next (N, H), dc_next (N, H): the total gradients reaching h_next and c_next.
    cache = (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next) from lstm_step_forward.
    Returns dx_t (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    tanh_c = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)   # both paths into c_next
    d_i, d_f, d_o, d_g = dc * g, dc * c_prev, dh_next * tanh_c, dc * i
    da = np.concatenate([d_i * i * (1.0 - i), d_f * f * (1.0 - f), d_o * o * (1.0 - o),
                         d_g * (1.0 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_backward(dh, cache):
    """Backpropagation through time for the LSTM (the initial cell state is zero, not learned).

    dh (N, T, H): the gradient reaching each h_t from the outputs at step t.
    cache = (x, h0, h, c, Wx, Wh, i, f, o, g) from lstm_forward.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, h0, h, c, Wx, Wh, i, f, o, g = cache
    T = x.shape[1]
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wx.shape[1])
    dh_next, dc_next = np.zeros(h0.shape), np.zeros(h0.shape)
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0
        c_prev = c[:, t - 1] if t > 0 else np.zeros(h0.shape)
        step_cache = (x[:, t], h_prev, c_prev, Wx, Wh, i[:, t], f[:, t], o[:, t], g[:, t], c[:, t])
        dx[:, t], dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_next, dc_next,
                                                                            step_cache)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db
