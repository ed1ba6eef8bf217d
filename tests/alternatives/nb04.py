"""Correct answers to 04_cross_entropy written differently from the source notebook."""
import numpy as np

NOTEBOOK = "04_cross_entropy"
# softmax and log_softmax below are the notebook's own (loaded from 02 in its setup cell)


def cross_entropy__one_hot(logits, targets, mask=None):
    N, T, V = logits.shape
    onehot = np.eye(V)[targets]                          # (N, T, V)
    per_step = -(onehot * log_softmax(logits)).sum(axis=-1)  # noqa: F821
    if mask is not None:
        per_step = per_step * mask
    return float(per_step.sum() / N)


def cross_entropy__put_along_axis(logits, targets, mask=None):
    onehot = np.zeros(logits.shape)
    np.put_along_axis(onehot, targets[..., None], 1.0, axis=-1)
    weights = np.ones(targets.shape) if mask is None else mask
    return float(-np.einsum("ntv,ntv,nt->", onehot, log_softmax(logits), weights) / logits.shape[0])  # noqa: F821


def cross_entropy__loops(logits, targets, mask=None):
    N, T, _ = logits.shape
    total = 0.0
    for n in range(N):
        log_p = log_softmax(logits[n])  # noqa: F821  (T, V)
        for t in range(T):
            weight = 1.0 if mask is None else mask[n, t]
            total -= weight * log_p[t, targets[n, t]]
    return total / N


def cross_entropy_backward__one_hot(logits, targets, mask=None):
    N, T, V = logits.shape
    dlogits = softmax(logits) - np.eye(V)[targets]  # noqa: F821
    if mask is not None:
        dlogits = dlogits * mask[:, :, None]
    return dlogits / N


def cross_entropy_backward__fancy_indexing(logits, targets, mask=None):
    N, T, _ = logits.shape
    dlogits = softmax(logits).copy()  # noqa: F821
    dlogits[np.arange(N)[:, None], np.arange(T)[None, :], targets] -= 1.0
    dlogits /= N
    if mask is not None:
        dlogits *= mask[..., None]
    return dlogits


def softmax_backward__full_jacobian(p, dp):
    V = p.shape[-1]
    jacobian = p[..., :, None] * np.eye(V) - p[..., :, None] * p[..., None, :]  # (..., V, V), symmetric
    return np.einsum("...ij,...j->...i", jacobian, dp)


def softmax_backward__einsum_dot(p, dp):
    dot = np.einsum("...v,...v->...", p, dp)
    return p * dp - p * dot[..., None]
