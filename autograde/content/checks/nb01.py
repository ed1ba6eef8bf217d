"""Hidden checks of 01_cell_forward: rnn_step_forward, rnn_forward, output_forward."""
import numpy as np

from autograde.content.checking import call, check_pure, check_shapes, check_values, fail, passed, reference_parts, rng_for, same

# (N, D, H, T): a batch of one, square and non-square shapes, so transposes show
SHAPES = [(4, 3, 5, 6), (1, 2, 3, 4), (7, 6, 4, 3)]


def _weights(rng, D, H):
    return (rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5,
            rng.standard_normal(H) * 0.1)


def _step_cases(name):
    rng = rng_for(name)
    cases = []
    for N, D, H, _ in SHAPES:
        x_t, h_prev = rng.standard_normal((N, D)), np.tanh(rng.standard_normal((N, H)))
        cases.append(((x_t, h_prev, *_weights(rng, D, H)), {}))
    return cases


def _forward_cases(name):
    rng = rng_for(name)
    cases = []
    for N, D, H, T in SHAPES:
        x, h0 = rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H)))
        cases.append(((x, h0, *_weights(rng, D, H)), {}))
    return cases


def _check_cache(name, fn, cases, expected_cache, parts=()):
    for args, kwargs in cases:
        with reference_parts(fn, parts):  # the cache is fn's own business, whatever its parts do
            out = call(name, fn, *args, **kwargs)
        if not (isinstance(out, tuple) and len(out) == 2):
            fail(f"`{name}` should return a pair (h, cache), not {type(out).__name__}.")
        cache = out[1]
        if not (isinstance(cache, tuple) and len(cache) == 5):
            fail(f"`{name}`: the cache should be a tuple of 5 arrays {expected_cache}.")
        wanted = _expected_cache(name, args, out[0])
        for slot, got, want in zip(expected_cache, cache, wanted):
            if not same(got, want, 0, 0):
                fail(f"`{name}`: the cache entry `{slot}` is not the array it should be; "
                     f"the cache must be {expected_cache} in that order.")
    passed(f"`{name}` returns the cache {expected_cache}")


def _expected_cache(name, args, h):
    x, h_prev, Wxh, Whh, _ = args
    return (x, h_prev, h, Wxh, Whh)


STEP_ARGS = ["x_t", "h_prev", "Wxh", "Whh", "bh"]
FORWARD_ARGS = ["x", "h0", "Wxh", "Whh", "bh"]


def rnn_step_forward_shape(fn):
    cases = _step_cases("rnn_step_forward_shape")
    check_shapes("rnn_step_forward", fn, cases, [(N, H) for N, _, H, _ in SHAPES], select=lambda out: out[0])


def rnn_step_forward_values(fn):
    check_values("rnn_step_forward", fn, _step_cases("rnn_step_forward_values"),
                 select=lambda out: out[0], what="new state h_next")


def rnn_step_forward_cache(fn):
    _check_cache("rnn_step_forward", fn, _step_cases("rnn_step_forward_cache"), "(x_t, h_prev, h_next, Wxh, Whh)")


def rnn_step_forward_pure(fn):
    check_pure("rnn_step_forward", fn, _step_cases("rnn_step_forward_pure"), STEP_ARGS)


def rnn_forward_shape(fn):
    cases = _forward_cases("rnn_forward_shape")
    check_shapes("rnn_forward", fn, cases, [(N, T, H) for N, _, H, T in SHAPES], select=lambda out: out[0],
                 parts=("rnn_step_forward",))


def rnn_forward_values(fn):
    check_values("rnn_forward", fn, _forward_cases("rnn_forward_values"), select=lambda out: out[0],
                 parts=("rnn_step_forward",), what="sequence of states h")


def rnn_forward_cache(fn):
    _check_cache("rnn_forward", fn, _forward_cases("rnn_forward_cache"), "(x, h0, h, Wxh, Whh)",
                 parts=("rnn_step_forward",))


def rnn_forward_pure(fn):
    check_pure("rnn_forward", fn, _forward_cases("rnn_forward_pure"), FORWARD_ARGS, parts=("rnn_step_forward",))


def output_forward_values(fn):
    rng = rng_for("output_forward_values")
    cases = []
    for N, _, H, T in SHAPES:
        V = H + 2
        cases.append(((rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)), {}))
    cases.append(((rng.standard_normal((3, 4)), rng.standard_normal((4, 6)), rng.standard_normal(6)), {}))
    check_values("output_forward", fn, cases, what="logits")
    check_pure("output_forward", fn, cases, ["h", "Why", "by"])
