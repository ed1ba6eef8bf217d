"""Catalogue entries for 04_cross_entropy. They call softmax / log_softmax by name, as a
student's answer does (in the notebook those are the student's own, loaded from 02)."""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import log_softmax, softmax  # noqa: F401  (the names the entries call)

NB = "04_cross_entropy"


@mistake("cross_entropy", NB, breaks={"test_cross_entropy_values", "test_cross_entropy_mask"},
         explain="your loss is summed over the batch instead of averaged: divide the total by N (the number "
                 "of sequences), or the gradient, and the right learning rate, grow with the batch size.")
def cross_entropy_summed_over_batch(logits, targets, mask=None):
    log_p = log_softmax(logits)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    if mask is not None:
        picked = picked * mask
    return float(-picked.sum())


@mistake("cross_entropy", NB, breaks={"test_cross_entropy_values", "test_cross_entropy_mask"},
         explain="your loss is averaged over tokens (divided by the number of unmasked steps) instead of over "
                 "sequences: sum over time, then divide by N, the number of sequences in the batch.")
def cross_entropy_averaged_over_tokens(logits, targets, mask=None):
    if mask is None:
        mask = np.ones(targets.shape)
    log_p = log_softmax(logits)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    return float(-(picked * mask).sum() / mask.sum())


@mistake("cross_entropy", NB, breaks={"test_cross_entropy_mask"},
         explain="your loss ignores the mask: padded steps (mask 0) must contribute nothing, so multiply each "
                 "step's loss by mask[n, t] before summing.")
def cross_entropy_mask_ignored(logits, targets, mask=None):
    N, T, _ = logits.shape
    log_p = log_softmax(logits)
    rows, steps = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    return float(-log_p[rows, steps, targets].sum() / N)


@mistake("cross_entropy", NB, breaks={"test_cross_entropy_values", "test_cross_entropy_mask"},
         explain="your loss has the wrong sign: cross-entropy is MINUS the log-probability of the target, "
                 "a positive number that training drives down.")
def cross_entropy_sign_flipped(logits, targets, mask=None):
    N = logits.shape[0]
    log_p = log_softmax(logits)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    if mask is not None:
        picked = picked * mask
    return float(picked.sum() / N)


@mistake("cross_entropy", NB, breaks={"test_cross_entropy_pure"},
         explain="your cross_entropy shifts the logits in place (`logits -= ...`), so the caller's logits "
                 "change; compute a new array (`shifted = logits - ...`).")
def cross_entropy_shifts_logits_in_place(logits, targets, mask=None):
    logits -= np.max(logits, axis=-1, keepdims=True)
    log_p = logits - np.log(np.sum(np.exp(logits), axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    if mask is not None:
        picked = picked * mask
    return float(-picked.sum() / logits.shape[0])


@mistake("softmax_backward", NB, breaks={"test_softmax_backward_values"},
         explain="your softmax_backward uses only the diagonal of the Jacobian, p * (1 - p) * dp: every "
                 "output p_j depends on every z_i, so dz = p * (dp - sum(p * dp)) over the last axis.")
def softmax_backward_diagonal_only(p, dp):
    return p * (1 - p) * dp


@mistake("softmax_backward", NB, breaks={"test_softmax_backward_values"},
         explain="your softmax_backward sums p * dp over the whole array instead of over each row's classes: "
                 "use np.sum(p * dp, axis=-1, keepdims=True).")
def softmax_backward_sum_over_all(p, dp):
    return p * (dp - np.sum(p * dp))


@mistake("softmax_backward", NB, breaks={"test_softmax_backward_pure"},
         explain="your softmax_backward writes into its argument dp (`dz = dp` names the same array, then "
                 "`dz -= ...` changes dp); compute a new array.")
def softmax_backward_writes_into_dp(p, dp):
    dz = dp
    dz -= np.sum(p * dp, axis=-1, keepdims=True)
    dz *= p
    return dz


@mistake("cross_entropy_backward", NB,
         breaks={"test_cross_entropy_backward_values", "test_cross_entropy_backward_mask"},
         explain="your gradient is not divided by N: the loss averages over the batch, so its gradient "
                 "dlogits = (p - onehot) * mask / N carries the same 1/N.")
def cross_entropy_backward_not_divided_by_n(logits, targets, mask=None):
    dlogits = softmax(logits)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    if mask is not None:
        dlogits = dlogits * mask[..., None]
    return dlogits


@mistake("cross_entropy_backward", NB,
         breaks={"test_cross_entropy_backward_values", "test_cross_entropy_backward_mask"},
         explain="your gradient is divided by N twice: it is N times too small, which a learning rate N times "
                 "too large would hide; divide (p - onehot) * mask by N once.")
def cross_entropy_backward_divided_by_n_twice(logits, targets, mask=None):
    N, T, V = logits.shape
    onehot = np.eye(V)[targets]
    dlogits = (softmax(logits) - onehot) / N
    if mask is not None:
        dlogits = dlogits * mask[..., None]
    return dlogits / N


@mistake("cross_entropy_backward", NB, breaks={"test_cross_entropy_backward_mask"},
         explain="your gradient ignores the mask: padded steps contribute nothing to the loss, so their "
                 "gradient must be zero; multiply by mask[..., None].")
def cross_entropy_backward_mask_ignored(logits, targets, mask=None):
    N, T, V = logits.shape
    onehot = np.eye(V)[targets]
    return (softmax(logits) - onehot) / N
