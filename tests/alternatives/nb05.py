"""Correct answers to 05_bptt written differently from the source notebook."""
import numpy as np

NOTEBOOK = "05_bptt"


def output_backward__per_step_loop(dlogits, h, Why):
    # one step at a time, accumulating the shared weights' gradients over time
    single_step = dlogits.ndim == 2  # (N, V): treat it as a sequence of length one
    if single_step:
        dlogits, h = dlogits[:, None], h[:, None]
    dh = np.zeros(h.shape)
    dWhy, dby = np.zeros(Why.shape), np.zeros(Why.shape[1])
    for t in range(dlogits.shape[1]):
        dh[:, t] = dlogits[:, t] @ Why.T
        dWhy += h[:, t].T @ dlogits[:, t]
        dby += dlogits[:, t].sum(axis=0)
    return (dh[:, 0] if single_step else dh), dWhy, dby


def output_backward__tensordot(dlogits, h, Why):
    lead = tuple(range(dlogits.ndim - 1))  # every axis but the last: batch and time
    dh = np.einsum("...v,hv->...h", dlogits, Why)
    dWhy = np.tensordot(h, dlogits, axes=(lead, lead))
    dby = dlogits.sum(axis=lead)
    return dh, dWhy, dby


def rnn_step_backward__einsum(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next * (1 - h_next * h_next)
    dx_t = np.einsum("nh,dh->nd", da, Wxh)
    dh_prev = np.einsum("nh,kh->nk", da, Whh)
    dWxh = np.einsum("nd,nh->dh", x_t, da)
    dWhh = np.einsum("nk,nh->kh", h_prev, da)
    dbh = np.einsum("nh->h", da)
    return dx_t, dh_prev, dWxh, dWhh, dbh


def rnn_step_backward__per_example(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    dx_t, dh_prev = np.zeros(x_t.shape), np.zeros(h_prev.shape)
    dWxh, dWhh, dbh = np.zeros(Wxh.shape), np.zeros(Whh.shape), np.zeros(Whh.shape[0])
    for n in range(x_t.shape[0]):  # one example at a time, outer products summed over the batch
        da = dh_next[n] * (1 - h_next[n] ** 2)
        dx_t[n] = Wxh @ da
        dh_prev[n] = Whh @ da
        dWxh += np.outer(x_t[n], da)
        dWhh += np.outer(h_prev[n], da)
        dbh += da
    return dx_t, dh_prev, dWxh, dWhh, dbh


def rnn_backward__inlined(dh, cache):
    # the step's backward written into the loop instead of calling rnn_step_backward
    x, h0, h, Wxh, Whh = cache
    dx = np.zeros(x.shape)
    dWxh, dWhh, dbh = np.zeros(Wxh.shape), np.zeros(Whh.shape), np.zeros(Whh.shape[0])
    dh_next = np.zeros(h0.shape)
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # the state entering each step
    for t in range(x.shape[1] - 1, -1, -1):
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wxh.T
        dh_next = da @ Whh.T
        dWxh += x[:, t].T @ da
        dWhh += h_before[:, t].T @ da
        dbh += da.sum(axis=0)
    return dx, dh_next, dWxh, dWhh, dbh


def rnn_backward__collect_then_sum(dh, cache):
    # walk back once to collect da at every step, then form each weight gradient in one product
    x, h0, h, Wxh, Whh = cache
    da = np.zeros(h.shape)
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        da[:, t] = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dh_next = da[:, t] @ Whh.T
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # the state entering each step
    dx = da @ Wxh.T
    dWxh = np.einsum("ntd,nth->dh", x, da)
    dWhh = np.einsum("ntk,nth->kh", h_before, da)
    return dx, dh_next, dWxh, dWhh, da.sum(axis=(0, 1))
