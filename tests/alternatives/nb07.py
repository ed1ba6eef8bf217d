"""Correct answers to 07_char_rnn written differently from the source notebook."""
import numpy as np

from autograde.content.solution import adagrad_update, clip_gradients, loss_and_gradients  # noqa: F401

NOTEBOOK = "07_char_rnn"


def clip_gradients__min_max(grads, max_value):
    return {name: np.minimum(np.maximum(g, -max_value), max_value) for name, g in grads.items()}


def adagrad_update__replace_dict_items(params, grads, memory, lr, eps=1e-8):
    # assigning into the caller's dicts is an in-place update of the dicts (unlike `p = p - ...`)
    for name in params:
        memory[name] = memory[name] + grads[name] ** 2
        params[name] = params[name] - lr * grads[name] / np.sqrt(memory[name] + eps)


def sample__inverse_cdf(params, h0, seed_id, n, rng, temperature=1.0):
    """Draws with rng.random() and a cumulative sum; one-hot inputs; its own stable softmax."""
    vocab_size = params["Why"].shape[1]
    h, x, drawn = h0, np.eye(vocab_size)[seed_id], []
    while len(drawn) < n:
        h = np.tanh(x @ params["Wxh"] + h @ params["Whh"] + params["bh"])
        z = (h @ params["Why"] + params["by"]) / temperature
        e = np.exp(z - z.max())
        cdf = np.cumsum(e / e.sum())
        next_id = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), vocab_size - 1)
        drawn.append(next_id)
        if next_id == 0:
            break
        x = np.eye(vocab_size)[next_id]
    return drawn


def train_step__inlined(params, memory, inputs, targets, mask, lr, clip):
    loss, grads, _ = loss_and_gradients(params, inputs, targets, mask=mask)
    for name, g in grads.items():
        g = np.clip(g, -clip, clip)
        memory[name] += g * g
        params[name] -= lr * g / np.sqrt(memory[name] + 1e-8)
    return loss
