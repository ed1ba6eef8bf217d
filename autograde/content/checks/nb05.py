"""Hidden checks of 05_bptt: output_backward, rnn_step_backward, rnn_backward, loss_and_gradients.

Backward functions are graded on the solution's caches (built with the reference forward
pass), one grade cell per gradient. ``loss_and_gradients`` is graded on the whole; when it
is wrong, the message says which of the student's parts disagrees with the reference.
"""
import copy

import numpy as np

from autograde.content import solution
from autograde.content.checking import (CheckFailed, KnownMistake, NotWritten, call, check_pure, check_values,
                                diagnose, fail, passed, quiet, reference_parts, rng_for, same)

# (N, T, D, H, V): D, H and V all different so that a missing or extra transpose cannot
# go unnoticed, T >= 3 so that "last step only" differs from "every step", a batch of one.
SHAPES = [(4, 5, 3, 6, 7), (1, 3, 2, 4, 5), (3, 4, 7, 5, 6)]
RTOL, ATOL = 1e-7, 1e-10


def _weights(rng, D, H):
    # plain Gaussian matrices: not symmetric, so Whh and Whh.T differ
    return rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.4, rng.standard_normal(H) * 0.2


def _hint(got, expected):
    """What is off in one gradient, without its values."""
    if not isinstance(got, np.ndarray):
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return "it is not an array"
    if got.shape != expected.shape:
        if got.shape == expected.shape[::-1] and got.ndim == 2:
            return f"it has shape {got.shape}, the transpose of the expected {expected.shape}"
        return f"it has shape {got.shape} where {expected.shape} was expected"
    if not np.all(np.isfinite(got)):
        return "it contains NaN or inf"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and same(got, expected.T, 1e-6, 1e-9):
        return "it is the transpose of the right gradient"
    if same(got, -expected, 1e-6, 1e-9):
        return "it has the wrong sign"
    scale = np.vdot(got, expected) / max(np.vdot(expected, expected), 1e-300)
    if abs(scale) > 1e-12 and same(got, scale * expected, 1e-6, 1e-9):
        return ("it is proportional to the right gradient but scaled by a constant: check the "
                "factor 1/N and sums versus means")
    return "its values are wrong"


def _check_gradient(name, fn, cases, index, what, parts=(), detail=None):
    """check_values on one entry of a returned tuple, with a gradient-specific hint on failure;
    ``detail(fn, output, reference output)``, when given, adds to that hint (from the whole returned
    tuple, or from further calls of ``fn``)."""
    select = lambda out: out[index] if isinstance(out, tuple) and len(out) > index else None
    try:
        check_values(name, fn, cases, select=select, parts=parts, what=what, rtol=RTOL, atol=ATOL)
    except CheckFailed as exc:
        if type(exc) is not CheckFailed:  # a diagnosis, or an exception the message already explains
            raise
        out = call(name, fn, *cases[0][0], **cases[0][1])
        if not (isinstance(out, tuple) and len(out) > index):
            fail(f"`{name}` should return a tuple of {len(solution_output(name, cases[0]))} arrays, "
                 f"not {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, tuple) else "") + ".")
        with reference_parts(fn, parts):
            outs = [call(name, fn, *args, **kwargs) for args, kwargs in cases]
        for out, case in zip(outs, cases):
            expected = solution_output(name, case)[index]
            if not same(select(out), expected, RTOL, ATOL):
                more = detail(fn, out, solution_output(name, case)) if detail else ""
                fail(f"`{name}`: the {what} is wrong: {_hint(select(out), expected)}{more}.")
        raise


def gradient_check(name, cases, outputs, slot, parts=(), detail=None):
    """The hidden check of one returned gradient of ``name``: ``cases(check_name)`` builds its inputs,
    ``outputs`` lists the returned values in order, ``parts`` and ``detail`` as in ``_check_gradient``."""
    def check(fn):
        _check_gradient(name, fn, cases(f"{name}_{slot}"), outputs.index(slot), f"gradient {slot}", parts=parts,
                        detail=detail)
    check.__name__ = f"{name}_{slot}"
    return check


def solution_output(name, case):
    args, kwargs = copy.deepcopy(case)
    with quiet():
        return getattr(solution, name)(*args, **kwargs)


# --------------------------------------------------------------------------
# output_backward
# --------------------------------------------------------------------------
def _output_cases(name):
    rng = rng_for(name)
    cases = []
    for N, T, _, H, V in SHAPES:
        cases.append(((rng.standard_normal((N, T, V)), np.tanh(rng.standard_normal((N, T, H))),
                       rng.standard_normal((H, V))), {}))
    cases.append(((rng.standard_normal((3, 4)), np.tanh(rng.standard_normal((3, 5))),
                   rng.standard_normal((5, 4))), {}))  # one step: (N, V) and (N, H)
    return cases


def output_backward_dh(fn):
    _check_gradient("output_backward", fn, _output_cases("output_backward_dh"), 0, "gradient dh")


def output_backward_dWhy(fn):
    _check_gradient("output_backward", fn, _output_cases("output_backward_dWhy"), 1, "gradient dWhy")


def output_backward_dby(fn):
    _check_gradient("output_backward", fn, _output_cases("output_backward_dby"), 2, "gradient dby")


# --------------------------------------------------------------------------
# rnn_step_backward
# --------------------------------------------------------------------------
def _step_cases(name):
    rng = rng_for(name)
    cases = []
    for N, _, D, H, _ in SHAPES:
        x_t, h_prev = rng.standard_normal((N, D)), np.tanh(rng.standard_normal((N, H)))
        _, cache = solution.rnn_step_forward(x_t, h_prev, *_weights(rng, D, H))
        cases.append(((rng.standard_normal((N, H)), cache), {}))
    return cases


STEP_OUTPUTS = ["dx_t", "dh_prev", "dWxh", "dWhh", "dbh"]


def _step_check(slot):
    return gradient_check("rnn_step_backward", _step_cases, STEP_OUTPUTS, slot)


rnn_step_backward_dx_t = _step_check("dx_t")
rnn_step_backward_dh_prev = _step_check("dh_prev")
rnn_step_backward_dWxh = _step_check("dWxh")
rnn_step_backward_dWhh = _step_check("dWhh")
rnn_step_backward_dbh = _step_check("dbh")


def rnn_step_backward_pure(fn):
    check_pure("rnn_step_backward", fn, _step_cases("rnn_step_backward_pure"), ["dh_next", "cache"])


# --------------------------------------------------------------------------
# rnn_backward
# --------------------------------------------------------------------------
def _bptt_cases(name):
    rng = rng_for(name)
    cases = []
    for N, T, D, H, _ in SHAPES:
        x, h0 = rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H)))
        _, cache = solution.rnn_forward(x, h0, *_weights(rng, D, H))
        cases.append(((rng.standard_normal((N, T, H)), cache), {}))
    return cases


BPTT_OUTPUTS = ["dx", "dh0", "dWxh", "dWhh", "dbh"]


def _bptt_check(slot):
    return gradient_check("rnn_backward", _bptt_cases, BPTT_OUTPUTS, slot, parts=("rnn_step_backward",))


rnn_backward_dx = _bptt_check("dx")
rnn_backward_dh0 = _bptt_check("dh0")
rnn_backward_dWxh = _bptt_check("dWxh")
rnn_backward_dWhh = _bptt_check("dWhh")
rnn_backward_dbh = _bptt_check("dbh")


def rnn_backward_pure(fn):
    check_pure("rnn_backward", fn, _bptt_cases("rnn_backward_pure"), ["dh", "cache"], parts=("rnn_step_backward",))


# --------------------------------------------------------------------------
# loss_and_gradients
# --------------------------------------------------------------------------
# The student's parts that loss_and_gradients may call, by the part of the pipeline they are.
EARLIER_PARTS = {
    "forward pass (01)": ("rnn_step_forward", "rnn_forward", "output_forward"),
    "one-hot encoding (03)": ("one_hot",),
    "softmax (02)": ("softmax", "log_softmax"),
    "loss (04)": ("cross_entropy", "cross_entropy_backward", "softmax_backward"),
}
OWN_PARTS = {"backward pass (this notebook)": ("output_backward", "rnn_step_backward", "rnn_backward")}
PARAM_KEYS = ("Wxh", "Whh", "bh", "Why", "by")


def _loss_cases(name):
    rng = rng_for(name)
    cases = []
    for i, (N, T, _, H, V) in enumerate(SHAPES):
        params = {"Wxh": rng.standard_normal((V, H)) * 0.5, "Whh": rng.standard_normal((H, H)) * 0.4,
                  "bh": rng.standard_normal(H) * 0.2, "Why": rng.standard_normal((H, V)) * 0.5,
                  "by": rng.standard_normal(V) * 0.2}
        inputs, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
        kwargs = {}
        if i > 0:  # a padded batch and a state carried over from the previous chunk
            lengths = rng.integers(1, T + 1, N)
            lengths[0] = T
            kwargs = {"mask": (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64),
                      "h0": np.tanh(rng.standard_normal((N, H)))}
        cases.append(((params, inputs, targets), kwargs))
    return cases


def _run(fn, cases):
    """The student's outputs, or the message of the first failure (a part not written, an exception:
    with the reference parts it may still agree). A stub that was never written fails the check."""
    try:
        return [call("loss_and_gradients", fn, *args, **kwargs) for args, kwargs in cases]
    except NotWritten:
        raise
    except CheckFailed as exc:
        return str(exc)


def _present(fn, groups):
    namespace = getattr(fn, "__globals__", {})
    return tuple(p for parts in groups.values() for p in parts if p in namespace)


def _disagreeing_parts(fn, groups):
    """The student's functions (by pipeline part) that disagree with the reference on realistic inputs."""
    namespace = getattr(fn, "__globals__", {})
    rng = rng_for("loss_and_gradients_parts")
    N, T, V, H = 3, 4, 6, 5
    x_ids, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    mask = np.ones((N, T))
    mask[0, -1] = 0.0
    Wxh, Whh, bh = _weights(rng, V, H)
    Why, by = rng.standard_normal((H, V)) * 0.5, rng.standard_normal(V) * 0.2
    x, h0 = solution.one_hot(x_ids, V), np.tanh(rng.standard_normal((N, H)))
    h, cache = solution.rnn_forward(x, h0, Wxh, Whh, bh)
    logits = solution.output_forward(h, Why, by)
    dlogits = solution.cross_entropy_backward(logits, targets, mask)
    probes = {
        "rnn_step_forward": ((x[:, 0], h0, Wxh, Whh, bh), lambda o: o[0]),
        "rnn_forward": ((x, h0, Wxh, Whh, bh), lambda o: o[0]),
        "output_forward": ((h, Why, by), lambda o: o),
        "one_hot": ((x_ids, V), lambda o: o),
        "softmax": ((logits,), lambda o: o),
        "log_softmax": ((logits,), lambda o: o),
        "cross_entropy": ((logits, targets, mask), lambda o: o),
        "cross_entropy_backward": ((logits, targets, mask), lambda o: o),
        "softmax_backward": ((solution.softmax(logits), dlogits), lambda o: o),
        "output_backward": ((dlogits, h, Why), lambda o: o),
        "rnn_step_backward": ((rng.standard_normal((N, H)), (x[:, 1], h[:, 0], h[:, 1], Wxh, Whh)), lambda o: o),
        "rnn_backward": ((rng.standard_normal((N, T, H)), cache), lambda o: o),
    }
    wrong = []
    for group, parts in groups.items():
        bad = []
        for part in parts:
            if part not in namespace or part not in probes:
                continue
            args, select = probes[part]
            expected = select(getattr(solution, part)(*copy.deepcopy(args)))
            try:
                with quiet():
                    ok = same(select(namespace[part](*copy.deepcopy(args))), expected, 1e-6, 1e-9)
            except Exception:
                ok = False
            if not ok:
                bad.append(part)
        if bad:
            wrong.append(f"your {group}: {', '.join(bad)}")
    return wrong


def _directional_ratios(fn, case, grads, n_directions=3, step=1e-5):
    """<grads, v> against the centred difference of the student's own loss along a few random
    directions v: a cheap check that the gradients are the derivative of the loss."""
    rng = rng_for("loss_and_gradients_directions")
    (params, inputs, targets), kwargs = case
    ratios = []
    for _ in range(n_directions):
        v = {k: rng.standard_normal(np.shape(p)) for k, p in params.items()}
        shifted = [{k: params[k] + s * v[k] for k in params} for s in (step, -step)]
        try:
            with quiet():
                plus, minus = (float(fn(p, inputs.copy(), targets.copy(), **copy.deepcopy(kwargs))[0]) for p in shifted)
            predicted = sum(float(np.vdot(np.asarray(grads[k], dtype=np.float64), v[k])) for k in params)
        except Exception:
            return None
        numeric = (plus - minus) / (2 * step)
        ratios.append(predicted / numeric if abs(numeric) > 1e-12 else np.nan)
    return ratios


def _check_loss_and_gradients(fn, cases, select, what, grads=False):
    name = "loss_and_gradients"
    expected = [select(solution_output(name, case)) for case in cases]

    def agrees(outputs):
        if isinstance(outputs, str):
            return False
        try:
            return all(same(select(o), e, RTOL, ATOL) for o, e in zip(outputs, expected))
        except Exception:
            return False

    outputs = _run(fn, cases)
    if agrees(outputs):
        passed(f"`{name}`: the {what} matches the reference on {len(cases)} random batches "
               f"(with and without mask and h0)")
        return
    # graded on its own logic: the student's forward pass, softmax, loss and backward functions are
    # graded in their own cells, so here they are replaced by the reference's
    groups = {**EARLIER_PARTS, **OWN_PARTS}
    parts = _present(fn, groups)
    with reference_parts(fn, parts):
        outputs = _run(fn, cases)
    if agrees(outputs):
        culprits = _disagreeing_parts(fn, groups) or ["your parts"]
        print(f"NOTE `{name}` itself is right: it combines the parts correctly. With your own parts the "
              f"{what} differs, because of {'; '.join(culprits)}; their own checks say what is wrong.")
        passed(f"`{name}`: the {what} matches the reference when it calls the reference parts")
        return
    with reference_parts(fn, parts):
        if isinstance(outputs, str):
            fail(outputs)
        entry = diagnose(name, cases, outputs, select, tol=(RTOL * 10, ATOL * 10))
        if entry is not None:
            raise KnownMistake(f"`{name}`: the {what} is wrong", entry)
        bad = next(i for i, (o, e) in enumerate(zip(outputs, expected)) if not same(select(o), e, RTOL, ATOL))
        got = select(outputs[bad])
        message = f"`{name}`: the {what} is wrong on random batch {bad + 1} of {len(cases)}"
        if not grads:
            if isinstance(expected[bad], np.ndarray):
                fail(f"{message}: {_hint(got, expected[bad])}.")
            fail(f"{message}.")
        if not isinstance(got, dict) or set(got) != set(PARAM_KEYS):
            fail(f"{message}: grads should be a dict with the keys of params {list(PARAM_KEYS)}, "
                 f"not {sorted(got) if isinstance(got, dict) else type(got).__name__}.")
        wrong = [k for k in PARAM_KEYS if not same(got[k], expected[bad][k], RTOL, ATOL)]
        details = "; ".join(f"grads['{k}']: {_hint(got[k], expected[bad][k])}" for k in wrong)
        ratios = _directional_ratios(fn, cases[bad], got)
        if ratios is not None and all(np.isfinite(ratios)):
            if all(abs(r - 1) < 1e-4 for r in ratios):
                details += (". They are the derivative of the loss your function returns, so the loss "
                            "itself must be off as well")
            elif np.ptp(ratios) < 1e-4 * max(abs(np.mean(ratios)), 1):
                details += (". Along random directions they are a constant multiple of the derivative of "
                            "the loss your function returns: the loss and its gradient are scaled differently "
                            "(a mean in one, a sum in the other?)")
            else:
                details += (". Along random directions they are not the derivative of the loss your "
                            "function returns: run the gradient check of this notebook on it")
        fail(f"{message}: {details}.")


def loss_and_gradients_loss(fn):
    _check_loss_and_gradients(fn, _loss_cases("loss_and_gradients_loss"),
                              lambda out: out[0] if isinstance(out, tuple) else None, "loss")


def loss_and_gradients_grads(fn):
    _check_loss_and_gradients(fn, _loss_cases("loss_and_gradients_grads"),
                              lambda out: out[1] if isinstance(out, tuple) and len(out) > 1 else None,
                              "gradient dict", grads=True)


def loss_and_gradients_h_last(fn):
    _check_loss_and_gradients(fn, _loss_cases("loss_and_gradients_h_last"),
                              lambda out: out[2] if isinstance(out, tuple) and len(out) > 2 else None,
                              "last state h_last")
