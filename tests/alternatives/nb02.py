"""Correct answers to 02_batched_softmax written differently from the source notebook."""
import numpy as np

NOTEBOOK = "02_batched_softmax"


def softmax__loop_over_rows(z):
    rows = np.asarray(z, dtype=np.float64).reshape(-1, z.shape[-1])  # any leading shape -> (rows, V)
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(z.shape)


def softmax__exp_minus_logsumexp(z):
    return np.exp(z - np.logaddexp.reduce(z, axis=-1, keepdims=True))


def softmax__apply_along_axis(z):
    def one_row(row):
        e = np.exp(row - np.max(row))
        return e / np.sum(e)
    return np.apply_along_axis(one_row, -1, z)


def log_softmax__logsumexp_by_hand(z):
    m = z.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    return z - lse


def log_softmax__logaddexp_reduce(z):
    return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
