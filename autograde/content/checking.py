"""What every hidden test uses: call a student's function safely, compare it with the
solution, and turn a failure into feedback that names the mistake, not the answer.

A hidden test cell calls one check from ``autograde.content.checks.nbXX``; a check either
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

from autograde.content import mistakes, solution


class CheckFailed(AssertionError):
    """A hidden check failed; the message is meant for the student."""

    def _render_traceback_(self):
        # IPython prints this instead of the stack, so feedback shows the message, not the grader's code
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class NotWritten(CheckFailed):
    """The graded function is still the release's stub (it raises NotImplementedError itself)."""


class PartNotWritten(CheckFailed):
    """The graded function calls an earlier exercise's function that still raises NotImplementedError."""


class StudentError(CheckFailed):
    """The student's function raised an exception; the message names it."""


class KnownMistake(CheckFailed):
    """The student's output matches a catalogue entry (``entry``); the message explains that mistake."""

    def __init__(self, message, entry):
        super().__init__(f"{message}. {KNOWN_MISTAKE}{entry.explain}")
        self.entry = entry


KNOWN_MISTAKE = "This looks like a known mistake: "  # how feedback and the class report recognise a diagnosis


def fail(message):
    raise CheckFailed(message)


def fail_as(message, entry):
    """Fail naming the catalogue ``entry`` when there is one, else with ``message`` alone."""
    if entry is not None:
        raise KnownMistake(message, entry)
    fail(f"{message}.")


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


def not_implemented(name, fn, exc):
    """Fail with the reason for a NotImplementedError that came out of the student's ``fn``.

    Raised by ``fn``'s own body, the answer cell is still the release's stub. Raised deeper, by
    a function from an earlier notebook that ``fn`` calls, ``fn`` itself may be right: the
    message names that function, and checks with ``parts`` retry on the reference parts.
    """
    if hasattr(exc, "own"):  # raised in the student's kernel (autograde.runtime.judge.remote), which says by whom
        own, raised_by = exc.own, exc.raised_by
    else:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code if tb is not None else None
        own = code is None or code is getattr(fn, "__code__", None)
        raised_by = code.co_name if code is not None else ""
    if own:
        raise NotWritten(f"`{name}` is not implemented yet: it still raises NotImplementedError.")
    raise PartNotWritten(f"`{name}` calls your `{raised_by}`, which is not implemented yet "
                         f"(it raises NotImplementedError).")


def run_student(name, fn, args, kwargs):
    """``fn(*args, **kwargs)``, the student's function called on exactly these objects, with numpy
    warnings silenced; any exception it raises becomes a ``CheckFailed`` that says what happened
    (``NotWritten``, ``PartNotWritten`` or ``StudentError``)."""
    try:
        with quiet():
            return fn(*args, **kwargs)
    except NotImplementedError as exc:
        not_implemented(name, fn, exc)
    except CheckFailed:
        raise
    except Exception as exc:  # the student's own error, reported as such
        raise StudentError(f"`{name}` raised {type(exc).__name__}: {exc}") from None


def run_student_repeatedly(name, fn, n, args, kwargs):
    """``[fn(*args, **kwargs) for _ in range(n)]`` on exactly these objects, as ``run_student`` does one
    call; a function in the student's kernel (``autograde.runtime.judge.remote``) makes the n calls in one request."""
    if hasattr(fn, "repeat"):
        return run_student(name, fn.repeat, (n, *args), kwargs)
    return [run_student(name, fn, args, kwargs) for _ in range(n)]


def call(name, fn, *args, **kwargs):
    """Run the student's ``fn`` on deep copies of the arguments; explain any exception."""
    args, kwargs = copy.deepcopy((args, kwargs))
    return run_student(name, fn, args, kwargs)


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


@contextlib.contextmanager
def own_parts_recorded(fn, parts):
    """Run ``fn`` with the student's own ``parts`` and note their calls: after the block, item 0 of the
    yielded verdict is True when every call returned what the solution's part returns on the same
    arguments, so that the run went exactly as with the reference parts (a failure is then ``fn``'s
    own, and need not be run again with them). Graded in the student's kernel, this saves the round trip to the grader
    that each call of a reference part costs; for a local function it vouches for nothing."""
    if not hasattr(fn, "recording"):
        yield [False]
        return
    with fn.recording(parts, {part: getattr(solution, part) for part in parts}) as verdict:
        yield verdict


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
    try:
        outputs = [call(name, fn, *args, **kwargs) for args, kwargs in cases]
    except CheckFailed:
        if not parts:
            raise
        outputs = None  # perhaps only a part failed (not written yet, or raising): try the reference parts
    if outputs is not None and agrees(outputs):
        passed(label or f"`{name}` agrees with the reference ({what}) on {len(cases)} random inputs")
        return
    if parts:
        with reference_parts(fn, parts):
            outputs = [call(name, fn, *args, **kwargs) for args, kwargs in cases]  # errors now are fn's own
        if agrees(outputs):
            print(f"NOTE `{name}` itself is right, but with your own {', '.join(parts)} it fails or gives a "
                  f"different result: fix those first (their own checks say how).")
            passed(label or f"`{name}` agrees with the reference ({what}) when it calls the reference parts")
            return
    bad = next(i for i, (o, e) in enumerate(zip(outputs, expected)) if not same(select(o), e, rtol, atol))
    entry = diagnose(name, cases, outputs, select, tol=(rtol * 10, atol * 10))
    message = f"`{name}`: the {what} is wrong on random input {bad + 1} of {len(cases)}"
    if entry is not None:
        raise KnownMistake(message, entry)
    fail(f"{message}: {_property_hint(select(outputs[bad]), expected[bad])}.")


def check_pure(name, fn, cases, arg_names, parts=()):
    """Fail if ``fn`` writes into any of its arguments."""
    for args, kwargs in cases:
        mine = copy.deepcopy((args, kwargs))
        with reference_parts(fn, parts):
            run_student(name, fn, *mine)
        changed = [arg for arg, before, after in zip(arg_names, args, mine[0]) if not same(after, before, 0, 0)]
        if changed:
            message = (f"`{name}` modified its argument `{changed[0]}`. A function that computes a new "
                       f"array must leave its inputs untouched: `e = z` does not copy, it names the same array.")
            for entry in mistakes.for_function(name):
                _, entry_args, _ = _run_entry(entry, args, kwargs)
                if not same(entry_args[arg_names.index(changed[0])], args[arg_names.index(changed[0])], 0, 0):
                    raise KnownMistake(message.rstrip("."), entry)
            fail(message)
    passed(f"`{name}` leaves its arguments unmodified")


def check_shapes(name, fn, cases, expected_shapes, select=lambda out: out, dtype=np.floating, parts=()):
    """Fail unless ``select(fn(*args))`` has the expected shape (and dtype kind) on every case.

    ``parts``: functions from earlier exercises that ``fn`` calls; the shape is ``fn``'s own
    responsibility, so it is checked with the reference parts.
    """
    for (args, kwargs), shape in zip(cases, expected_shapes):
        with reference_parts(fn, parts):
            out = select(call(name, fn, *args, **kwargs))
        if not isinstance(out, np.ndarray):
            fail(f"`{name}` should return a NumPy array of shape {shape}, not {describe(out)}.")
        if out.shape != tuple(shape):
            fail(f"`{name}` returned shape {out.shape}; for these inputs the shape should be {tuple(shape)}.")
        if dtype is not None and not np.issubdtype(out.dtype, dtype):
            kind = "float" if dtype is np.floating else "integer"
            fail(f"`{name}` returned dtype {out.dtype}; it should be a {kind} array.")
    passed(f"`{name}` returns the right shape on {len(cases)} inputs")


def check_in_place(name, fn, cases, arg_names, mutated, *, returns=None, parts=(), rtol=1e-7, atol=1e-10):
    """Compare what ``fn`` leaves in the arguments named in ``mutated`` (and, when ``returns``
    names it, its return value) with what the solution leaves, on every ``(args, kwargs)`` case.

    For functions that update their arguments in place (an optimiser step). ``parts`` as in
    ``check_values``: when only the student's earlier functions make the result differ, the check
    passes with a note that names those parts.
    """
    reference = getattr(solution, name)
    slots = [arg_names.index(a) for a in mutated]
    labels = ([f"the returned {returns}"] if returns else []) + [f"`{a}` after the call" for a in mutated]

    def outcome(result, args):
        return ((result,) if returns else ()) + tuple(args[i] for i in slots)

    def run(impl, student=True):
        outs = []
        for args, kwargs in cases:
            args, kwargs = copy.deepcopy((list(args), kwargs))
            if student:
                result = run_student(name, impl, args, kwargs)
            else:
                with quiet():
                    result = impl(*args, **kwargs)
            outs.append(outcome(result, args))
        return outs

    def first_difference(outs):
        for i, (got, want) in enumerate(zip(outs, expected)):
            for label, g, w in zip(labels, got, want):
                if not same(g, w, rtol, atol):
                    return i, label
        return None

    expected = run(reference, student=False)
    try:
        outputs, error = run(fn), None
    except CheckFailed as exc:
        outputs, error = None, exc
    if outputs is not None and first_difference(outputs) is None:
        passed(f"`{name}`: {', '.join(labels)} match the reference on {len(cases)} random inputs")
        return
    if parts:
        with reference_parts(fn, parts):
            outputs = run(fn)  # an error here is the function's own
        if first_difference(outputs) is None:
            culprits = []
            for part in parts:  # the student's own version of one part, the solution's for the rest
                with reference_parts(fn, [p for p in parts if p != part]):
                    try:
                        if first_difference(run(fn)) is not None:
                            culprits.append(part)
                    except CheckFailed:
                        culprits.append(part)
            print(f"NOTE `{name}` itself is right, but with your own {', '.join(culprits) or 'parts'} the "
                  f"result differs: fix {'that' if len(culprits) == 1 else 'those'} first (their own checks say how).")
            passed(f"`{name}`: {', '.join(labels)} match the reference when it calls the reference parts")
            return
    elif error is not None:
        raise error
    bad, label = first_difference(outputs)
    message = f"`{name}`: {label} is wrong on random input {bad + 1} of {len(cases)}"
    for entry in mistakes.for_function(name):
        try:
            entry_outputs = run(entry, student=False)
        except Exception:
            continue
        if all(same(g, e, rtol * 10, atol * 10) for got, want in zip(outputs, entry_outputs)
               for g, e in zip(got, want)):
            raise KnownMistake(message, entry)
    args = cases[bad][0]
    if label.startswith("`"):
        arg = label.split("`")[1]
        if same(outputs[bad][labels.index(label)], args[arg_names.index(arg)], 0, 0):
            fail(f"{message}: it did not change at all. The update must write into the caller's arrays "
                 f"(`params[k] -= ...`, or `p -= ...` on the array itself); `p = p - ...` only rebinds a "
                 f"local name and the caller never sees the new array.")
    fail(f"{message}: {_property_hint(outputs[bad][labels.index(label)], expected[bad][labels.index(label)])}.")
