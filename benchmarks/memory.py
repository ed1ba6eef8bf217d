"""Peak memory of one training step against the size of the activations it caches.

One ``solution.train_step`` at N = 256, T = 50, H = 256, V = 27 (float64), measured with
tracemalloc (NumPy reports its array buffers to it). The parameters, the Adagrad memory
and the batch are allocated before tracing starts, so the peak is what the step itself
allocates. The cached activations are what the backward pass needs from the forward
pass: the one-hot inputs x (N, T, V), the states h (N, T, H) and the logits (N, T, V).

Run from the repository root:  python benchmarks/memory.py
"""
import pathlib
import sys
import tracemalloc

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograde.content import solution  # noqa: E402

N, T, H, V = 256, 50, 256, 27


def main():
    rng = np.random.default_rng(0)
    params = solution.init_params(V, H, rng, scale=0.1)
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    inputs, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    mask = np.ones((N, T))
    solution.train_step(params, memory, inputs, targets, mask, 0.1, 5.0)  # warm up (imports, caches)

    tracemalloc.start()
    solution.train_step(params, memory, inputs, targets, mask, 0.1, 5.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    item = np.dtype(np.float64).itemsize
    cached = {"x one-hot (N, T, V)": N * T * V * item, "h (N, T, H)": N * T * H * item,
              "logits (N, T, V)": N * T * V * item}
    total = sum(cached.values())
    print(f"N={N} T={T} H={H} V={V} float64, one train_step")
    for name, size in cached.items():
        print(f"  cached {name:<20} {size / 2**20:7.2f} MiB")
    print(f"cached activations:        {total / 2**20:7.2f} MiB")
    print(f"peak traced during step:   {peak / 2**20:7.2f} MiB")
    print(f"ratio peak / cached activations: {peak / total:.2f}")


if __name__ == "__main__":
    main()
