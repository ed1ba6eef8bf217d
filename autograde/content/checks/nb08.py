"""Hidden checks of 08_lstm: lstm_step_forward, lstm_forward, lstm_step_backward, lstm_backward.

As in 05, each backward function is graded on the solution's caches (built with the reference
forward pass), one grade cell per returned gradient, so a wrong forward pass costs points in the
forward's cells only. ``lstm_forward`` is graded with the reference ``lstm_step_forward`` and
``lstm_backward`` with the reference ``lstm_step_backward`` (``parts``): a composite that calls a
wrong step correctly keeps its points, with a note naming the step.
"""
import numpy as np

from autograde.content import solution
from autograde.content.checking import CheckFailed, call, check_pure, check_values, reference_parts, rng_for, same
from autograde.content.checks.nb05 import ATOL, RTOL, gradient_check

# (N, T, D, H): D, H and 4H all different so that a missing or extra transpose shows, T >= 3,
# and a batch of one.
SHAPES = [(4, 5, 3, 6), (1, 3, 2, 4), (3, 4, 7, 5)]


def _weights(rng, D, H):
    """Wx (D, 4H), Wh (H, 4H), b (4H,): plain Gaussians, so that every gate sees its own slice."""
    return (rng.standard_normal((D, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.4,
            rng.standard_normal(4 * H) * 0.3)


def _step_inputs(rng, N, D, H):
    return rng.standard_normal((N, D)), np.tanh(rng.standard_normal((N, H))), rng.standard_normal((N, H))


# --------------------------------------------------------------------------
# lstm_step_forward
# --------------------------------------------------------------------------
def _step_forward_cases(name):
    rng = rng_for(name)
    return [((*_step_inputs(rng, N, D, H), *_weights(rng, D, H)), {}) for N, _, D, H in SHAPES]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _item(index):
    return lambda out: out[index] if isinstance(out, tuple) and len(out) > index else None


def lstm_step_forward_h_next(fn):
    check_values("lstm_step_forward", fn, _step_forward_cases("lstm_step_forward_h_next"), select=_first,
                 what="new hidden state h_next", rtol=RTOL, atol=ATOL)


def lstm_step_forward_c_next(fn):
    check_values("lstm_step_forward", fn, _step_forward_cases("lstm_step_forward_c_next"), select=_item(1),
                 what="new cell state c_next", rtol=RTOL, atol=ATOL)


def lstm_step_forward_cache(fn):
    check_values("lstm_step_forward", fn, _step_forward_cases("lstm_step_forward_cache"), select=_item(2),
                 what="cache (x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next)", rtol=RTOL, atol=ATOL)


def lstm_step_forward_pure(fn):
    check_pure("lstm_step_forward", fn, _step_forward_cases("lstm_step_forward_pure"),
               ["x_t", "h_prev", "c_prev", "Wx", "Wh", "b"])


# --------------------------------------------------------------------------
# lstm_forward
# --------------------------------------------------------------------------
def _forward_cases(name):
    rng = rng_for(name)
    return [((rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H))), *_weights(rng, D, H)), {})
            for N, T, D, H in SHAPES]


def lstm_forward_h(fn):
    check_values("lstm_forward", fn, _forward_cases("lstm_forward_h"), select=_first, what="hidden states h",
                 parts=("lstm_step_forward",), rtol=RTOL, atol=ATOL)


def lstm_forward_cache(fn):
    check_values("lstm_forward", fn, _forward_cases("lstm_forward_cache"), select=_item(1),
                 what="cache (x, h0, h, c, Wx, Wh, i, f, o, g)", parts=("lstm_step_forward",),
                 rtol=RTOL, atol=ATOL)


def lstm_forward_pure(fn):
    check_pure("lstm_forward", fn, _forward_cases("lstm_forward_pure"), ["x", "h0", "Wx", "Wh", "b"],
               parts=("lstm_step_forward",))


# --------------------------------------------------------------------------
# lstm_step_backward
# --------------------------------------------------------------------------
def _step_backward_cases(name):
    rng = rng_for(name)
    cases = []
    for N, _, D, H in SHAPES:
        _, _, cache = solution.lstm_step_forward(*_step_inputs(rng, N, D, H), *_weights(rng, D, H))
        cases.append(((rng.standard_normal((N, H)), rng.standard_normal((N, H)), cache), {}))
    return cases


STEP_OUTPUTS = ["dx_t", "dh_prev", "dc_prev", "dWx", "dWh", "db"]
GATES = ("the input gate i", "the forget gate f", "the output gate o", "the candidate g")


def _gates_off(fn, out, reference):
    """Which gates' pre-activation gradients da are wrong, read from the blocks of the returned db (4H,)
    (its sum over the batch), for a mistake the catalogue does not know."""
    db = out[STEP_OUTPUTS.index("db")] if isinstance(out, tuple) and len(out) == len(STEP_OUTPUTS) else None
    want = reference[STEP_OUTPUTS.index("db")]
    if not isinstance(db, np.ndarray) or db.shape != want.shape:
        return ""
    off = [gate for gate, got, right in zip(GATES, np.split(db, 4), np.split(want, 4))
           if not same(got, right, RTOL, ATOL)]
    if not off:
        return ("; db, the gates' gradients da summed over the batch, is right, so the mistake is in this "
                "gradient's own line")
    return (f"; the blocks of db show which gates' gradients da are wrong: {', '.join(off)}"
            + (" (the others are right)" if len(off) < len(GATES) else ""))


def _step_check(slot):
    return gradient_check("lstm_step_backward", _step_backward_cases, STEP_OUTPUTS, slot, detail=_gates_off)


lstm_step_backward_dx_t = _step_check("dx_t")
lstm_step_backward_dh_prev = _step_check("dh_prev")
lstm_step_backward_dc_prev = _step_check("dc_prev")
lstm_step_backward_dWx = _step_check("dWx")
lstm_step_backward_dWh = _step_check("dWh")
lstm_step_backward_db = _step_check("db")


def lstm_step_backward_pure(fn):
    check_pure("lstm_step_backward", fn, _step_backward_cases("lstm_step_backward_pure"),
               ["dh_next", "dc_next", "cache"])


# --------------------------------------------------------------------------
# lstm_backward
# --------------------------------------------------------------------------
def _bptt_cases(name):
    rng = rng_for(name)
    cases = []
    for N, T, D, H in SHAPES:
        _, cache = solution.lstm_forward(rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H))),
                                         *_weights(rng, D, H))
        cases.append(((rng.standard_normal((N, T, H)), cache), {}))
    return cases


BPTT_OUTPUTS = ["dx", "dh0", "dWx", "dWh", "db"]


def _links_off(fn, out, reference):
    """For a mistake the catalogue does not know: which link between the steps ``lstm_backward`` breaks.
    It is compared with the reference on one step, then on two steps linked by nothing (Wh = 0 and the
    forget gate shut), by the cell state only (Wh = 0), and by both states; the first that differs says."""
    rng = rng_for("lstm_backward_links")
    N, D, H = 3, 2, 4
    x, h0, dh = rng.standard_normal((N, 2, D)), np.tanh(rng.standard_normal((N, H))), rng.standard_normal((N, 2, H))
    Wx, Wh, b = _weights(rng, D, H)
    shut = b.copy()
    shut[H:2 * H] = -60.0   # f = 9e-27: no gradient along the cell state
    probes = [(1, Wh, b, "on a single step, where nothing passes between steps, it differs already: is the "
                         "step's cache at t = 0 built from h0 and the zero cell state?"),
              (2, 0 * Wh, shut, "on two steps with nothing passing between them (Wh = 0, the forget gate shut) it "
                                "differs: the weight gradients are sums over the steps"),
              (2, 0 * Wh, b, "on two steps linked only through the cell state (Wh = 0) it differs: the dc_prev that "
                             "step t + 1 returns is the dc_next of step t"),
              (2, Wh, b, "it is right while only the cell state links the steps, wrong once h_0 feeds step 1: the "
                         "dh_prev that step t + 1 returns joins dh[:, t]")]
    for T, Wh_probe, b_probe, hint in probes:
        _, cache = solution.lstm_forward(x[:, :T], h0, Wx, Wh_probe, b_probe)
        want = solution.lstm_backward(dh[:, :T].copy(), cache)
        try:
            with reference_parts(fn, ("lstm_step_backward",)):
                got = call("lstm_backward", fn, dh[:, :T], cache)
        except CheckFailed:
            return ""
        if not same(got, want, RTOL, ATOL):
            return f"; {hint}"
    return ""


def _bptt_check(slot):
    return gradient_check("lstm_backward", _bptt_cases, BPTT_OUTPUTS, slot, parts=("lstm_step_backward",),
                          detail=_links_off)


lstm_backward_dx = _bptt_check("dx")
lstm_backward_dh0 = _bptt_check("dh0")
lstm_backward_dWx = _bptt_check("dWx")
lstm_backward_dWh = _bptt_check("dWh")
lstm_backward_db = _bptt_check("db")


def lstm_backward_pure(fn):
    check_pure("lstm_backward", fn, _bptt_cases("lstm_backward_pure"), ["dh", "cache"],
               parts=("lstm_step_backward",))
