"""Proofs of the LSTM part of the solution module (08_lstm) that do not trust its own code:
the forward step against the equations written per unit, every gradient against centred finite
differences in float64 (relative error below 1e-7), and the cache forms the hidden checks rely on."""
import math

import numpy as np

from autograde import solution as S
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
