"""Hidden checks of 02_batched_softmax: softmax, log_softmax.

The inputs are chosen so that every catalogue entry fails exactly its own checks:
moderate logits (a few units) for the value checks, so that a softmax without the
max shift or with one max shared by all rows still gets the values right there; rows
at very different offsets (near +1000 beside near 0 and -1000) for the stability
checks, where those two overflow or underflow; batches of N > 1 and leading shapes
of every rank, where a softmax over the wrong axis shows.
"""
import numpy as np

from autograde.content.checking import (CheckFailed, KnownMistake, call, check_pure, check_shapes, check_values, fail,
                                quiet, rng_for)

# (leading shape, V): a batch of one, a square batch (N == V hides no transpose), wide and tall
BATCHES = [((1,), 5), ((4,), 6), ((6, ), 6), ((9,), 3)]
# any leading shape: none, one sequence of steps, a batch of sequences, one more axis
ANY_SHAPES = [((3, 4), 5), ((2, 3, 4), 6), ((1, 7), 3)]
VECTORS = [((), 5), ((), 2)]


def _logits(rng, shapes, scale=2.0):
    return [((rng.standard_normal(lead + (V,)) * scale,), {}) for lead, V in shapes]


def _extreme_cases(name):
    """Rows at very different offsets, side by side in one batch."""
    rng = rng_for(name)
    side_by_side = np.array([[1000.0, 999.0], [0.0, 1.0], [1000.0, 0.0], [-1000.0, -999.0]])
    wide = np.array([[-1000.0, 0.0, 1000.0], [1.0, 2.0, 3.0], [800.0, 790.0, 795.0]])
    offsets = rng.choice([-900.0, -750.0, 0.0, 750.0, 900.0], size=(12, 1))
    batch = rng.standard_normal((12, 6)) * 3.0 + offsets  # 2-D: other leading shapes are another check
    return [((side_by_side,), {}), ((wide,), {}), ((batch,), {})]


def _rows_property(name, out, args):
    """The property of a softmax output that fails, in words (no reference values)."""
    z = args[0]
    if not isinstance(out, np.ndarray) or out.shape != np.shape(z):
        return None
    with quiet():
        if not np.all(np.isfinite(out)):
            return ("some rows contain NaN or inf: exp overflowed (exp(710) is already inf in float64) "
                    "or a whole row underflowed to zeros and 0/0 gave NaN. Shift each row by its own maximum.")
        sums = out.sum(axis=-1)
        if not np.allclose(sums, 1.0):
            return "the rows do not sum to one: normalise each row over the last axis (axis=-1)"
    return None


def _check_rows(name, fn, cases, what, parts=(), label=None):
    """check_values, but when no catalogue entry matches, say which row property failed."""
    try:
        check_values(name, fn, cases, what=what, parts=parts, label=label)
    except CheckFailed as exc:
        if isinstance(exc, KnownMistake) or name != "softmax":
            raise
        for args, kwargs in cases:
            hint = _rows_property(name, call(name, fn, *args, **kwargs), args)
            if hint:
                fail(f"`{name}`: {hint}.")
        raise


# ------------------------------------------------------------------ softmax
def softmax_shape(fn):
    cases = _logits(rng_for("softmax_shape"), BATCHES[:2] + [((2, 3), 4)])
    check_shapes("softmax", fn, cases, [args[0].shape for args, _ in cases])


def softmax_values(fn):
    _check_rows("softmax", fn, _logits(rng_for("softmax_values"), BATCHES), what="output")


def softmax_stable(fn):
    cases = _extreme_cases("softmax_stable")
    _check_rows("softmax", fn, cases, what="output for rows at very different offsets",
                label="`softmax`: rows far apart (logits near +1000, 0 and -1000) give finite probabilities "
                      "that sum to one and match the reference")


def softmax_any_shape(fn):
    rng = rng_for("softmax_any_shape")
    # batches of sequences first: a softmax over the wrong axis is diagnosed there
    _check_rows("softmax", fn, _logits(rng, ANY_SHAPES), what="output for inputs of shape (..., V)")
    _check_rows("softmax", fn, _logits(rng, VECTORS), what="output for a single vector of shape (V,)",
                label="`softmax` works for a single vector (V,) and for every leading shape (..., V)")


def softmax_pure(fn):
    check_pure("softmax", fn, _logits(rng_for("softmax_pure"), BATCHES[:2] + ANY_SHAPES[1:2]), ["z"])


# ------------------------------------------------------------------ log_softmax
def log_softmax_values(fn):
    cases = _logits(rng_for("log_softmax_values"), BATCHES[:2] + ANY_SHAPES[:2] + VECTORS[:1])
    check_values("log_softmax", fn, cases, what="output", parts=("softmax",))


def log_softmax_extreme(fn):
    rng = rng_for("log_softmax_extreme")
    cases = [((np.array([1000.0, 0.0]),), {}),
             ((np.array([[1000.0, 0.0], [0.0, -1000.0], [-1000.0, 1000.0]]),), {})] + _extreme_cases(
        "log_softmax_extreme") + _logits(rng, [((2, 3), 40)], scale=300.0)
    check_values("log_softmax", fn, cases, what="output for extreme logits", parts=("softmax",),
                 label="`log_softmax`: extreme logits (1000 beside 0) give the finite reference values")


def log_softmax_pure(fn):
    check_pure("log_softmax", fn, _logits(rng_for("log_softmax_pure"), BATCHES[:2] + ANY_SHAPES[1:2]), ["z"],
               parts=("softmax",))
