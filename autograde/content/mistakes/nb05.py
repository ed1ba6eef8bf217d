"""Catalogue entries for 05_bptt."""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import (cross_entropy, cross_entropy_backward, one_hot, output_backward,
                                output_forward, rnn_backward, rnn_forward, rnn_step_backward, softmax)

NB = "05_bptt"
GRADS = "test_loss_and_gradients_grads"
STEP_ALL = {"test_rnn_step_backward_dx_t", "test_rnn_step_backward_dh_prev", "test_rnn_step_backward_dWxh",
            "test_rnn_step_backward_dWhh", "test_rnn_step_backward_dbh"}
BPTT_ALL = {"test_rnn_backward_dx", "test_rnn_backward_dh0", "test_rnn_backward_dWxh",
            "test_rnn_backward_dWhh", "test_rnn_backward_dbh"}


# -- output_backward ----------------------------------------------------------
@mistake("output_backward", NB, breaks={"test_output_backward_dWhy", "test_output_backward_dby"},
         explain="dWhy and dby come from the last step only; Why and by are used at every step, so their "
                 "gradients are sums over all steps (and all examples) of the per-step contributions.")
def output_backward_last_step_only(dlogits, h, Why):
    dh = dlogits @ Why.T
    if dlogits.ndim == 3:
        dlogits, h = dlogits[:, -1], h[:, -1]
    return dh, h.T @ dlogits, dlogits.sum(axis=0)


@mistake("output_backward", NB, breaks={"test_output_backward_dby"},
         explain="dby is summed over the batch axis only; by is added to every step of every example, so "
                 "its gradient sums dlogits over all leading axes and has shape (V,).")
def output_backward_dby_batch_sum_only(dlogits, h, Why):
    n_hidden, n_out = Why.shape
    dWhy = h.reshape(-1, n_hidden).T @ dlogits.reshape(-1, n_out)
    return dlogits @ Why.T, dWhy, dlogits.sum(axis=0)


# -- rnn_step_backward ----------------------------------------------------------
@mistake("rnn_step_backward", NB, breaks=STEP_ALL,
         explain="the tanh derivative is taken as 1 - tanh(h_next)**2, applying tanh a second time; h_next "
                 "already is tanh(a), so the derivative is 1 - h_next**2.")
def rnn_step_backward_tanh_applied_again(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next * (1.0 - np.tanh(h_next) ** 2)
    return da @ Wxh.T, da @ Whh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("rnn_step_backward", NB, breaks=STEP_ALL,
         explain="the tanh derivative is computed from the pre-activation a as 1 - a**2; it is "
                 "1 - tanh(a)**2 = 1 - h_next**2, written with the output h_next stored in the cache.")
def rnn_step_backward_derivative_of_preactivation(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    a = x_t @ Wxh + h_prev @ Whh
    da = dh_next * (1.0 - a**2)
    return da @ Wxh.T, da @ Whh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("rnn_step_backward", NB, breaks={"test_rnn_step_backward_dh_prev"},
         explain="dh_prev goes back through Whh instead of Whh.T; the forward pass computes h_prev @ Whh, "
                 "so the gradient flows back as da @ Whh.T.")
def rnn_step_backward_dh_prev_not_transposed(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next * (1.0 - h_next**2)
    return da @ Wxh.T, da @ Whh, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


@mistake("rnn_step_backward", NB, breaks={"test_rnn_step_backward_dWhh"},
         explain="dWhh is built from the new state h_next; Whh multiplies the previous state in the forward "
                 "pass, so dWhh = h_prev.T @ da.")
def rnn_step_backward_dWhh_from_new_state(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next * (1.0 - h_next**2)
    return da @ Wxh.T, da @ Whh.T, x_t.T @ da, h_next.T @ da, da.sum(axis=0)


@mistake("rnn_step_backward", NB, breaks={"test_rnn_step_backward_dWhh"},
         explain="dWhh is built from the gradient dh_prev; a weight's gradient pairs the input the weight "
                 "multiplied (the previous state h_prev) with the gradient below the tanh: h_prev.T @ da.")
def rnn_step_backward_dWhh_from_gradient(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next * (1.0 - h_next**2)
    dh_prev = da @ Whh.T
    return da @ Wxh.T, dh_prev, x_t.T @ da, dh_prev.T @ da, da.sum(axis=0)


@mistake("rnn_step_backward", NB, breaks={"test_rnn_step_backward_pure"},
         explain="the upstream gradient dh_next is multiplied in place (da = dh_next; da *= ...): da is not a "
                 "copy, so the caller's dh_next is overwritten. Write da = dh_next * (1 - h_next**2).")
def rnn_step_backward_writes_into_dh_next(dh_next, cache):
    x_t, h_prev, h_next, Wxh, Whh = cache
    da = dh_next
    da *= 1.0 - h_next**2
    return da @ Wxh.T, da @ Whh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


# -- rnn_backward -------------------------------------------------------------------
@mistake("rnn_backward", NB, breaks=BPTT_ALL,
         explain="dh_next is not added at the junction: the state h_t feeds both the output at step t and "
                 "step t + 1, so the gradient reaching it is dh[:, t] + dh_next.")
def rnn_backward_junction_missing(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros_like(x), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh_prev, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t], (x[:, t], h[:, t - 1] if t > 0 else h0, h[:, t], Wxh, Whh))
        dWxh, dWhh, dbh = dWxh + dWxh_t, dWhh + dWhh_t, dbh + dbh_t
    return dx, dh_prev, dWxh, dWhh, dbh


@mistake("rnn_backward", NB, breaks={"test_rnn_backward_dWxh", "test_rnn_backward_dWhh", "test_rnn_backward_dbh"},
         explain="the weight gradients are assigned at each step (dWxh = ...) instead of accumulated "
                 "(dWxh += ...): the same weights act at every step, so their gradient is the sum over time.")
def rnn_backward_assigned_not_accumulated(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh_next, dWxh, dWhh, dbh = rnn_step_backward(dh[:, t] + dh_next,
                                                               (x[:, t], h[:, t - 1] if t > 0 else h0, h[:, t], Wxh, Whh))
    return dx, dh_next, dWxh, dWhh, dbh


@mistake("rnn_backward", NB, breaks={"test_rnn_backward_dh0"},
         explain="dh0 is returned as zeros; it is the dh_prev that the first step (t = 0) sends back, "
                 "the gradient that flows into the initial state.")
def rnn_backward_dh0_zero(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros_like(x), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        step_cache = (x[:, t], h[:, t - 1] if t > 0 else h0, h[:, t], Wxh, Whh)
        dx[:, t], dh_next, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t] + dh_next, step_cache)
        dWxh, dWhh, dbh = dWxh + dWxh_t, dWhh + dWhh_t, dbh + dbh_t
    return dx, np.zeros_like(h0), dWxh, dWhh, dbh


@mistake("rnn_backward", NB, breaks={"test_rnn_backward_dWhh"},
         explain="the step cache at t holds h[:, t] as h_prev; the state that entered step t is the previous "
                 "one, h[:, t - 1] (h0 at t = 0).")
def rnn_backward_h_prev_off_by_one(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros_like(x), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        step_cache = (x[:, t], h[:, t], h[:, t], Wxh, Whh)
        dx[:, t], dh_next, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t] + dh_next, step_cache)
        dWxh, dWhh, dbh = dWxh + dWxh_t, dWhh + dWhh_t, dbh + dbh_t
    return dx, dh_next, dWxh, dWhh, dbh


@mistake("rnn_backward", NB, breaks={"test_rnn_backward_dWhh"},
         explain="at t = 0 the previous state is taken as h[:, t - 1] = h[:, -1], which in Python is the LAST "
                 "state; the state before step 0 is h0.")
def rnn_backward_h_minus_one_wraps(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros_like(x), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        step_cache = (x[:, t], h[:, t - 1], h[:, t], Wxh, Whh)
        dx[:, t], dh_next, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t] + dh_next, step_cache)
        dWxh, dWhh, dbh = dWxh + dWxh_t, dWhh + dWhh_t, dbh + dbh_t
    return dx, dh_next, dWxh, dWhh, dbh


@mistake("rnn_backward", NB, breaks=BPTT_ALL,
         explain="the loop runs forward in time; backpropagation must start at the last step, since the "
                 "gradient reaching h_t needs dh_next from step t + 1 first.")
def rnn_backward_forward_in_time(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros_like(x), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in range(x.shape[1]):
        dx[:, t], dh_next, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t] + dh_next,
                                                                     (x[:, t], h[:, t - 1] if t > 0 else h0, h[:, t], Wxh, Whh))
        dWxh, dWhh, dbh = dWxh + dWxh_t, dWhh + dWhh_t, dbh + dbh_t
    return dx, dh_next, dWxh, dWhh, dbh


@mistake("rnn_backward", NB, breaks={"test_rnn_backward_pure"},
         explain="the junction is written into the argument (dh[:, t] += dh_next), which changes the caller's "
                 "dh; add into a new array instead: dh[:, t] + dh_next.")
def rnn_backward_writes_into_dh(dh, cache):
    x, h0, h, Wxh, Whh = cache
    dx, dWxh, dWhh, dbh = np.zeros_like(x), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros(Whh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dh[:, t] += dh_next
        dx[:, t], dh_next, dWxh_t, dWhh_t, dbh_t = rnn_step_backward(dh[:, t], (x[:, t], h[:, t - 1] if t > 0 else h0, h[:, t], Wxh, Whh))
        dWxh, dWhh, dbh = dWxh + dWxh_t, dWhh + dWhh_t, dbh + dbh_t
    return dx, dh_next, dWxh, dWhh, dbh


# -- loss_and_gradients -------------------------------------------------------------
@mistake("loss_and_gradients", NB, breaks={GRADS},
         explain="the gradient is summed over the batch while the loss is averaged over it: dlogits must be "
                 "(p - onehot) * mask / N, the derivative of the loss you return.")
def loss_and_gradients_gradient_not_averaged(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = params["Wxh"], params["Whh"], params["bh"], params["Why"], params["by"]
    h0 = np.zeros((inputs.shape[0], Whh.shape[0])) if h0 is None else h0
    h, cache = rnn_forward(one_hot(inputs, Wxh.shape[0]), h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask)
    dlogits = cross_entropy_backward(logits, targets, mask) * inputs.shape[0]
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, -1].copy()


@mistake("loss_and_gradients", NB, breaks={"test_loss_and_gradients_loss"},
         explain="the loss is summed over the batch while its gradient is averaged: the loss is the sum over "
                 "time averaged over the N examples, as cross_entropy computes it.")
def loss_and_gradients_loss_not_averaged(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = params["Wxh"], params["Whh"], params["bh"], params["Why"], params["by"]
    h0 = np.zeros((inputs.shape[0], Whh.shape[0])) if h0 is None else h0
    h, cache = rnn_forward(one_hot(inputs, Wxh.shape[0]), h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask) * inputs.shape[0]
    dlogits = cross_entropy_backward(logits, targets, mask)
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, -1].copy()


@mistake("loss_and_gradients", NB, breaks={GRADS},
         explain="the mask reaches the loss but not its gradient: padded steps add nothing to the loss, so "
                 "they must add nothing to the gradient either (pass mask to cross_entropy_backward too).")
def loss_and_gradients_mask_only_in_loss(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = params["Wxh"], params["Whh"], params["bh"], params["Why"], params["by"]
    h0 = np.zeros((inputs.shape[0], Whh.shape[0])) if h0 is None else h0
    h, cache = rnn_forward(one_hot(inputs, Wxh.shape[0]), h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask)
    dlogits = cross_entropy_backward(logits, targets)
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, -1].copy()


@mistake("loss_and_gradients", NB, breaks={"test_loss_and_gradients_loss", GRADS, "test_loss_and_gradients_h_last"},
         explain="h0 is ignored: the forward pass must start from the given h0 (zeros only when h0 is None), "
                 "so that training can carry the state from one chunk to the next.")
def loss_and_gradients_ignores_h0(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = params["Wxh"], params["Whh"], params["bh"], params["Why"], params["by"]
    h0 = np.zeros((inputs.shape[0], Whh.shape[0]))
    h, cache = rnn_forward(one_hot(inputs, Wxh.shape[0]), h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask)
    dlogits = cross_entropy_backward(logits, targets, mask)
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, -1].copy()


@mistake("loss_and_gradients", NB, breaks={"test_loss_and_gradients_h_last"},
         explain="h_last is the first state h[:, 0]; it should be the state after the last step, h[:, -1], "
                 "the h0 of the next chunk.")
def loss_and_gradients_h_last_is_first(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = params["Wxh"], params["Whh"], params["bh"], params["Why"], params["by"]
    h0 = np.zeros((inputs.shape[0], Whh.shape[0])) if h0 is None else h0
    h, cache = rnn_forward(one_hot(inputs, Wxh.shape[0]), h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask)
    dlogits = cross_entropy_backward(logits, targets, mask)
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, 0].copy()


@mistake("loss_and_gradients", NB, breaks={GRADS},
         explain="dlogits is taken as softmax(logits) - onehot without the mask and the 1/N of the loss; use "
                 "cross_entropy_backward, the exact derivative of cross_entropy.")
def loss_and_gradients_raw_softmax_gradient(params, inputs, targets, mask=None, h0=None):
    Wxh, Whh, bh, Why, by = params["Wxh"], params["Whh"], params["bh"], params["Why"], params["by"]
    h0 = np.zeros((inputs.shape[0], Whh.shape[0])) if h0 is None else h0
    h, cache = rnn_forward(one_hot(inputs, Wxh.shape[0]), h0, Wxh, Whh, bh)
    logits = output_forward(h, Why, by)
    loss = cross_entropy(logits, targets, mask)
    dlogits = softmax(logits) - one_hot(targets, logits.shape[-1])
    dh, dWhy, dby = output_backward(dlogits, h, Why)
    _, _, dWxh, dWhh, dbh = rnn_backward(dh, cache)
    grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh, "Why": dWhy, "by": dby}
    return loss, grads, h[:, -1].copy()
