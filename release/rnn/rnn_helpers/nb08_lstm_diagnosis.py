"""Notebook 08 (LSTM): the mistake in your lstm_step_backward or lstm_backward, read from numerical
gradients, for the message of a failed visible check."""
import numpy as np

from .numerics import numerical_gradient, rel_error


# what each gate's block of db tells, when it is the only block that disagrees with the numerical gradient
_ONE_GATE_OFF = {
    "i": ("the input gate i", "in the cell update c_t = f * c_{t-1} + i * g, i multiplies g, so di = dc * g"),
    "f": ("the forget gate f", "in the cell update c_t = f * c_{t-1} + i * g, f multiplies the old cell state, "
                               "so df = dc * c_prev"),
    "o": ("the output gate o", "o multiplies tanh(c_next) in h_next = o * tanh(c_next), so do = dh_next * tanh(c_next)"),
    "g": ("the candidate g", "g = tanh(a_g) is the one block through a tanh, so da_g = dg * (1 - g**2), not the "
                             "sigmoid's g * (1 - g)"),
}


def lstm_step_backward_diagnosis(step_backward, step_forward):
    """The mistake in your lstm_step_backward, read from numerical gradients of your lstm_step_forward:
    a sentence for the message of a failed check ("" when none of the patterns below fits).

    One step (N = 2, D = 3, H = 2) is sent back three times: with the gradient arriving at c_next only,
    at h_next only, then at both. Each time your dc_prev, and your db block by block (the pre-activation
    gradients of the gates i, f, o, g, summed over the batch), are compared with their numerical values.
    """
    try:
        return _lstm_step_backward_diagnosis(step_backward, step_forward)
    except Exception:   # a message is being written: an error of yours here must not replace it
        return ""


def _lstm_step_backward_diagnosis(step_backward, step_forward):
    rng = np.random.default_rng(83)
    arrays = [rng.standard_normal(shape) for shape in [(2, 3), (2, 2), (2, 2), (3, 8), (2, 8), (8,)]]
    c_prev, b = arrays[2], arrays[5]
    cache = step_forward(*arrays)[2]
    c_next = cache[9]
    both = lambda: np.stack(step_forward(*arrays)[:2])
    with np.errstate(all="ignore"):
        def sent_back(dh_next, dc_next):   # (your dc_prev, numerical), (your db, numerical)
            grads = step_backward(dh_next.copy(), dc_next.copy(), cache)
            upstream = np.stack([dh_next, dc_next])
            return ((np.asarray(grads[2], dtype=float), numerical_gradient(both, c_prev, upstream)),
                    (np.asarray(grads[5], dtype=float), numerical_gradient(both, b, upstream)))
        zeros, dh_next, dc_next = np.zeros((2, 2)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))

        (mine, numeric), _ = sent_back(zeros, dc_next)
        if mine.shape == numeric.shape and rel_error(mine, numeric) > 1e-6 and np.allclose(mine, dc_next):
            return ("With a gradient at c_next only, your dc_prev is dc_next itself: the forget gate is missing. The "
                    "cell update is c_t = f * c_{t-1} + i * g, so the gradient goes back along the cell state as "
                    "dc_prev = dc * f.")
        (mine, numeric), _ = sent_back(dh_next, zeros)
        if mine.shape == numeric.shape and rel_error(mine, numeric) > 1e-6:
            if np.allclose(mine, 0):
                return ("With a gradient at h_next only, your dc_prev is zero: dc is dc_next alone. But "
                        "h_next = o * tanh(c_next) reads c_next, so dh_next reaches the cell state too: "
                        "dc = dc_next + dh_next * o * (1 - tanh(c_next)**2).")
            tanh_slope = 1 - np.tanh(c_next) ** 2
            if np.allclose(mine, numeric * (1 - np.tanh(c_prev) ** 2) / tanh_slope):
                return ("The tanh derivative on the path h_next = o * tanh(c_next) is taken at c_prev: it "
                        "belongs to the cell state inside that tanh, c_next.")
            if np.allclose(mine, numeric * (1 - c_next**2) / tanh_slope):
                return ("The tanh derivative on the path h_next = o * tanh(c_next) is written 1 - c_next**2: "
                        "1 - y**2 holds for y = tanh(c_next), the tanh's output, so it is 1 - tanh(c_next)**2.")
        _, (mine, numeric) = sent_back(dh_next, dc_next)
        if mine.shape != numeric.shape:
            return ""
        blocks = lambda a: dict(zip("ifog", np.split(a, 4)))
        mine, numeric = blocks(mine), blocks(numeric)
        off = [gate for gate in "ifog" if rel_error(mine[gate], numeric[gate]) > 1e-6]
        if off == ["o", "g"] and np.allclose(mine["o"], numeric["g"]) and np.allclose(mine["g"], numeric["o"]):
            return ("The blocks of the output gate and the candidate are swapped: stack da in the order of the "
                    "forward pass, i, f, o, g, so that each block of Wx, Wh and b gets its own gate's gradient.")
        if len(off) == 1:
            gate, why = _ONE_GATE_OFF[off[0]]
            return f"Of the four gates, only {gate} has a wrong gradient (its block of db): {why}."
        if off == ["i", "f", "o"]:
            return ("The gradients of the three sigmoid gates i, f, o are off (their blocks of db), the candidate's is "
                    "right: a sigmoid's derivative is s * (1 - s) written with the gate's output s, e.g. i * (1 - i).")
        if off:
            return f"The gradients of the gates {', '.join(off)} are off (their blocks of db)."
    return ""


def lstm_backward_diagnosis(backward, forward):
    """The mistake in your lstm_backward, read from numerical gradients of your lstm_forward: a sentence
    for the message of a failed check ("" when all of these pass).

    Sequences of one step, then of two steps with the links between the steps cut and restored one at a
    time: Wh = 0 cuts the path from h_0 into step 1, a forget gate shut (bias -60) the path along the cell
    state. N = 2, D = 2, H = 2; each time every gradient is compared with its numerical value.
    """
    try:
        return _lstm_backward_diagnosis(backward, forward)
    except Exception:   # a message is being written: an error of yours here must not replace it
        return ""


def _lstm_backward_diagnosis(backward, forward):
    rng = np.random.default_rng(84)
    x, h0, dh = rng.standard_normal((2, 2, 2)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2, 2))
    Wx, Wh, b = rng.standard_normal((2, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8)
    shut = b.copy()
    shut[2:4] = -60.0   # the forget gate's block: f = 9e-27, below rounding next to the rest of c
    probes = [
        (1, Wh, b, "On a single step it is already wrong. Is the step's cache rebuilt right? At t = 0 the states "
                   "that entered the step are h0 and the zero cell state (c[:, t - 1] at t = 0 is c[:, -1], the "
                   "last cell state)."),
        (2, 0 * Wh, shut, "On two steps with no gradient passing between them (Wh = 0 and the forget gate shut) "
                          "it is wrong: the weights act at both steps, so their gradients add up over the steps "
                          "(+=, not =)."),
        (2, 0 * Wh, b, "On two steps linked only through the cell state (Wh = 0) it is wrong: the dc_prev that "
                       "step t + 1 returns is the dc_next of step t (the junction of c)."),
        (2, Wh, b, "It is right when only the cell state links the steps, wrong once h_0 feeds step 1 as well: "
                   "the dh_prev that step t + 1 returns joins dh[:, t] (the junction of h)."),
    ]
    with np.errstate(all="ignore"):
        for T, Wh_probe, b_probe, message in probes:
            arrays = [x[:, :T].copy(), h0.copy(), Wx.copy(), Wh_probe.copy(), b_probe.copy()]
            upstream = dh[:, :T].copy()
            grads = backward(upstream.copy(), forward(*arrays)[1])
            states = lambda: forward(*arrays)[0]
            for grad, array in zip(grads, arrays):
                grad = np.asarray(grad, dtype=float)
                if grad.shape != array.shape or rel_error(grad, numerical_gradient(states, array, upstream)) > 1e-6:
                    return message
    return ""
