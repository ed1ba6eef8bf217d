"""Proofs of the LSTM part of the solution module (08_lstm) that do not trust its own code:
the forward step against the equations written per unit, every gradient against centred finite
differences in float64 (relative error below 1e-7), and the cache forms the hidden checks rely on."""
import math

import numpy as np
import pytest

from autograde.content import solution as S
from autograde.content.checking import CheckFailed, KnownMistake
from autograde.content.checks import nb08
from tests.test_solution import numeric_grad, rel_err

RNG = np.random.default_rng(808)
N, T, D, H = 3, 5, 4, 6   # D, H and 4H all different


def weights(scale=0.5):
    return (RNG.standard_normal((D, 4 * H)) * scale, RNG.standard_normal((H, 4 * H)) * scale,
            RNG.standard_normal(4 * H) * 0.3)


def test_step_forward_matches_the_equations_unit_by_unit():
    x_t, h_prev, c_prev = RNG.standard_normal((N, D)), RNG.standard_normal((N, H)), RNG.standard_normal((N, H))
    Wx, Wh, b = weights()
    h_next, c_next, cache = S.lstm_step_forward(x_t, h_prev, c_prev, Wx, Wh, b)
    sig = lambda z: 1.0 / (1.0 + math.exp(-z))
    for n in range(N):
        for j in range(H):
            pre = [sum(x_t[n, d] * Wx[d, k * H + j] for d in range(D)) + sum(h_prev[n, m] * Wh[m, k * H + j]
                   for m in range(H)) + b[k * H + j] for k in range(4)]   # blocks i, f, o, g
            i, f, o, g = sig(pre[0]), sig(pre[1]), sig(pre[2]), math.tanh(pre[3])
            c = f * c_prev[n, j] + i * g
            assert math.isclose(c_next[n, j], c, rel_tol=1e-12, abs_tol=1e-14)
            assert math.isclose(h_next[n, j], o * math.tanh(c), rel_tol=1e-12, abs_tol=1e-14)
            assert np.allclose([cache[k][n, j] for k in range(5, 9)], [i, f, o, g], rtol=1e-12, atol=1e-14)
    assert all(cache[k] is v for k, v in enumerate((x_t, h_prev, c_prev, Wx, Wh)))
    assert cache[9] is c_next


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        assert np.allclose(S.sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_forward_starts_from_a_zero_cell_state_and_caches_every_step():
    x, h0 = RNG.standard_normal((N, T, D)), RNG.standard_normal((N, H))
    Wx, Wh, b = weights()
    h, cache = S.lstm_forward(x, h0, Wx, Wh, b)
    assert len(cache) == 10 and cache[0] is x and cache[1] is h0 and cache[2] is h
    h_t, c_t = h0, np.zeros((N, H))
    for t in range(T):
        h_t, c_t, step = S.lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        assert np.array_equal(h[:, t], h_t) and np.array_equal(cache[3][:, t], c_t)
        for k in range(4):
            assert np.array_equal(cache[6 + k][:, t], step[5 + k])


def test_step_backward_matches_finite_differences():
    arrays = [RNG.standard_normal((N, D)), RNG.standard_normal((N, H)), RNG.standard_normal((N, H)), *weights()]
    dh, dc = RNG.standard_normal((N, H)), RNG.standard_normal((N, H))
    loss = lambda: float(np.sum(S.lstm_step_forward(*arrays)[0] * dh) + np.sum(S.lstm_step_forward(*arrays)[1] * dc))
    grads = S.lstm_step_backward(dh, dc, S.lstm_step_forward(*arrays)[2])
    for grad, array in zip(grads, arrays):  # dx_t, dh_prev, dc_prev, dWx, dWh, db
        assert grad.shape == array.shape
        assert rel_err(grad, numeric_grad(loss, array)) < 1e-7


def test_backward_matches_finite_differences_through_both_states():
    x, h0 = RNG.standard_normal((N, T, D)), RNG.standard_normal((N, H))
    arrays = [x, h0, *weights()]
    dh = RNG.standard_normal((N, T, H))
    loss = lambda: float(np.sum(S.lstm_forward(*arrays)[0] * dh))
    grads = S.lstm_backward(dh, S.lstm_forward(*arrays)[1])
    for grad, array in zip(grads, arrays):  # dx, dh0, dWx, dWh, db
        assert grad.shape == array.shape
        assert rel_err(grad, numeric_grad(loss, array)) < 1e-7


def test_backward_functions_leave_their_arguments_alone():
    x, h0 = RNG.standard_normal((N, T, D)), RNG.standard_normal((N, H))
    _, cache = S.lstm_forward(x, h0, *weights())
    dh = RNG.standard_normal((N, T, H))
    copies = [a.copy() for a in (dh,) + cache]
    S.lstm_backward(dh, cache)
    assert all(np.array_equal(a, b) for a, b in zip(copies, (dh,) + cache))


def input_gate_from_itself(dh_next, dc_next, cache):
    """A mistake the catalogue does not know: di = dc * i instead of dc * g."""
    x_t, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    dc = dc_next + dh_next * o * (1 - np.tanh(c_next) ** 2)
    da = np.concatenate([dc * i * i * (1 - i), dc * c_prev * f * (1 - f), dh_next * np.tanh(c_next) * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def dx_t_doubled(dh_next, dc_next, cache):
    dx_t, *rest = S.lstm_step_backward(dh_next, dc_next, cache)
    return (2 * dx_t, *rest)


@pytest.mark.parametrize("check", [nb08.lstm_step_backward_dx_t, nb08.lstm_step_backward_dWh,
                                   nb08.lstm_step_backward_db])
def test_hidden_checks_name_the_gate_of_a_mistake_outside_the_catalogue(check):
    """Without a catalogue entry to match, the hidden checks of lstm_step_backward read the returned db
    block by block (one block per gate) and say which gates' pre-activation gradients are wrong."""
    wrong_gate = r"gradients da are wrong: the input gate i \(the others are right\)"
    with pytest.raises(CheckFailed, match=wrong_gate) as failed:
        check(input_gate_from_itself)
    assert not isinstance(failed.value, KnownMistake)


def test_hidden_checks_say_when_every_gate_is_right():
    with pytest.raises(CheckFailed, match="db, the gates' gradients da summed over the batch, is right, so the mistake "
                                          "is in this gradient's own line"):
        nb08.lstm_step_backward_dx_t(dx_t_doubled)
    nb08.lstm_step_backward_db(dx_t_doubled)


def lstm_backward_with(dc_factor, dh_factor):
    """BPTT with the carried gradients scaled: a forget gate applied twice to dc (dc_factor = f), a
    junction of h at half weight (dh_factor = 0.5): mistakes the catalogue does not know."""
    def lstm_backward(dh, cache):
        x, h0, h, c, Wx, Wh, i, f, o, g = cache
        dx, dWx, dWh, db = np.zeros(x.shape), np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wx.shape[1])
        dh_next, dc_next = np.zeros(h0.shape), np.zeros(h0.shape)
        for t in reversed(range(x.shape[1])):
            h_prev, c_prev = (h[:, t - 1], c[:, t - 1]) if t > 0 else (h0, np.zeros(h0.shape))
            step = (x[:, t], h_prev, c_prev, Wx, Wh, i[:, t], f[:, t], o[:, t], g[:, t], c[:, t])
            dx[:, t], dh_prev, dc_prev, dWx_t, dWh_t, db_t = S.lstm_step_backward(dh[:, t] + dh_next, dc_next, step)
            dh_next, dc_next = dh_factor * dh_prev, dc_factor(f[:, t]) * dc_prev
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        return dx, dh_next / dh_factor, dWx, dWh, db
    return lstm_backward


@pytest.mark.parametrize("wrong,link", [
    (lstm_backward_with(lambda f: f, 1.0), "linked only through the cell state"),
    (lstm_backward_with(lambda f: 1.0, 0.5), "wrong once h_0 feeds step 1"),
])
def test_hidden_checks_of_lstm_backward_name_the_broken_link(wrong, link):
    """Without a catalogue entry to match, the hidden checks of lstm_backward compare it with the reference
    on sequences whose steps are linked by nothing, by the cell state only, then by both states."""
    with pytest.raises(CheckFailed, match=link) as failed:
        nb08.lstm_backward_dWx(wrong)
    assert not isinstance(failed.value, KnownMistake)
