"""Catalogue entries for 02_batched_softmax."""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import softmax

NB = "02_batched_softmax"


@mistake("softmax", NB, breaks={"test_softmax_values", "test_softmax_stable", "test_softmax_any_shape"},
         explain="your softmax normalises over the first axis (the batch), so each column sums to one instead "
                 "of each row; normalise over the last axis, axis=-1, with keepdims=True.")
def softmax_over_batch_axis(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


@mistake("softmax", NB, breaks={"test_softmax_any_shape"},
         explain="your softmax normalises over axis=1, which is the class axis only for a 2-D batch (N, V); "
                 "for a single vector (V,) or logits (N, T, V) the classes are on the last axis, axis=-1.")
def softmax_axis_one(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


@mistake("softmax", NB, breaks={"test_softmax_stable"},
         explain="your softmax takes exp of the raw logits: exp(1000) overflows to inf and inf/inf is NaN; "
                 "subtract each row's maximum first (the result is the same, the exponents are <= 0).")
def softmax_no_max_shift(z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


@mistake("softmax", NB, breaks={"test_softmax_stable"},
         explain="your softmax subtracts one maximum shared by the whole batch: a row far below that maximum "
                 "underflows to all zeros and 0/0 gives NaN; subtract each row's own maximum "
                 "(np.max(z, axis=-1, keepdims=True)).")
def softmax_global_max(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=-1, keepdims=True)


@mistake("softmax", NB, breaks={"test_softmax_pure"},
         explain="your softmax writes into its argument (`z -= ...`, or `e = z` and then writing into e): "
                 "`e = z` names the same array, so the caller's logits change; compute a new array "
                 "(`shifted = z - ...`).")
def softmax_writes_into_z(z):
    e = z
    e -= np.max(e, axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


@mistake("log_softmax", NB, breaks={"test_log_softmax_extreme"},
         explain="your log_softmax is np.log(softmax(z)): a probability that underflows to 0 (logits 1000 "
                 "beside 0) gives log(0) = -inf; use log_softmax(z) = z - max - log(sum(exp(z - max))).")
def log_softmax_of_softmax(z):
    return np.log(softmax(z))


@mistake("log_softmax", NB, breaks={"test_log_softmax_extreme"},
         explain="your log_softmax computes log(sum(exp(z))) without shifting by the row maximum: exp(1000) "
                 "overflows to inf; use logsumexp(z) = m + log(sum(exp(z - m))) with m the row maximum.")
def log_softmax_no_max_shift(z):
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


@mistake("log_softmax", NB, breaks={"test_log_softmax_pure"},
         explain="your log_softmax shifts its argument in place (`z -= ...`), so the caller's logits change; "
                 "compute a new array (`shifted = z - ...`).")
def log_softmax_writes_into_z(z):
    z -= np.max(z, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
