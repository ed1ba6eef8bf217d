"""The solution's forward pass plus BPTT against PyTorch's CPU autograd on the same computation.

One call of ``solution.loss_and_gradients`` (one-hot inputs, tanh recurrence, logits, masked
cross-entropy, and the gradients of all five parameters) against the same graph built
with torch tensors and ``loss.backward()``: N = 32, T = 25, V = 28, H = 100, float64, one
thread each (the machine is shared). Both results are checked to agree before timing.
Prints the median time of each and the ratio solution / PyTorch (goal: at most 0.7).

PyTorch is not a dependency of the course. Run it where torch is installed, e.g. a scratch
venv:  python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
       /tmp/torchvenv/bin/python benchmarks/vs_pytorch.py [repeats]
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before numpy is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pathlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograde.content import solution  # noqa: E402

N, T, V, H = 32, 25, 28, 100
GOAL = 0.7


def torch_loss_and_gradients(torch, params, inputs, targets, mask):
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x = torch.nn.functional.one_hot(torch.as_tensor(inputs), V).to(torch.float64)
    h = torch.zeros(inputs.shape[0], H, dtype=torch.float64)
    states = []
    for t in range(inputs.shape[1]):
        h = torch.tanh(x[:, t] @ p["Wxh"] + h @ p["Whh"] + p["bh"])
        states.append(h)
    logits = torch.stack(states, dim=1) @ p["Why"] + p["by"]
    log_p = torch.log_softmax(logits, dim=-1)
    picked = log_p.gather(-1, torch.as_tensor(targets)[..., None])[..., 0]
    loss = -(picked * torch.as_tensor(mask)).sum() / inputs.shape[0]
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in p.items()}


def median_times(fns, repeats):
    """Median time of each function, measured in rotation (one call of each per round), so that
    a machine whose load changes during the run slows all of them alike."""
    for fn in fns:
        fn()  # warm up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, log in zip(fns, times):
            start = time.perf_counter()
            fn()
            log.append(time.perf_counter() - start)
    return [statistics.median(log) for log in times]


def main():
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed here: benchmark skipped (it is never a dependency of the course).")
        return
    torch.set_num_threads(1)
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = np.random.default_rng(0)
    params = solution.init_params(V, H, rng, scale=0.1)
    inputs, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    mask = (rng.random((N, T)) < 0.9).astype(np.float64)

    loss, grads, _ = solution.loss_and_gradients(params, inputs, targets, mask)
    t_loss, t_grads = torch_loss_and_gradients(torch, params, inputs, targets, mask)
    assert np.isclose(loss, t_loss) and all(np.allclose(grads[k], t_grads[k]) for k in grads), \
        "the two computations disagree"

    ours, theirs = median_times([
        lambda: solution.loss_and_gradients(params, inputs, targets, mask),
        lambda: torch_loss_and_gradients(torch, params, inputs, targets, mask)], repeats)
    ratio = ours / theirs
    print(f"N={N} T={T} V={V} H={H} float64, 1 thread, medians of {repeats} rounds; torch {torch.__version__}")
    print(f"solution loss_and_gradients: {ours * 1e3:7.3f} ms")
    print(f"PyTorch autograd:            {theirs * 1e3:7.3f} ms")
    print(f"ratio solution / PyTorch: {ratio:.2f} (goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
