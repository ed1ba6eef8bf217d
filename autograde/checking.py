"""What every hidden test uses: call a student's function safely, compare it with the
solution, and turn a failure into feedback that names the mistake, not the answer.

A hidden test cell calls one check from ``autograde.checks.nbXX``; a check either
prints one line saying what it verified, or raises ``CheckFailed`` with a message
written for the student. Messages never contain reference values: they name the
catalogue entry that the student's output matches, or else the property that
failed (shape, dtype, NaN, an argument that was modified, ...).
"""
import contextlib
import copy
import warnings
import zlib

import numpy as np

from autograde import mistakes, solution


class CheckFailed(AssertionError):
    """A hidden check failed; the message is meant for the student."""

    def _render_traceback_(self):
        # IPython prints this instead of the stack, so feedback shows the message, not the grader's code
        return [f"\x1b[0;31mCheckFailed\x1b[0m: {self}"]


def fail(message):
    raise CheckFailed(message)


def passed(message):
    print(f"PASSED {message}")


def rng_for(check_name):
    """A generator seeded by the check's name: fresh inputs, the same on every run."""
    return np.random.default_rng(zlib.crc32(check_name.encode()))


def describe(value):
    """A short, value-free description of an output, for messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"a {type(value).__name__}"


def same(a, b, rtol=1e-7, atol=1e-10):
    """True when two outputs agree: arrays by shape and value, containers item by item."""
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol) for k in b)
    if isinstance(b, (tuple, list)):
        return isinstance(a, (tuple, list)) and len(a) == len(b) and all(
            same(x, y, rtol, atol) for x, y in zip(a, b))
    if b is None:
        return a is None
    if isinstance(b, (str, bytes)):
        return a == b
    try:
        a_arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    b_arr = np.asarray(b, dtype=np.float64)
    return a_arr.shape == b_arr.shape and bool(np.allclose(a_arr, b_arr, rtol=rtol, atol=atol, equal_nan=True))


@contextlib.contextmanager
def quiet():
    """Silence numpy warnings: a correct answer never loses points to an overflow warning."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def call(name, fn, *args, **kwargs):
    """Run the student's ``fn`` on deep copies of the arguments; explain any exception."""
    args, kwargs = copy.deepcopy((args, kwargs))
    try:
        with quiet():
            return fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"`{name}` is not implemented yet: it still raises NotImplementedError.")
    except CheckFailed:
        raise
    except Exception as exc:  # the student's own error, reported as such
        fail(f"`{name}` raised {type(exc).__name__}: {exc}")


def _run_entry(entry, args, kwargs):
    args, kwargs = copy.deepcopy((args, kwargs))
    try:
        with quiet():
            return entry(*args, **kwargs), args, kwargs
    except Exception:
        return None, args, kwargs


def diagnose(name, cases, student_outputs, select=lambda out: out, tol=(1e-6, 1e-9)):
    """The catalogue entry for ``name`` whose outputs match the student's on every case, or None."""
    for entry in mistakes.for_function(name):
        outputs = [_run_entry(entry, args, kwargs)[0] for args, kwargs in cases]
        if all(out is not None and same(select(got), select(out), *tol)
               for got, out in zip(student_outputs, outputs)):
            return entry
    return None


@contextlib.contextmanager
def reference_parts(fn, parts):
    """Temporarily replace, in the student's notebook namespace, the functions that ``fn``
    calls (``parts``) with the solution's, so that ``fn`` is graded on its own logic."""
    namespace = getattr(fn, "__globals__", {})
    saved = {part: namespace[part] for part in parts if part in namespace}
    namespace.update({part: getattr(solution, part) for part in saved})
    try:
        yield
    finally:
        namespace.update(saved)


def _property_hint(got, expected):
    """Which property of the output is off, without revealing the expected values."""
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"it returned {describe(got)} where an array of shape {expected.shape} was expected"
        if got.shape != expected.shape:
            return f"it returned shape {got.shape} where {expected.shape} was expected"
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            return "its output contains NaN or inf (an overflow somewhere?)"
        return "its values are wrong"
    if isinstance(expected, (tuple, list, dict)) and describe(got) != describe(expected):
        return f"it returned {describe(got)} where {describe(expected)} was expected"
    return "its values are wrong"


def check_values(name, fn, cases, *, select=lambda out: out, parts=(), what="output",
                 rtol=1e-7, atol=1e-10, label=None):
    """Compare ``select(fn(*args))`` with the solution's on every ``(args, kwargs)`` case.

    ``parts``: functions from earlier exercises that ``fn`` calls; if the student's
    result is wrong only because of those, the check passes with a note.
    """
    reference = getattr(solution, name)
    with quiet():
        expected = [select(reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))) for args, kwargs in cases]
    agrees = lambda outputs: all(same(select(o), e, rtol, atol) for o, e in zip(outputs, expected))
    outputs = [call(name, fn, *args, **kwargs) for args, kwargs in cases]
    if agrees(outputs):
        passed(label or f"`{name}` agrees with the reference ({what}) on {len(cases)} random inputs")
        return
    if parts:
        with reference_parts(fn, parts):
            outputs = [call(name, fn, *args, **kwargs) for args, kwargs in cases]
        if agrees(outputs):
            print(f"NOTE `{name}` itself is right, but with your own {', '.join(parts)} the result differs: "
                  f"fix those first (their own checks say how).")
            passed(label or f"`{name}` agrees with the reference ({what}) when it calls the reference parts")
            return
    bad = next(i for i, (o, e) in enumerate(zip(outputs, expected)) if not same(select(o), e, rtol, atol))
    entry = diagnose(name, cases, outputs, select, tol=(rtol * 10, atol * 10))
    message = f"`{name}`: the {what} is wrong on random input {bad + 1} of {len(cases)}"
    if entry is not None:
        fail(f"{message}. This looks like a known mistake: {entry.explain}")
    fail(f"{message}: {_property_hint(select(outputs[bad]), expected[bad])}.")


def check_pure(name, fn, cases, arg_names, parts=()):
    """Fail if ``fn`` writes into any of its arguments."""
    for args, kwargs in cases:
        mine = copy.deepcopy((args, kwargs))
        with reference_parts(fn, parts):
            try:
                with quiet():
                    fn(*mine[0], **mine[1])
            except NotImplementedError:
                fail(f"`{name}` is not implemented yet: it still raises NotImplementedError.")
            except Exception as exc:
                fail(f"`{name}` raised {type(exc).__name__}: {exc}")
        changed = [arg for arg, before, after in zip(arg_names, args, mine[0]) if not same(after, before, 0, 0)]
        if changed:
            message = (f"`{name}` modified its argument `{changed[0]}`. A function that computes a new "
                       f"array must leave its inputs untouched: `e = z` does not copy, it names the same array.")
            for entry in mistakes.for_function(name):
                _, entry_args, _ = _run_entry(entry, args, kwargs)
                if not same(entry_args[arg_names.index(changed[0])], args[arg_names.index(changed[0])], 0, 0):
                    message += f" This looks like a known mistake: {entry.explain}"
                    break
            fail(message)
    passed(f"`{name}` leaves its arguments unmodified")


def check_shapes(name, fn, cases, expected_shapes, select=lambda out: out, dtype=np.floating):
    """Fail unless ``select(fn(*args))`` has the expected shape (and dtype kind) on every case."""
    for (args, kwargs), shape in zip(cases, expected_shapes):
        out = select(call(name, fn, *args, **kwargs))
        if not isinstance(out, np.ndarray):
            fail(f"`{name}` should return a NumPy array of shape {shape}, not {describe(out)}.")
        if out.shape != tuple(shape):
            fail(f"`{name}` returned shape {out.shape}; for these inputs the shape should be {tuple(shape)}.")
        if dtype is not None and not np.issubdtype(out.dtype, dtype):
            kind = "float" if dtype is np.floating else "integer"
            fail(f"`{name}` returned dtype {out.dtype}; it should be a {kind} array.")
    passed(f"`{name}` returns the right shape on {len(cases)} inputs")
