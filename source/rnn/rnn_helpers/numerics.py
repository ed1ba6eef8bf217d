"""Checking your work numerically: relative error and centred finite differences (notebooks 01 to 08)."""
import numpy as np


def rel_error(a, b):
    """Largest relative error between two arrays of the same shape.

    Each entry contributes |a - b| / max(|a| + |b|, 1e-12): the small floor keeps
    the ratio finite where both are zero. In float64, a correct gradient gives
    about 1e-7 or less; 1e-2 or more means a bug.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: a has shape {a.shape} but b has shape {b.shape}; "
                         "compare arrays of the same shape")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def numerical_gradient(f, x, df=None, step=1e-5):
    """Centred finite differences of f at x, one entry of x at a time.

    f: function of no arguments that reads x and returns a float or an array.
    x: float64 array, nudged in place and restored.
    df: upstream gradient, the same shape as f's output (omit when f returns a float).
    Returns an array shaped like x: sum((f(x + step) - f(x - step)) * df) / (2 step).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: x must be a float64 array, got "
                        f"{type(x).__name__} {getattr(x, 'dtype', '')}")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + step
        f_plus = np.array(f(), dtype=np.float64)
        x[index] = original - step
        f_minus = np.array(f(), dtype=np.float64)
        x[index] = original
        if df is None:
            if f_plus.size != 1:
                raise ValueError(f"numerical_gradient: f returns shape {f_plus.shape}; pass df, "
                                 "the upstream gradient of that shape")
            grad[index] = (f_plus - f_minus).item() / (2 * step)
        else:
            if np.shape(df) != f_plus.shape:
                raise ValueError(f"numerical_gradient: df has shape {np.shape(df)} but f returns "
                                 f"shape {f_plus.shape}")
            grad[index] = np.sum((f_plus - f_minus) * df) / (2 * step)
    return grad
