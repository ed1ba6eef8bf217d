"""Catalogue entries for 08_lstm."""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import lstm_step_backward, lstm_step_forward

NB = "08_lstm"
STEP_FORWARD_VALUES = {"test_lstm_step_forward_h_next", "test_lstm_step_forward_c_next",
                       "test_lstm_step_forward_cache"}
STEP_ALL = {"test_lstm_step_backward_dx_t", "test_lstm_step_backward_dh_prev", "test_lstm_step_backward_dc_prev",
            "test_lstm_step_backward_dWx", "test_lstm_step_backward_dWh", "test_lstm_step_backward_db"}
STEP_WEIGHTS_AND_INPUTS = STEP_ALL - {"test_lstm_step_backward_dc_prev"}
BPTT_ALL = {"test_lstm_backward_dx", "test_lstm_backward_dh0", "test_lstm_backward_dWx",
            "test_lstm_backward_dWh", "test_lstm_backward_db"}


# Entries are pasted alone into an answer cell: each uses only numpy and the notebook's graded
# functions, so every helper is written out inside it.


# -- lstm_step_forward ------------------------------------------------------------
@mistake("lstm_step_forward", NB, breaks=STEP_FORWARD_VALUES,
         explain="the forget gate multiplies the new content g and the input gate the old cell state; the "
                 "forget gate decides how much of c_prev is kept: c_next = f * c_prev + i * g.")
def lstm_step_forward_forget_gate_on_new_content(x_t, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    i, f, o = (1 / (1 + np.exp(-a[:, k * H:(k + 1) * H])) for k in range(3))
    g = np.tanh(a[:, 3 * H:])
    c_next = i * c_prev + f * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next)


@mistake("lstm_step_forward", NB, breaks=STEP_FORWARD_VALUES,
         explain="the gates are sliced in the order i, f, g, o (PyTorch's order); this course stacks them "
                 "i, f, o, g: a[:, 2H:3H] is the output gate and a[:, 3H:] the candidate.")
def lstm_step_forward_gates_in_pytorch_order(x_t, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    i, f, o = 1 / (1 + np.exp(-a[:, :H])), 1 / (1 + np.exp(-a[:, H:2 * H])), 1 / (1 + np.exp(-a[:, 3 * H:]))
    g = np.tanh(a[:, 2 * H:3 * H])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next)


@mistake("lstm_step_forward", NB, breaks={"test_lstm_step_forward_h_next"},
         explain="h_next is o * c_next, without the tanh; the cell state is squashed before the output "
                 "gate reads it: h_next = o * tanh(c_next).")
def lstm_step_forward_no_tanh_on_cell(x_t, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    i, f, o = (1 / (1 + np.exp(-a[:, k * H:(k + 1) * H])) for k in range(3))
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    return o * c_next, c_next, (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next)


# -- lstm_forward ------------------------------------------------------------------
@mistake("lstm_forward", NB, breaks={"test_lstm_forward_h", "test_lstm_forward_cache"},
         explain="the cell state starts from h0; the initial cell state is zero (only h0 is given), so the "
                 "first step gets c_prev = np.zeros_like(h0).")
def lstm_forward_cell_starts_at_h0(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c = np.zeros((N, T, H)), np.zeros((N, T, H))
    gates = [np.zeros((N, T, H)) for _ in range(4)]
    h_t, c_t = h0, h0
    for t in range(T):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        h[:, t], c[:, t] = h_t, c_t
        for stacked, gate in zip(gates, step_cache[5:9]):
            stacked[:, t] = gate
    return h, (x, h0, h, c, Wx, Wh, *gates)


# -- lstm_step_backward --------------------------------------------------------------
@mistake("lstm_step_backward", NB, breaks=STEP_ALL,
         explain="the tanh derivative on the path h_next = o * tanh(c_next) is taken at c_prev; it belongs "
                 "to the new cell state: dc = dc_next + dh_next * o * (1 - tanh(c_next)**2).")
def lstm_step_backward_tanh_derivative_at_c_prev(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_prev) ** 2)
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), d_o * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_WEIGHTS_AND_INPUTS,
         explain="the output gate's gradient uses c_next; the output gate multiplies tanh(c_next), so "
                 "do = dh_next * tanh(c_next).")
def lstm_step_backward_output_gate_from_c(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_next) ** 2)
    d_o = dh_next * c_next
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), d_o * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_WEIGHTS_AND_INPUTS,
         explain="the sigmoid derivative is computed from the pre-activation a as a * (1 - a); it is "
                 "sigmoid(a) * (1 - sigmoid(a)), written with the gate itself: i * (1 - i), and so on.")
def lstm_step_backward_sigmoid_derivative_of_preactivation(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh          # the pre-activation, recomputed (b is not in the cache)
    a_i, a_f, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H]
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_next) ** 2)
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * a_i * (1 - a_i), dc * c_prev * a_f * (1 - a_f), d_o * a_o * (1 - a_o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_WEIGHTS_AND_INPUTS,
         explain="the gate gradients are stacked in the order i, f, g, o; da must use the order of the "
                 "forward pass, i, f, o, g, so that each slice of Wx, Wh and b gets its own gate's gradient.")
def lstm_step_backward_gate_gradients_in_wrong_order(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_next) ** 2)
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                         d_o * o * (1 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_ALL,
         explain="dc is only dc_next: the gradient from dh_next into the cell state is missing. h_next = "
                 "o * tanh(c_next) reads c_next too, so dc = dc_next + dh_next * o * (1 - tanh(c_next)**2).")
def lstm_step_backward_cell_gradient_from_dc_next_only(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), d_o * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks={"test_lstm_step_backward_dc_prev"},
         explain="dc_prev is dc itself, without the forget gate; c_next = f * c_prev + i * g, so the "
                 "gradient that goes back along the cell state is dc_prev = dc * f.")
def lstm_step_backward_dc_prev_without_forget_gate(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_next) ** 2)
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), d_o * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_ALL,
         explain="the tanh derivative on the path h_next = o * tanh(c_next) is written 1 - c_next**2, the "
                 "formula 1 - y**2 applied to tanh's input; with y the tanh's output it is 1 - tanh(c_next)**2.")
def lstm_step_backward_tanh_derivative_of_cell_input(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - c_next**2)
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), d_o * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_WEIGHTS_AND_INPUTS,
         explain="the forget gate's gradient uses c_next; the forget gate multiplies the old cell state in "
                 "c_next = f * c_prev + i * g, so df = dc * c_prev.")
def lstm_step_backward_forget_gate_from_c_next(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_next) ** 2)
    d_o = dh_next * np.tanh(c_next)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_next * f * (1 - f), d_o * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("lstm_step_backward", NB, breaks=STEP_WEIGHTS_AND_INPUTS,
         explain="the candidate g goes back through the sigmoid's derivative g * (1 - g), like the three "
                 "gates; g = tanh(a_g), so its derivative is 1 - g**2.")
def lstm_step_backward_candidate_through_sigmoid_derivative(dh_next, dc_next, cache):
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1.0 - np.tanh(c_next) ** 2)
    d_o = dh_next * np.tanh(c_next)
    gates = np.concatenate([i, f, o, g], axis=1)
    d_gates = np.concatenate([dc * g, dc * c_prev, d_o, dc * i], axis=1)
    da = d_gates * gates * (1 - gates)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


# -- lstm_backward ---------------------------------------------------------------------
@mistake("lstm_backward", NB, breaks=BPTT_ALL,
         explain="dc_next is not carried back: the cell state c_t feeds step t + 1, so the dc_prev that "
                 "step t + 1 returns must be passed as dc_next to step t (the second junction).")
def lstm_backward_dc_not_carried(dh, cache):
    x, h0, h, c, Wx, Wh, i, f, o, g = cache
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wx.shape[1])
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        h_prev, c_prev = (h[:, t - 1], c[:, t - 1]) if t > 0 else (h0, np.zeros(h0.shape))
        step_cache = (x[:, t], h_prev, c_prev, Wx, Wh, i[:, t], f[:, t], o[:, t], g[:, t], c[:, t])
        dx[:, t], dh_next, _, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_next, np.zeros(h0.shape),
                                                                      step_cache)
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_next, dWx, dWh, db


@mistake("lstm_backward", NB, breaks={"test_lstm_backward_dWx", "test_lstm_backward_dWh", "test_lstm_backward_db"},
         explain="the weight gradients are assigned at each step (dWx = ...) instead of accumulated "
                 "(dWx += ...): the same weights act at every step, so their gradient is the sum over time.")
def lstm_backward_assigned_not_accumulated(dh, cache):
    x, h0, h, c, Wx, Wh, i, f, o, g = cache
    dx = np.zeros(x.shape)
    dh_next, dc_next = np.zeros(h0.shape), np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        h_prev, c_prev = (h[:, t - 1], c[:, t - 1]) if t > 0 else (h0, np.zeros(h0.shape))
        step_cache = (x[:, t], h_prev, c_prev, Wx, Wh, i[:, t], f[:, t], o[:, t], g[:, t], c[:, t])
        dx[:, t], dh_next, dc_next, dWx, dWh, db = lstm_step_backward(dh[:, t] + dh_next, dc_next, step_cache)
    return dx, dh_next, dWx, dWh, db


@mistake("lstm_backward", NB, breaks=BPTT_ALL,
         explain="at t = 0 the cell state before the step is taken as c[:, -1], Python's last step; "
                 "the cell state that entered step 0 is the zero initial state.")
def lstm_backward_c_prev_wraps_around(dh, cache):
    x, h0, h, c, Wx, Wh, i, f, o, g = cache
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wx.shape[1])
    dh_next, dc_next = np.zeros(h0.shape), np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        h_prev = h[:, t - 1] if t > 0 else h0
        step_cache = (x[:, t], h_prev, c[:, t - 1], Wx, Wh, i[:, t], f[:, t], o[:, t], g[:, t], c[:, t])
        dx[:, t], dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_next, dc_next, step_cache)
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_next, dWx, dWh, db


@mistake("lstm_backward", NB, breaks=BPTT_ALL,
         explain="dh_next is not added at the junction of h: h_t feeds its output and step t + 1, so the "
                 "gradient reaching it is dh[:, t] + the dh_prev that step t + 1 returned.")
def lstm_backward_dh_not_carried(dh, cache):
    x, h0, h, c, Wx, Wh, i, f, o, g = cache
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wx.shape[1])
    dh_prev, dc_next = np.zeros(h0.shape), np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        h_prev, c_prev = (h[:, t - 1], c[:, t - 1]) if t > 0 else (h0, np.zeros(h0.shape))
        step_cache = (x[:, t], h_prev, c_prev, Wx, Wh, i[:, t], f[:, t], o[:, t], g[:, t], c[:, t])
        dx[:, t], dh_prev, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t], dc_next, step_cache)
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_prev, dWx, dWh, db
