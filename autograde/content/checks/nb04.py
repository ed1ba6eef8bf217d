"""Hidden checks of 04_cross_entropy: cross_entropy, softmax_backward, cross_entropy_backward.

`cross_entropy` and `cross_entropy_backward` call the student's softmax / log_softmax from
02; their value checks pass ``parts=PARTS`` so that a wrong 02 costs points in 02 only.
The inputs make every catalogue entry fail its own checks: N > 1 (a loss summed over the
batch, a gradient divided by N twice), masks with zeros, padded steps and a fully padded
sequence (a mask ignored, an average over tokens instead of sequences), and a batch of one.
"""
import numpy as np

from autograde.content import solution
from autograde.content.checking import call, check_pure, check_shapes, check_values, describe, fail, reference_parts, rng_for

PARTS = ("softmax", "log_softmax")
# (N, T, V): a batch of one, square-ish and non-square shapes
SHAPES = [(3, 4, 5), (1, 6, 4), (5, 2, 7), (4, 3, 3)]


def _batch(rng, N, T, V, masked):
    logits = rng.standard_normal((N, T, V)) * 2.0
    targets = rng.integers(0, V, size=(N, T))
    if not masked:
        return logits, targets, None
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T                       # one full sequence
    if N > 2:
        lengths[-1] = 0                  # one sequence made only of padding: it still counts in N
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64)
    if mask.all():                       # make sure some step is padding
        mask[-1, -1] = 0.0
    return logits, targets, mask


def _cases(name, masked):
    rng = rng_for(name)
    cases = []
    for N, T, V in SHAPES:
        logits, targets, mask = _batch(rng, N, T, V, masked)
        cases.append(((logits, targets), {}) if mask is None else ((logits, targets, mask), {}))
    return cases


def _require_scalar(fn, cases):
    for args, kwargs in cases:
        with reference_parts(fn, PARTS):  # returning one number is cross_entropy's own job
            out = call("cross_entropy", fn, *args, **kwargs)
        if isinstance(out, (bool, np.bool_)) or not (np.ndim(out) == 0 and np.isrealobj(out)):
            fail(f"`cross_entropy` should return one number (a float), not {describe(out)}: "
                 f"sum over time and over the batch, then divide by N.")


# ------------------------------------------------------------------ cross_entropy
def cross_entropy_values(fn):
    cases = _cases("cross_entropy_values", masked=False)
    _require_scalar(fn, cases)
    check_values("cross_entropy", fn, cases, what="loss (mask=None)", parts=PARTS)


def cross_entropy_mask(fn):
    cases = _cases("cross_entropy_mask", masked=True)
    _require_scalar(fn, cases)
    check_values("cross_entropy", fn, cases, what="loss with a mask of padded steps", parts=PARTS)


def cross_entropy_pure(fn):
    check_pure("cross_entropy", fn, _cases("cross_entropy_pure", masked=True), ["logits", "targets", "mask"],
               parts=PARTS)


# ------------------------------------------------------------------ softmax_backward
def _jvp_cases(name):
    rng = rng_for(name)
    cases = []
    for shape in [(6,), (4, 5), (1, 3), (3, 4, 6)]:
        p = solution.softmax(rng.standard_normal(shape) * 1.5)
        cases.append(((p, rng.standard_normal(shape)), {}))
    return cases


def softmax_backward_values(fn):
    check_values("softmax_backward", fn, _jvp_cases("softmax_backward_values"), what="gradient dz")


def softmax_backward_pure(fn):
    check_pure("softmax_backward", fn, _jvp_cases("softmax_backward_pure"), ["p", "dp"])


# ------------------------------------------------------------------ cross_entropy_backward
def cross_entropy_backward_shape(fn):
    cases = _cases("cross_entropy_backward_shape", masked=True)
    check_shapes("cross_entropy_backward", fn, cases, [args[0].shape for args, _ in cases], parts=PARTS)


def cross_entropy_backward_values(fn):
    check_values("cross_entropy_backward", fn, _cases("cross_entropy_backward_values", masked=False),
                 what="gradient dlogits (mask=None)", parts=PARTS)


def cross_entropy_backward_mask(fn):
    check_values("cross_entropy_backward", fn, _cases("cross_entropy_backward_mask", masked=True),
                 what="gradient dlogits with a mask of padded steps", parts=PARTS)


def cross_entropy_backward_pure(fn):
    check_pure("cross_entropy_backward", fn, _cases("cross_entropy_backward_pure", masked=True),
               ["logits", "targets", "mask"], parts=PARTS)
