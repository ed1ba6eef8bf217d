"""Catalogue entries for 07_char_rnn.

Every name an entry uses exists in the notebook too (numpy, softmax, loss_and_gradients,
clip_gradients, adagrad_update), because the grading tests paste an entry's source into
the released notebook's answer cell.
"""
import numpy as np

from autograde.content.mistakes import mistake
from autograde.content.solution import adagrad_update, clip_gradients, loss_and_gradients, softmax  # noqa: F401

NB = "07_char_rnn"


# -- clip_gradients ---------------------------------------------------------------------
@mistake("clip_gradients", NB, breaks={"test_clip_gradients_values"},
         explain="the gradients come back unclipped: np.clip(g, -max_value, max_value) returns a new "
                 "array, and its result must go into the dict you return.")
def clip_gradients_returns_unclipped(grads, max_value):
    clipped = {}
    for k, g in grads.items():
        np.clip(g, -max_value, max_value)  # the result is thrown away
        clipped[k] = g
    return clipped


@mistake("clip_gradients", NB, breaks={"test_clip_gradients_pure"},
         explain="the clipping writes into the caller's gradient arrays (np.clip(..., out=g) or "
                 "g[g > m] = m): return clipped copies and leave `grads` as it was.")
def clip_gradients_in_place(grads, max_value):
    for g in grads.values():
        np.clip(g, -max_value, max_value, out=g)
    return dict(grads)


@mistake("clip_gradients", NB, breaks={"test_clip_gradients_values"},
         explain="the gradients are rescaled by their global norm (notebook 06's clip_by_global_norm); "
                 "clip_gradients clips every entry on its own into [-max_value, max_value].")
def clip_gradients_by_global_norm(grads, max_value):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    scale = max_value / norm if norm > max_value else 1.0
    return {k: g * scale for k, g in grads.items()}


# -- adagrad_update -----------------------------------------------------------------------
@mistake("adagrad_update", NB, breaks={"test_adagrad_update_params"},
         explain="the parameters are rebound, not updated: `p = p - ...` makes a new array and names it "
                 "p, while the caller's params keep the old one; write `p -= ...` or "
                 "`params[k] -= ...`.")
def adagrad_update_rebinds(params, grads, memory, lr, eps=1e-8):
    for p, g, m in zip(params.values(), grads.values(), memory.values()):
        m += g * g
        p = p - lr * g / np.sqrt(m + eps)


@mistake("adagrad_update", NB, breaks={"test_adagrad_update_params"},
         explain="the step divides by memory itself; Adagrad divides by its square root, "
                 "lr * g / sqrt(memory + eps), so that the step keeps the units of the parameter.")
def adagrad_update_no_sqrt(params, grads, memory, lr, eps=1e-8):
    for k, g in grads.items():
        memory[k] += g * g
        params[k] -= lr * g / (memory[k] + eps)


@mistake("adagrad_update", NB, breaks={"test_adagrad_update_params"},
         explain="the step uses the memory from before this gradient was added: first "
                 "memory += g * g, then the step with the new memory.")
def adagrad_update_stale_memory(params, grads, memory, lr, eps=1e-8):
    for k, g in grads.items():
        params[k] -= lr * g / np.sqrt(memory[k] + eps)
        memory[k] += g * g


# -- sample ---------------------------------------------------------------------------------
@mistake("sample", NB, breaks={"test_sample_distribution"},
         explain="it always takes the most likely id (argmax): that is greedy decoding, not sampling; "
                 "draw the id at random with rng and the probabilities p.")
def sample_greedy(params, h0, seed_id, n, rng, temperature=1.0):
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(params["Wxh"][current] + h @ params["Whh"] + params["bh"])
        p = softmax((h @ params["Why"] + params["by"]) / temperature)
        current = int(np.argmax(p))
        drawn.append(current)
        if current == 0:
            break
    return drawn


@mistake("sample", NB, breaks={"test_sample_distribution"},
         explain="the temperature is ignored: divide the logits by it before the softmax, "
                 "p = softmax(logits / temperature).")
def sample_ignores_temperature(params, h0, seed_id, n, rng, temperature=1.0):
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(params["Wxh"][current] + h @ params["Whh"] + params["bh"])
        p = softmax(h @ params["Why"] + params["by"])
        current = int(rng.choice(len(p), p=p))
        drawn.append(current)
        if current == 0:
            break
    return drawn


@mistake("sample", NB, breaks={"test_sample_distribution"},
         explain="the logits are multiplied by the temperature; they are divided by it, so that a "
                 "temperature below 1 sharpens the distribution and above 1 flattens it.")
def sample_multiplies_temperature(params, h0, seed_id, n, rng, temperature=1.0):
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(params["Wxh"][current] + h @ params["Whh"] + params["bh"])
        p = softmax((h @ params["Why"] + params["by"]) * temperature)
        current = int(rng.choice(len(p), p=p))
        drawn.append(current)
        if current == 0:
            break
    return drawn


@mistake("sample", NB, breaks={"test_sample_stops"},
         explain="the sampling never stops at the boundary: after drawing id 0 (the end of a name) "
                 "append it and stop, or the next name runs on inside this one.")
def sample_never_stops(params, h0, seed_id, n, rng, temperature=1.0):
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(params["Wxh"][current] + h @ params["Whh"] + params["bh"])
        p = softmax((h @ params["Why"] + params["by"]) / temperature)
        current = int(rng.choice(len(p), p=p))
        drawn.append(current)
    return drawn


@mistake("sample", NB, breaks={"test_sample_stops"},
         explain="the boundary id 0 is dropped: the sampling stops at it but must keep it as the "
                 "last id of the list.")
def sample_drops_boundary(params, h0, seed_id, n, rng, temperature=1.0):
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(params["Wxh"][current] + h @ params["Whh"] + params["bh"])
        p = softmax((h @ params["Why"] + params["by"]) / temperature)
        current = int(rng.choice(len(p), p=p))
        if current == 0:
            break
        drawn.append(current)
    return drawn


@mistake("sample", NB, breaks={"test_sample_contract"},
         explain="it draws with np.random, the global generator, instead of the rng it is given, so "
                 "a seeded rng does not reproduce the names.")
def sample_global_random(params, h0, seed_id, n, rng, temperature=1.0):
    h, current, drawn = h0, seed_id, []
    for _ in range(n):
        h = np.tanh(params["Wxh"][current] + h @ params["Whh"] + params["bh"])
        p = softmax((h @ params["Why"] + params["by"]) / temperature)
        current = int(np.random.choice(len(p), p=p))
        drawn.append(current)
        if current == 0:
            break
    return drawn


# -- train_step ------------------------------------------------------------------------------
@mistake("train_step", NB, breaks={"test_train_step_values"},
         explain="the step skips the clipping: pass the gradients through "
                 "clip_gradients(grads, clip) before adagrad_update.")
def train_step_no_clip(params, memory, inputs, targets, mask, lr, clip):
    loss, grads, _ = loss_and_gradients(params, inputs, targets, mask)
    adagrad_update(params, grads, memory, lr)
    return loss


@mistake("train_step", NB, breaks={"test_train_step_values"},
         explain="the mask is not passed to loss_and_gradients, so the padding after each name counts "
                 "in the loss and in the gradients.")
def train_step_ignores_mask(params, memory, inputs, targets, mask, lr, clip):
    loss, grads, _ = loss_and_gradients(params, inputs, targets)
    adagrad_update(params, clip_gradients(grads, clip), memory, lr)
    return loss
