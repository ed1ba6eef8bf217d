"""Hidden checks of 07_char_rnn: clip_gradients, adagrad_update, sample, train_step.

``sample`` is stochastic, so it is checked by its contract (a list of at most n Python ints,
reproducible from a seeded ``rng``, stopping right after the boundary id 0, which it keeps)
and by its distribution: the empirical frequencies of the first two draws against the
model's probabilities softmax(logits / temperature). It is never compared with the
solution's random draws, so any correct way of drawing (``rng.choice``, an inverse CDF
with ``rng.random()``, ...) keeps full marks.
"""
import contextlib
import copy
import io

import numpy as np

from autograde.content import mistakes, solution
from autograde.content.checking import (CheckFailed, KnownMistake, check_in_place, check_pure, check_values, fail,
                                own_parts_recorded, passed, quiet, reference_parts, rng_for, run_student,
                                run_student_repeatedly)

PARAM_NAMES = solution.PARAM_NAMES
# Earlier exercises that the answers may call: the checks swap in the solution's, so that a
# mistake in notebook 02 or 05 costs points there, not here.
SAMPLE_PARTS = ("softmax", "one_hot")
TRAIN_PARTS = ("loss_and_gradients", "clip_gradients", "adagrad_update")


def _params(rng, V, H, scale=0.5):
    return {"Wxh": rng.standard_normal((V, H)) * scale, "Whh": rng.standard_normal((H, H)) * scale,
            "bh": rng.standard_normal(H) * scale, "Why": rng.standard_normal((H, V)) * scale,
            "by": rng.standard_normal(V) * scale}


# -- clip_gradients ------------------------------------------------------------------
def _clip_cases(name):
    rng = rng_for(name)
    cases = []
    for V, H, max_value in [(6, 4, 1.0), (5, 3, 0.3), (4, 7, 2.5), (3, 2, 100.0)]:
        grads = {k: v * 3.0 for k, v in _params(rng, V, H, scale=1.0).items()}
        cases.append(((grads, max_value), {}))
    return cases


def clip_gradients_values(fn):
    check_values("clip_gradients", fn, _clip_cases("clip_gradients_values"), what="dict of clipped gradients")


def clip_gradients_pure(fn):
    check_pure("clip_gradients", fn, _clip_cases("clip_gradients_pure"), ["grads", "max_value"])


# -- adagrad_update --------------------------------------------------------------------
def _adagrad_cases(name):
    rng = rng_for(name)
    cases = []
    for V, H, lr in [(5, 4, 0.1), (3, 6, 0.05), (4, 2, 1.0)]:
        params, grads = _params(rng, V, H), _params(rng, V, H, scale=1.0)
        memory = {k: rng.uniform(0.0, 2.0, v.shape) for k, v in params.items()}  # a run already under way
        cases.append(((params, grads, memory, lr), {}))
    first = _params(rng, 3, 3)
    cases.append(((first, _params(rng, 3, 3), {k: np.zeros_like(v) for k, v in first.items()}, 0.1), {}))
    return cases


ADAGRAD_ARGS = ["params", "grads", "memory", "lr"]


def adagrad_update_params(fn):
    check_in_place("adagrad_update", fn, _adagrad_cases("adagrad_update_params"), ADAGRAD_ARGS, ["params"])


def adagrad_update_memory(fn):
    check_in_place("adagrad_update", fn, _adagrad_cases("adagrad_update_memory"), ADAGRAD_ARGS, ["memory"])


# -- sample ------------------------------------------------------------------------------
def _sample_model(rng, V=5, H=4, boundary_bias=0.0):
    params = _params(rng, V, H, scale=0.9)
    params["by"][0] = boundary_bias
    return params, np.tanh(rng.standard_normal(H))


@contextlib.contextmanager
def _sampling(fn, reference=True):
    """Around calls of sample: the solution's softmax (and one_hot) in the answer's namespace (unless
    ``reference`` is False), no warnings.

    The checks of sample first try the student's own parts: graded in the student's kernel, each call
    of a reference part is a round trip to the grader (autograde.runtime.judge.remote), and sample makes thousands.
    Only a sample that fails with its own parts is run again on the reference parts, which then decide.
    """
    with quiet(), reference_parts(fn, SAMPLE_PARTS if reference else ()):
        yield


def _call_sample(fn, params, h0, seed_id, n, rng, temperature):
    """One call of sample (inside ``_sampling``); the rng is the caller's object, not a copy."""
    return run_student("sample", fn, (params, h0, seed_id, n, rng), {"temperature": temperature})


def _named_if_known(body, fn):
    """Run a check of sample; when it fails, name a catalogue entry that fails it the same way."""
    failure, parts_agree = None, None
    try:
        with own_parts_recorded(fn, SAMPLE_PARTS) as parts_agree, _sampling(fn, reference=False), \
                contextlib.redirect_stdout(io.StringIO()) as printed:
            body(fn)
        print(printed.getvalue(), end="")
        return
    except CheckFailed as exc:
        if parts_agree and parts_agree[0]:
            failure = exc  # the parts did what the reference does: the failure is sample's own
    try:
        if failure is not None:
            raise failure
        with _sampling(fn):  # perhaps only the student's own softmax or one_hot is wrong: these decide
            body(fn)
    except CheckFailed as exc:
        for entry in mistakes.for_function("sample"):
            try:
                with contextlib.redirect_stdout(io.StringIO()), _sampling(entry):
                    body(entry)
            except CheckFailed as same_failure:
                if str(same_failure) == str(exc):
                    raise KnownMistake(str(exc).rstrip("."), entry) from None
        raise


def sample_contract(fn):
    _named_if_known(_sample_contract, fn)


def _sample_contract(fn):
    rng = rng_for("sample_contract")
    params, h0 = _sample_model(rng, V=6, H=5, boundary_bias=-2.0)
    before = copy.deepcopy((params, h0))
    for n in (1, 4, 9):
        for seed in range(4):
            np.random.seed(seed)  # a draw from np.random instead of rng would change with this
            first = _call_sample(fn, params, h0, 2, n, np.random.default_rng(100 + seed), 1.0)
            if not isinstance(first, list):
                fail(f"`sample` should return a list of ids, not {type(first).__name__}.")
            if len(first) > n:
                fail(f"`sample` returned {len(first)} ids with n = {n}: it draws at most n ids.")
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in first):
                kinds = sorted({type(i).__name__ for i in first if not isinstance(i, int)})
                fail(f"`sample` should return Python ints, not {', '.join(kinds)}: convert each drawn "
                     f"id with int(...).")
            if not all(0 <= i < 6 for i in first):
                fail("`sample` returned an id outside the vocabulary 0 .. V-1.")
            np.random.seed(seed + 1000)
            again = _call_sample(fn, params, h0, 2, n, np.random.default_rng(100 + seed), 1.0)
            if again != first:
                fail("`sample`: two calls with identically seeded generators gave different ids. Draw "
                     "with the `rng` you are given (rng.choice or rng.random), not with np.random, so "
                     "that a seeded rng reproduces the same names.")
    if not (np.array_equal(before[0]["Why"], params["Why"]) and all(
            np.array_equal(before[0][k], params[k]) for k in params) and np.array_equal(before[1], h0)):
        fail("`sample` modified params or h0: sampling must leave the model untouched.")
    passed("`sample` returns at most n Python ints, draws them with the given rng (a seeded rng "
           "reproduces them) and leaves params and h0 untouched")


def sample_stops(fn):
    _named_if_known(_sample_stops, fn)


def _sample_stops(fn):
    rng = rng_for("sample_stops")
    certain, h0 = _sample_model(rng, boundary_bias=60.0)    # the boundary has probability ~1
    never = copy.deepcopy(certain)
    never["by"][0] = -60.0                                    # ... or ~0
    for n in (1, 3, 7):
        got = _call_sample(fn, certain, h0, 1, n, np.random.default_rng(n), 1.0)
        if len(got) == 0 or got[-1] != 0:
            fail("`sample`: when the model draws the boundary id 0, that 0 must be kept as the last id "
                 "of the list (it marks the end of the name).")
        if got != [0]:
            fail("`sample` went on drawing after the boundary id 0: stop right after drawing 0, which "
                 "ends the name.")
        got = _call_sample(fn, never, h0, 1, n, np.random.default_rng(n), 1.0)
        if len(got) != n:
            fail(f"`sample`: a model that never draws the boundary must give exactly n = {n} ids, "
                 f"not {len(got)}.")
    moderate, h0 = _sample_model(rng, boundary_bias=1.0)
    for got in run_student_repeatedly("sample", fn, 300, (moderate, h0, 2, 6, np.random.default_rng(7)),
                                      {"temperature": 1.0}):
        if 0 in got[:-1]:
            fail("`sample` went on drawing after the boundary id 0: stop right after drawing 0, which "
                 "ends the name.")
        if len(got) < 6 and (not got or got[-1] != 0):
            fail("`sample` stopped before n ids without the boundary id 0 at the end: keep the 0 "
                 "that ends the name.")
    passed("`sample` stops right after drawing the boundary id 0 and keeps it; otherwise it draws n ids")


# The distribution: frequencies of (first id, second id) over many calls with n = 2.
TEMPERATURES = (1.0, 0.5, 2.0)
DRAWS = 3000


def _model_probabilities(params, h0, seed_id, temperature):
    """P(first = a) and P(second = b | first = a) of the model, written out with the solution's softmax."""
    Wxh, Whh, bh, Why, by = (params[k] for k in PARAM_NAMES)
    h1 = np.tanh(Wxh[seed_id] + h0 @ Whh + bh)
    p1 = solution.softmax((h1 @ Why + by) / temperature)
    h2 = np.tanh(Wxh + h1 @ Whh + bh)              # row a: the state after feeding id a
    p2 = solution.softmax((h2 @ Why + by) / temperature)
    return p1, p2


def _joint(p1, p2):
    """Probabilities of the outcomes of a call with n = 2: first = 0 (stopped), or (a, b) with a > 0."""
    return np.concatenate([[p1[0]], (p1[1:, None] * p2[1:]).ravel()])


def _frequencies(draws, V):
    counts = np.zeros(1 + (V - 1) * V)
    for got in draws:  # (whether it stops at 0 and keeps it is sample_stops' business, not this one's)
        if not all(isinstance(i, (int, np.integer)) and 0 <= i < V for i in got):
            fail("`sample` returned an id outside the vocabulary 0 .. V-1.")
        if len(got) == 0 or got[0] == 0:
            counts[0] += 1
        else:
            counts[1 + (int(got[0]) - 1) * V + (int(got[1]) if len(got) > 1 else 0)] += 1
    return counts / DRAWS


def _agrees(freq, prob, widen=1.0):
    tolerance = widen * (5.0 * np.sqrt(prob * (1 - prob) / DRAWS) + 0.004)
    return bool(np.all(np.abs(freq - prob) <= tolerance))


def _sample_frequencies(impl, params, h0, seed_id, V, temperature, seed, reference=True):
    rng = np.random.default_rng(seed)
    with _sampling(impl, reference):
        return _frequencies(run_student_repeatedly("sample", impl, DRAWS, (params, h0, seed_id, 2, rng),
                                                   {"temperature": temperature}), V)


def sample_distribution(fn):
    rng = rng_for("sample_distribution")
    V, seed_id = 5, 3
    params, h0 = _sample_model(rng, V=V, H=4, boundary_bias=0.5)
    params = {k: v * 0.6 for k, v in params.items()}  # every id likely enough to count, the boundary too
    own = None
    with contextlib.suppress(CheckFailed), own_parts_recorded(fn, SAMPLE_PARTS) as parts_agree:
        own = {t: _sample_frequencies(fn, params, h0, seed_id, V, t, 500 + k, reference=False)
               for k, t in enumerate(TEMPERATURES)}
    if own is not None:
        if all(_agrees(freq, _joint(*_model_probabilities(params, h0, seed_id, t))) for t, freq in own.items()):
            return _passed_distribution()
    if own is not None and parts_agree[0]:
        draws = own  # the parts did what the reference does: these are the draws with the reference parts
    else:
        draws = {t: _sample_frequencies(fn, params, h0, seed_id, V, t, 500 + k) for k, t in enumerate(TEMPERATURES)}
    for temperature, freq in draws.items():
        p1, p2 = _model_probabilities(params, h0, seed_id, temperature)
        if _agrees(freq, _joint(p1, p2)):
            continue
        for entry in mistakes.for_function("sample"):  # a catalogue mistake whose draws look like these
            try:
                if all(_agrees(draws[t], _sample_frequencies(entry, params, h0, seed_id, V, t, 900 + k), 1.5)
                       for k, t in enumerate(TEMPERATURES)):
                    raise KnownMistake("`sample`: the ids it draws do not follow softmax(logits / temperature)",
                                       entry)
            except KnownMistake:
                raise
            except CheckFailed:
                pass
        first = np.concatenate([[freq[0]], freq[1:].reshape(V - 1, V).sum(axis=1)])
        if not _agrees(first, p1):
            fail(f"`sample`: at temperature {temperature} the first id it draws does not follow "
                 f"softmax(logits / temperature) of the step that reads seed_id from h0 "
                 f"(the frequencies over {DRAWS} calls are off by more than chance allows).")
        fail(f"`sample`: at temperature {temperature} the first id is drawn right, but the second "
             f"does not follow from it: feed the id you just drew as the next input and carry the "
             f"hidden state forward.")
    _passed_distribution()


def _passed_distribution():
    passed(f"`sample`: over {DRAWS} calls at each temperature {', '.join(map(str, TEMPERATURES))} the first "
           f"two ids it draws follow softmax(logits / temperature)")


# -- train_step ------------------------------------------------------------------------------
TRAIN_ARGS = ["params", "memory", "inputs", "targets", "mask", "lr", "clip"]


def _train_cases(name):
    rng = rng_for(name)
    cases = []
    for N, T, V, H, clip in [(3, 4, 6, 5, 0.05), (1, 5, 4, 3, 0.02), (4, 3, 5, 4, 1.0)]:
        params = _params(rng, V, H)
        memory = {k: rng.uniform(0.0, 0.1, v.shape) for k, v in params.items()}
        inputs, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
        lengths = rng.integers(1, T + 1, N)
        lengths[0] = T
        mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64)
        mask[-1, -1] = 0.0  # at least one padded step
        cases.append(((params, memory, inputs, targets, mask, 0.1, clip), {}))
    return cases


def train_step_values(fn):
    check_in_place("train_step", fn, _train_cases("train_step_values"), TRAIN_ARGS, ["params", "memory"],
                   returns="loss", parts=TRAIN_PARTS)
