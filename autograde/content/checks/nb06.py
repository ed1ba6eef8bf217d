"""Hidden checks of 06_vanishing_exploding: impulse_response, linear_recurrence_norms,
spectral_radius, hidden_gradient_norms, clip_by_global_norm.

The test matrices are chosen so that the catalogue's mistakes give different numbers:
non-symmetric (so a transpose shows), non-normal (largest singular value != spectral
radius), complex eigenvalues and a dominant negative eigenvalue (so "largest real part"
and "largest eigenvalue" are not the radius). Every value stays finite: a correct answer
in the exploding regime must never depend on how overflow is handled.
"""
import numpy as np

from autograde.content.checking import check_pure, check_shapes, check_values, rng_for


# -- impulse_response -----------------------------------------------------------
IMPULSE = [(-0.9, 12), (0.5, 7), (1.2, 20), (-1.1, 15), (0.0, 5), (1.0, 6), (0.97, 1), (-0.3, 2)]


def _impulse_cases():
    return [((w, n), {}) for w, n in IMPULSE]


def impulse_response_shape(fn):
    check_shapes("impulse_response", fn, _impulse_cases(), [(n,) for _, n in IMPULSE])


def impulse_response_values(fn):
    check_values("impulse_response", fn, _impulse_cases(), what="impulse response h_0 .. h_{n_steps-1}")


# -- linear_recurrence_norms ------------------------------------------------------
def _matrices(rng, H):
    """Square matrices with the traits the mistakes need (see the module docstring)."""
    A = rng.standard_normal((H, H))
    rotation = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    nonnormal = np.array([[0.9, 3.0], [0.0, -0.8]])
    return [A / np.max(np.abs(np.linalg.eigvals(A))) * 0.95,           # random, complex eigenvalues
            A / np.max(np.abs(np.linalg.eigvals(A))) * 1.05,           # the same, slowly exploding
            1.02 * rotation,                                           # a rotation: |h| grows by 1.02
            nonnormal,                                                 # grows for a while, then decays
            np.diag([-1.1, 0.5, 0.3]) + np.triu(np.full((3, 3), 0.4), 1)]  # dominant negative eigenvalue


def _recurrence_cases(name):
    rng = rng_for(name)
    cases = []
    for W, n in zip(_matrices(rng, 5), [15, 25, 9, 12, 10]):
        cases.append(((W, rng.standard_normal(W.shape[0]), n), {}))
    cases.append(((cases[0][0][0], rng.standard_normal(5), 1), {}))  # one step: only ||h0||
    return cases


def linear_recurrence_norms_shape(fn):
    cases = _recurrence_cases("linear_recurrence_norms_shape")
    check_shapes("linear_recurrence_norms", fn, cases, [(args[2],) for args, _ in cases])


def linear_recurrence_norms_values(fn):
    check_values("linear_recurrence_norms", fn, _recurrence_cases("linear_recurrence_norms_values"),
                 what="sequence of norms ||h_t||")


def linear_recurrence_norms_pure(fn):
    check_pure("linear_recurrence_norms", fn, _recurrence_cases("linear_recurrence_norms_pure"),
               ["W", "h0", "n_steps"])


# -- spectral_radius ----------------------------------------------------------------
def spectral_radius_values(fn):
    rng = rng_for("spectral_radius_values")
    matrices = _matrices(rng, 6) + [
        np.diag([-2.0, 1.0]) @ np.array([[1.0, 0.5], [0.0, 1.0]]),      # eigenvalues -2 and 1
        np.array([[0.5, 10.0], [0.0, 0.5]]),                              # radius 0.5, 2-norm about 10
        rng.standard_normal((1, 1)),                                      # a 1 x 1 matrix (negative)
        rng.standard_normal((7, 7)),
    ]
    check_values("spectral_radius", fn, [((W,), {}) for W in matrices], what="spectral radius")
    check_pure("spectral_radius", fn, [((W,), {}) for W in matrices], ["W"])


# -- hidden_gradient_norms --------------------------------------------------------------
# (N, T, D, H, spectral radius of Whh): a batch of one, saturating and vanishing regimes
GRADIENT_SHAPES = [(3, 8, 4, 5, 1.3), (1, 6, 2, 3, 0.8), (4, 10, 3, 6, 2.0), (2, 1, 3, 4, 1.0)]


def _gradient_cases(name):
    rng = rng_for(name)
    cases = []
    for N, T, D, H, radius in GRADIENT_SHAPES:
        Whh = rng.standard_normal((H, H))
        Whh *= radius / np.max(np.abs(np.linalg.eigvals(Whh)))
        params = {"Wxh": rng.standard_normal((D, H)) * 0.7, "Whh": Whh, "bh": rng.standard_normal(H) * 0.2}
        cases.append(((params, rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H)))), {}))
    return cases


def hidden_gradient_norms_shape(fn):
    check_shapes("hidden_gradient_norms", fn, _gradient_cases("hidden_gradient_norms_shape"),
                 [(T,) for _, T, _, _, _ in GRADIENT_SHAPES], parts=("rnn_forward",))


def hidden_gradient_norms_values(fn):
    check_values("hidden_gradient_norms", fn, _gradient_cases("hidden_gradient_norms_values"),
                 parts=("rnn_forward",), what="gradient norms ||dL/dh_t||")


def hidden_gradient_norms_pure(fn):
    check_pure("hidden_gradient_norms", fn, _gradient_cases("hidden_gradient_norms_pure"),
               ["params", "x", "h0"], parts=("rnn_forward",))


# -- clip_by_global_norm --------------------------------------------------------------
def _grads(rng, scale):
    return {"Wxh": rng.standard_normal((3, 4)) * scale, "Whh": rng.standard_normal((4, 4)) * scale * 3,
            "bh": rng.standard_normal(4) * scale, "Why": rng.standard_normal((4, 5)) * scale * 0.2,
            "by": rng.standard_normal(5) * scale}


def _clip_cases(name, big):
    """big: global norms well above max_norm (the gradients are clipped); else well below."""
    rng = rng_for(name)
    if big:
        return [((_grads(rng, 2.0), 5.0), {}), ((_grads(rng, 50.0), 1.0), {}), ((_grads(rng, 0.5), 0.25), {})]
    return [((_grads(rng, 0.1), 5.0), {}), ((_grads(rng, 1.0), 100.0), {})]


def clip_by_global_norm_values(fn):
    check_values("clip_by_global_norm", fn, _clip_cases("clip_by_global_norm_values", big=True),
                 select=lambda out: out[0], what="clipped gradients")


def clip_by_global_norm_norm(fn):
    cases = _clip_cases("clip_by_global_norm_norm", big=True) + _clip_cases("clip_by_global_norm_norm", big=False)
    check_values("clip_by_global_norm", fn, cases, select=lambda out: out[1],
                 what="returned norm (the global norm before clipping)")


def clip_by_global_norm_small(fn):
    check_values("clip_by_global_norm", fn, _clip_cases("clip_by_global_norm_small", big=False),
                 select=lambda out: out[0], what="result for gradients whose global norm is below max_norm")


def clip_by_global_norm_pure(fn):
    check_pure("clip_by_global_norm", fn, _clip_cases("clip_by_global_norm_pure", big=True),
               ["grads", "max_norm"])
