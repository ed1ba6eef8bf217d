"""Catalogue entries for 01_cell_forward."""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import rnn_step_forward

NB = "01_cell_forward"


@mistake("rnn_step_forward", NB, breaks={"test_rnn_step_forward_values"},
         explain="the state is multiplied by Whh.T; in the row form h_prev (N, H) multiplies Whh "
                 "from the left, h_prev @ Whh (Whh.T belongs to the column form W h).")
def rnn_step_forward_whh_transposed(x_t, h_prev, Wxh, Whh, bh):
    h_next = np.tanh(x_t @ Wxh + h_prev @ Whh.T + bh)
    return h_next, (x_t, h_prev, h_next, Wxh, Whh)


@mistake("rnn_step_forward", NB, breaks={"test_rnn_step_forward_values"},
         explain="the tanh is missing: h_next is the pre-activation x_t @ Wxh + h_prev @ Whh + bh, "
                 "which is unbounded, not tanh of it.")
def rnn_step_forward_no_tanh(x_t, h_prev, Wxh, Whh, bh):
    h_next = x_t @ Wxh + h_prev @ Whh + bh
    return h_next, (x_t, h_prev, h_next, Wxh, Whh)


@mistake("rnn_forward", NB, breaks={"test_rnn_forward_values"},
         explain="h0 is ignored: the first step must start from the given h0, not from zeros "
                 "(later notebooks carry the state across chunks through h0).")
def rnn_forward_ignores_h0(x, h0, Wxh, Whh, bh):
    n_batch, n_steps, _ = x.shape
    h = np.zeros((n_batch, n_steps, Whh.shape[0]))
    h_prev = np.zeros_like(h0)
    for t in range(n_steps):
        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wxh, Whh, bh)
        h[:, t] = h_prev
    return h, (x, h0, h, Wxh, Whh)


@mistake("rnn_forward", NB, breaks={"test_rnn_forward_values"},
         explain="every step starts from h0: the state is never carried forward, so h_prev must "
                 "become the new h_next after each step.")
def rnn_forward_state_not_carried(x, h0, Wxh, Whh, bh):
    n_batch, n_steps, _ = x.shape
    h = np.zeros((n_batch, n_steps, Whh.shape[0]))
    for t in range(n_steps):
        h[:, t], _ = rnn_step_forward(x[:, t], h0, Wxh, Whh, bh)
    return h, (x, h0, h, Wxh, Whh)


@mistake("output_forward", NB, breaks={"test_output_forward_values"},
         explain="the output bias by is missing: logits = h @ Why + by.")
def output_forward_no_bias(h, Why, by):
    return h @ Why
