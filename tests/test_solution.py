"""Proofs of the solution module that do not trust its own code: gradients against centred
finite differences in float64, forward passes against naive loops over examples and steps,
and the numerical edge cases the course promises students."""
import math
import warnings

import numpy as np
import pytest

from autograde.content import solution as S

RNG = np.random.default_rng(1234)
N, T, D, H, V = 3, 5, 4, 6, 7


def numeric_grad(f, x, step=1e-5):
    """d f() / d x for a scalar f, by centred differences, nudging x in place."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + step
        plus = f()
        x[i] = keep - step
        minus = f()
        x[i] = keep
        grad[i] = (plus - minus) / (2 * step)
    return grad


def rel_err(a, b):
    """||a - b|| / (||a|| + ||b||): entries near zero cannot inflate it, a wrong entry still shows."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def params(scale=0.5, d=D):
    return {"Wxh": RNG.standard_normal((d, H)) * scale, "Whh": RNG.standard_normal((H, H)) * scale,
            "bh": RNG.standard_normal(H) * 0.1, "Why": RNG.standard_normal((H, V)) * scale,
            "by": RNG.standard_normal(V) * 0.1}


# ---------------------------------------------------------------- forward passes
def test_rnn_forward_matches_a_loop_over_examples_and_steps():
    p, x, h0 = params(), RNG.standard_normal((N, T, D)), RNG.standard_normal((N, H))
    h, cache = S.rnn_forward(x, h0, p["Wxh"], p["Whh"], p["bh"])
    for n in range(N):
        state = h0[n]
        for t in range(T):
            state = np.array([math.tanh(sum(x[n, t, d] * p["Wxh"][d, j] for d in range(D))
                                        + sum(state[k] * p["Whh"][k, j] for k in range(H)) + p["bh"][j])
                              for j in range(H)])
            assert np.allclose(h[n, t], state, rtol=1e-12, atol=1e-14)
    assert cache[0] is x and cache[1] is h0 and cache[2] is h


def test_step_forward_returns_the_cache_in_the_spec_order():
    p, x_t, h_prev = params(), RNG.standard_normal((N, D)), RNG.standard_normal((N, H))
    h_next, cache = S.rnn_step_forward(x_t, h_prev, p["Wxh"], p["Whh"], p["bh"])
    assert [c is v for c, v in zip(cache, (x_t, h_prev, h_next, p["Wxh"], p["Whh"]))] == [True] * 5


def test_output_forward_and_softmax_match_loops():
    p, h = params(), RNG.standard_normal((N, T, H))
    logits = S.output_forward(h, p["Why"], p["by"])
    probs = S.softmax(logits)
    for n in range(N):
        for t in range(T):
            row = [sum(h[n, t, k] * p["Why"][k, v] for k in range(H)) + p["by"][v] for v in range(V)]
            assert np.allclose(logits[n, t], row, rtol=1e-12)
            total = sum(math.exp(r) for r in row)
            assert np.allclose(probs[n, t], [math.exp(r) / total for r in row], rtol=1e-12)
            assert np.allclose(S.log_softmax(logits)[n, t], [r - math.log(total) for r in row], rtol=1e-12)


def test_cross_entropy_matches_a_loop_with_mask():
    logits, targets = RNG.standard_normal((N, T, V)), RNG.integers(0, V, (N, T))
    mask = (RNG.random((N, T)) > 0.3).astype(float)
    total = 0.0
    for n in range(N):
        for t in range(T):
            row = logits[n, t]
            log_z = math.log(sum(math.exp(r) for r in row))
            total += mask[n, t] * -(row[targets[n, t]] - log_z)
    assert S.cross_entropy(logits, targets, mask) == pytest.approx(total / N, rel=1e-12)
    assert S.cross_entropy(logits, targets) == pytest.approx(S.cross_entropy(logits, targets, np.ones((N, T))))
    assert isinstance(S.cross_entropy(logits, targets), float)


# ---------------------------------------------------------------- numerical edge cases
def test_softmax_and_log_softmax_on_extreme_rows_have_no_nan_inf_or_warning():
    z = np.array([[1000.0, 999.0], [0.0, 1.0], [1000.0, 0.0], [-1000.0, -1000.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        p, log_p = S.softmax(z), S.log_softmax(z)
    e = math.exp(-1)
    assert np.allclose(p[0], [1 / (1 + e), e / (1 + e)]) and np.allclose(p[1], p[0][::-1])
    assert np.allclose(p[2], [1.0, 0.0]) and np.allclose(p[3], [0.5, 0.5])
    assert np.all(np.isfinite(log_p)) and log_p[2, 1] == pytest.approx(-1000.0)
    assert np.allclose(S.softmax(z[None, :, None, :])[0, :, 0], p)  # any leading shape


def test_fresh_model_loss_is_T_ln_V_per_sequence():
    vocab, hidden, steps, batch = 27, 50, 12, 64
    p = S.init_params(vocab, hidden, np.random.default_rng(0), scale=1e-3)
    ids = np.random.default_rng(1).integers(0, vocab, (batch, steps + 1))
    loss, _, _ = S.loss_and_gradients(p, ids[:, :-1], ids[:, 1:])
    assert loss == pytest.approx(steps * math.log(vocab), rel=1e-3)


def test_impulse_response_of_the_iir_filter():
    assert np.allclose(S.impulse_response(-0.9, 4), [1, -0.9, 0.81, -0.729], rtol=0, atol=1e-15)
    assert np.allclose(S.impulse_response(1.1, 30), 1.1 ** np.arange(30))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(S.impulse_response(10.0, 400)[-1])  # explodes quietly


def test_linear_recurrence_and_spectral_radius():
    angle = 0.3
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    assert S.spectral_radius(0.9 * rotation) == pytest.approx(0.9)  # complex eigenvalues
    assert np.allclose(S.linear_recurrence_norms(0.9 * rotation, np.array([3.0, 4.0]), 5), 5 * 0.9 ** np.arange(5))
    shear = np.array([[0.5, 10.0], [0.0, 0.5]])  # non-normal: radius 0.5, but norms grow first
    norms = S.linear_recurrence_norms(shear, np.array([1.0, 1.0]), 40)
    assert S.spectral_radius(shear) == pytest.approx(0.5) and norms[1] > norms[0] and norms[-1] < 1e-3


# ---------------------------------------------------------------- gradients
def test_rnn_step_backward_against_finite_differences():
    p = params()
    x_t, h_prev, dh_next = RNG.standard_normal((N, D)), RNG.standard_normal((N, H)), RNG.standard_normal((N, H))
    inputs = {"x_t": x_t, "h_prev": h_prev, "Wxh": p["Wxh"], "Whh": p["Whh"], "bh": p["bh"]}
    f = lambda: np.sum(S.rnn_step_forward(**inputs)[0] * dh_next)
    _, cache = S.rnn_step_forward(**inputs)
    grads = dict(zip(["x_t", "h_prev", "Wxh", "Whh", "bh"], S.rnn_step_backward(dh_next, cache)))
    for name, value in inputs.items():
        assert rel_err(grads[name], numeric_grad(f, value)) < 1e-7, name


def test_rnn_backward_against_finite_differences():
    p = params()
    x, h0, dh = RNG.standard_normal((N, T, D)), RNG.standard_normal((N, H)), RNG.standard_normal((N, T, H))
    inputs = {"x": x, "h0": h0, "Wxh": p["Wxh"], "Whh": p["Whh"], "bh": p["bh"]}
    f = lambda: np.sum(S.rnn_forward(**inputs)[0] * dh)
    _, cache = S.rnn_forward(**inputs)
    grads = dict(zip(["x", "h0", "Wxh", "Whh", "bh"], S.rnn_backward(dh, cache)))
    for name, value in inputs.items():
        assert rel_err(grads[name], numeric_grad(f, value)) < 1e-7, name


def test_output_backward_against_finite_differences():
    p, h, dlogits = params(), RNG.standard_normal((N, T, H)), RNG.standard_normal((N, T, V))
    inputs = {"h": h, "Why": p["Why"], "by": p["by"]}
    f = lambda: np.sum(S.output_forward(**inputs) * dlogits)
    grads = dict(zip(["h", "Why", "by"], S.output_backward(dlogits, h, p["Why"])))
    for name, value in inputs.items():
        assert rel_err(grads[name], numeric_grad(f, value)) < 1e-7, name


def test_cross_entropy_and_softmax_backward_against_finite_differences():
    logits, targets = RNG.standard_normal((N, T, V)), RNG.integers(0, V, (N, T))
    mask = (RNG.random((N, T)) > 0.3).astype(float)
    numeric = numeric_grad(lambda: S.cross_entropy(logits, targets, mask), logits)
    assert rel_err(S.cross_entropy_backward(logits, targets, mask), numeric) < 1e-7
    z, dp = RNG.standard_normal((N, V)), RNG.standard_normal((N, V))
    numeric = numeric_grad(lambda: np.sum(S.softmax(z) * dp), z)
    assert rel_err(S.softmax_backward(S.softmax(z), dp), numeric) < 1e-7


def test_loss_and_gradients_against_finite_differences():
    p = params(d=V)
    ids = RNG.integers(0, V, (N, T + 1))
    mask = (RNG.random((N, T)) > 0.2).astype(float)
    h0 = RNG.standard_normal((N, H)) * 0.5
    loss, grads, h_last = S.loss_and_gradients(p, ids[:, :-1], ids[:, 1:], mask, h0)
    for name in S.PARAM_NAMES:
        numeric = numeric_grad(lambda: S.loss_and_gradients(p, ids[:, :-1], ids[:, 1:], mask, h0)[0], p[name])
        assert rel_err(grads[name], numeric) < 1e-7, name
    h, _ = S.rnn_forward(S.one_hot(ids[:, :-1], V), h0, p["Wxh"], p["Whh"], p["bh"])
    assert np.array_equal(h_last, h[:, -1])


def test_hidden_gradient_norms_against_finite_differences():
    p, x, h0 = params(), RNG.standard_normal((2, 6, D)), RNG.standard_normal((2, H))
    h, _ = S.rnn_forward(x, h0, p["Wxh"], p["Whh"], p["bh"])
    norms = S.hidden_gradient_norms(p, x, h0)
    for t in range(6):
        h_t = h[:, t].copy()
        # L as a function of h_t: run the remaining steps from h_t, sum the last state
        rest = lambda: np.sum(S.rnn_forward(x[:, t + 1:], h_t, p["Wxh"], p["Whh"], p["bh"])[0][:, -1]) \
            if t < 5 else np.sum(h_t)
        assert norms[t] == pytest.approx(np.linalg.norm(numeric_grad(rest, h_t)), rel=1e-7)


# ---------------------------------------------------------------- data and training pieces
def test_vocab_encoding_padding_and_shift():
    chars, char_to_id = S.build_vocab(["bob", "ann"])
    assert chars == ["\n", "a", "b", "n", "o"] and char_to_id["o"] == 4
    encoded = [S.encode("bob", char_to_id), S.encode("an", char_to_id)]
    assert encoded == [[0, 2, 4, 2, 0], [0, 1, 3, 0]]
    ids, lengths = S.pad_batch(encoded)
    assert ids.tolist() == [[0, 2, 4, 2, 0], [0, 1, 3, 0, 0]] and lengths.tolist() == [5, 4]
    inputs, targets, mask = S.shift_labels(ids, lengths)
    assert inputs.tolist() == [[0, 2, 4, 2], [0, 1, 3, 0]]
    assert targets.tolist() == [[2, 4, 2, 0], [1, 3, 0, 0]]
    assert mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert S.one_hot(np.array([[2, 0]]), 3).tolist() == [[[0, 0, 1], [1, 0, 0]]]


def test_clipping_and_adagrad():
    grads = {"a": np.array([3.0, -4.0]), "b": np.array([[12.0]])}
    clipped, norm = S.clip_by_global_norm(grads, 6.5)
    assert norm == pytest.approx(13.0) and np.allclose(clipped["a"], [1.5, -2.0]) and grads["a"][0] == 3.0
    same, _ = S.clip_by_global_norm(grads, 20.0)
    assert np.array_equal(same["b"], grads["b"])
    assert S.clip_gradients(grads, 3.5)["a"].tolist() == [3.0, -3.5] and grads["a"][1] == -4.0
    params_, memory = {"a": np.array([1.0, 1.0])}, {"a": np.array([0.0, 5.0])}
    before = params_["a"]
    assert S.adagrad_update(params_, {"a": np.array([2.0, -2.0])}, memory, lr=0.1) is None
    assert params_["a"] is before and np.allclose(memory["a"], [4.0, 9.0])
    assert np.allclose(params_["a"], [1 - 0.1 * 2 / 2, 1 + 0.1 * 2 / 3])


def test_sample_follows_the_model_distribution_and_stops_at_the_boundary():
    p = params(d=V)
    rng = np.random.default_rng(7)
    h0 = np.zeros(H)
    first = [S.sample(p, h0, 3, 1, rng, temperature=0.7)[0] for _ in range(20000)]
    h1 = np.tanh(p["Wxh"][3] + p["bh"])
    expected = S.softmax((h1 @ p["Why"] + p["by"]) / 0.7)
    assert np.allclose(np.bincount(first, minlength=V) / len(first), expected, atol=0.015)
    for _ in range(50):
        drawn = S.sample(p, h0, 0, 30, rng)
        assert len(drawn) <= 30 and (0 not in drawn[:-1]) and all(isinstance(i, int) for i in drawn)


def test_train_step_lowers_the_loss_on_a_fixed_batch():
    p = S.init_params(V, H, np.random.default_rng(2), scale=0.1)
    memory = {k: np.zeros_like(v) for k, v in p.items()}
    ids = RNG.integers(0, V, (4, 9))
    mask = np.ones((4, 8))
    losses = [S.train_step(p, memory, ids[:, :-1], ids[:, 1:], mask, lr=0.1, clip=5.0) for _ in range(60)]
    assert losses[-1] < 0.5 * losses[0]
