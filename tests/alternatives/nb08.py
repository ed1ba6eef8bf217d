"""Correct answers to 08_lstm written differently from the source notebook."""
import numpy as np

NOTEBOOK = "08_lstm"


def lstm_step_forward__per_gate_matrices(x_t, h_prev, c_prev, Wx, Wh, b):
    # one weight matrix per gate, cut from the stacked ones; the cache still holds the stacked Wx, Wh
    H = h_prev.shape[1]
    blocks = [slice(k * H, (k + 1) * H) for k in range(4)]
    Wx_i, Wx_f, Wx_o, Wx_g = (Wx[:, s] for s in blocks)
    Wh_i, Wh_f, Wh_o, Wh_g = (Wh[:, s] for s in blocks)
    b_i, b_f, b_o, b_g = (b[s] for s in blocks)
    sigmoid = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))
    i = sigmoid(x_t @ Wx_i + h_prev @ Wh_i + b_i)
    f = sigmoid(x_t @ Wx_f + h_prev @ Wh_f + b_f)
    o = sigmoid(x_t @ Wx_o + h_prev @ Wh_o + b_o)
    g = np.tanh(x_t @ Wx_g + h_prev @ Wh_g + b_g)
    c_new = c_prev * f + g * i
    h_new = np.tanh(c_new) * o
    return h_new, c_new, (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_new)


def lstm_forward__list_of_steps(x, h0, Wx, Wh, b):
    # collect each step's results in lists, stack them along the time axis at the end
    hs, cs, gates = [], [], {k: [] for k in range(5, 9)}
    h_t, c_t = h0, np.zeros_like(h0, dtype=float)
    for t in range(x.shape[1]):
        h_t, c_t, step = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)  # noqa: F821 (the notebook's)
        hs.append(h_t)
        cs.append(c_t)
        for k in gates:
            gates[k].append(step[k])
    h = np.stack(hs, axis=1)
    return h, (x, h0, h, np.stack(cs, axis=1), Wx, Wh, *(np.stack(gates[k], axis=1) for k in range(5, 9)))


def lstm_step_backward__per_gate_einsum(dh_next, dc_next, cache):
    # each gate's gradient goes back through its own block of the weights, then the blocks are joined
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    H = h_prev.shape[1]
    squashed = np.tanh(c_next)
    dc = dh_next * o * (1.0 - squashed * squashed) + dc_next
    blocks = [dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dh_next * squashed * o * (1.0 - o),
              dc * i * (1.0 - g * g)]
    dx_t = sum(np.einsum("nh,dh->nd", d, Wx[:, k * H:(k + 1) * H]) for k, d in enumerate(blocks))
    dh_prev = sum(np.einsum("nh,kh->nk", d, Wh[:, k * H:(k + 1) * H]) for k, d in enumerate(blocks))
    dWx = np.concatenate([np.einsum("nd,nh->dh", x_t, d) for d in blocks], axis=1)
    dWh = np.concatenate([np.einsum("nk,nh->kh", h_prev, d) for d in blocks], axis=1)
    db = np.concatenate([d.sum(axis=0) for d in blocks])
    return dx_t, dh_prev, f * dc, dWx, dWh, db


def lstm_backward__inlined_vectorised(dh, cache):
    # the step's backward written into the loop; the weight gradients computed once, after the loop,
    # from the stacked da of every step (one matrix product over batch and time)
    x, h0, h, c, Wx, Wh, i, f, o, g = cache
    N, T, D = x.shape
    H = h0.shape[1]
    c_before = np.concatenate([np.zeros((N, 1, H)), c[:, :-1]], axis=1)
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    tanh_c = np.tanh(c)
    da = np.zeros((N, T, 4 * H))
    dh_carry, dc_carry = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dh_t = dh[:, t] + dh_carry
        dc_t = dc_carry + dh_t * o[:, t] * (1 - tanh_c[:, t] ** 2)
        da[:, t] = np.hstack([dc_t * g[:, t] * i[:, t] * (1 - i[:, t]),
                              dc_t * c_before[:, t] * f[:, t] * (1 - f[:, t]),
                              dh_t * tanh_c[:, t] * o[:, t] * (1 - o[:, t]),
                              dc_t * i[:, t] * (1 - g[:, t] ** 2)])
        dh_carry, dc_carry = da[:, t] @ Wh.T, dc_t * f[:, t]
    flat = da.reshape(N * T, 4 * H)
    dWx = x.reshape(N * T, D).T @ flat
    dWh = h_before.reshape(N * T, H).T @ flat
    return da @ Wx.T, dh_carry, dWx, dWh, flat.sum(axis=0)


def lstm_forward__self_contained(x, h0, Wx, Wh, b):
    # the step written into the loop, gates cut from the stacked pre-activation of every example at once
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c = np.empty((N, T, H)), np.empty((N, T, H))
    i, f, o, g = (np.empty((N, T, H)) for _ in range(4))
    h_t, c_t = h0, np.zeros((N, H))
    for t in range(T):
        a = np.einsum("nd,dk->nk", x[:, t], Wx) + np.einsum("nh,hk->nk", h_t, Wh) + b
        i[:, t], f[:, t], o[:, t] = (1.0 / (1.0 + np.exp(-a[:, k * H:(k + 1) * H])) for k in range(3))
        g[:, t] = np.tanh(a[:, 3 * H:])
        c_t = f[:, t] * c_t + i[:, t] * g[:, t]
        h_t = o[:, t] * np.tanh(c_t)
        h[:, t], c[:, t] = h_t, c_t
    return h, (x, h0, h, c, Wx, Wh, i, f, o, g)
