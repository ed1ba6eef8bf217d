"""Batched training against per-example training in the style of min-char-rnn.

Both train the same model (H = 64, Adagrad lr 0.1, entries clipped to [-5, 5]) on the same
names, in the same order, until the loss per character on a fixed set of 1,000 training
names falls below TARGET. The per-example trainer is min-char-rnn's: column vectors, one
name per update, loops over time with dicts of states. The batched trainer is the
course's: ``solution.train_step`` on N = 32 names at a time. Only training time is
counted (the evaluations are excluded); the script prints the wall-time ratio.

Run from the repository root:  python benchmarks/batched_vs_per_example.py [target]
"""
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "source" / "rnn"))

from autograde.content import solution  # noqa: E402
from rnn_helpers import load_names  # noqa: E402

TARGET = float(sys.argv[1]) if len(sys.argv) > 1 else 2.3   # nats per character
H, LR, CLIP, BATCH = 64, 0.1, 5.0, 32
EVAL_EVERY = 640        # names seen between two evaluations, for both trainers
TIME_CAP = 300.0        # seconds of training per trainer


def per_example_update(p, mem, inputs, targets):
    """min-char-rnn's lossFun and Adagrad update, for one sequence (column form, W matrices transposed)."""
    Wxh, Whh, Why, bh, by = p["Wxh"], p["Whh"], p["Why"], p["bh"], p["by"]
    V = Why.shape[0]
    xs, hs, ps = {}, {-1: np.zeros((Whh.shape[0], 1))}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys - ys.max()) / np.sum(np.exp(ys - ys.max()))
        loss += -np.log(ps[t][targets[t], 0])
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        grads["Why"] += np.dot(dy, hs[t].T)
        grads["by"] += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        grads["bh"] += dhraw
        grads["Wxh"] += np.dot(dhraw, xs[t].T)
        grads["Whh"] += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    for k in p:
        np.clip(grads[k], -CLIP, CLIP, out=grads[k])
        mem[k] += grads[k] * grads[k]
        p[k] += -LR * grads[k] / np.sqrt(mem[k] + 1e-8)
    return loss


def column_to_row(p):
    """The same model in the course's row form, to evaluate both trainers with one function."""
    return {"Wxh": p["Wxh"].T, "Whh": p["Whh"].T, "bh": p["bh"][:, 0], "Why": p["Why"].T, "by": p["by"][:, 0]}


def main():
    names = load_names()
    chars, char_to_id = solution.build_vocab(names)
    V = len(chars)
    order = np.random.default_rng(0).permutation(len(names))
    stream = [solution.encode(names[i], char_to_id) for i in order]        # the same order for both
    ids, lengths = solution.pad_batch(stream[:1000])
    eval_batch = solution.shift_labels(ids, lengths)

    def loss_per_char(row_params):
        inputs, targets, mask = eval_batch
        loss, _, _ = solution.loss_and_gradients(row_params, inputs, targets, mask)
        return loss * len(inputs) / mask.sum()

    start_params = solution.init_params(V, H, np.random.default_rng(7))

    # -- batched ------------------------------------------------------------------------------
    params = {k: v.copy() for k, v in start_params.items()}
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    seen, trained, reached = 0, 0.0, None
    while trained < TIME_CAP:
        t0 = time.perf_counter()
        for _ in range(EVAL_EVERY // BATCH):
            chunk = [stream[(seen + n) % len(stream)] for n in range(BATCH)]
            ids, lengths = solution.pad_batch(chunk)
            solution.train_step(params, memory, *solution.shift_labels(ids, lengths), LR, CLIP)
            seen += BATCH
        trained += time.perf_counter() - t0
        loss = loss_per_char(params)
        if loss < TARGET:
            reached = (trained, seen, loss)
            break
    if reached is None:
        sys.exit(f"batched training did not reach {TARGET} in {TIME_CAP} s")
    batched_time, batched_seen, batched_loss = reached
    print(f"batched (N = {BATCH}):    {batched_seen:6d} names, {batched_time:6.2f} s -> {batched_loss:.3f} nats/char")

    # -- per example, min-char-rnn style ----------------------------------------------------------
    col = {"Wxh": start_params["Wxh"].T.copy(), "Whh": start_params["Whh"].T.copy(),
           "Why": start_params["Why"].T.copy(), "bh": start_params["bh"][:, None].copy(),
           "by": start_params["by"][:, None].copy()}
    memory = {k: np.zeros_like(v) for k, v in col.items()}
    seen, trained, reached = 0, 0.0, None
    while trained < TIME_CAP:
        t0 = time.perf_counter()
        for _ in range(EVAL_EVERY):
            seq = stream[seen % len(stream)]
            per_example_update(col, memory, seq[:-1], seq[1:])
            seen += 1
        trained += time.perf_counter() - t0
        loss = loss_per_char(column_to_row(col))
        if loss < TARGET:
            reached = (trained, seen, loss)
            break
    if reached is None:
        print(f"per example: did not reach {TARGET} within {TIME_CAP} s of training; ratio at least "
              f"{TIME_CAP / batched_time:.1f}")
        return
    single_time, single_seen, single_loss = reached
    print(f"per example (N = 1): {single_seen:6d} names, {single_time:6.2f} s -> {single_loss:.3f} nats/char")
    print(f"ratio per-example / batched wall time to reach {TARGET} nats/char: {single_time / batched_time:.1f}")


if __name__ == "__main__":
    main()
