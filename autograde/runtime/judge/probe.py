"""The only grading code that runs inside a student's kernel: call one of the student's
functions on inputs sent by the grader and send back what it returned.

The grader (``autograde.runtime.judge.remote``) sends this module's source to the kernel once. In a sandboxed
kernel, each hidden block's requests then go over a Unix socket the grader offers in the kernel's
``ipc`` folder, served by one silent execution of ``__autograde_probe__.session()``; elsewhere each
request is one silent execution of ``__autograde_probe__.serve('<json>')`` whose reply goes back over
the kernel's stdin channel (``input()``). The same way back serves a student's function that is
graded on its own logic when it calls the reference version of an earlier part: the call becomes a
request to the grader, which computes the part in its own process and answers.

Nothing here decides a grade. Whatever a submission does to this code in its own kernel, it
can only change what the grader receives as *its own function's* output; the comparison with
the solution, the catalogue diagnosis and the verdict happen in the grader's process.

Messages and values travel in the course's one wire format (``autograde.runtime.wire``): nothing
is unpickled, so a reply can never run code in the grader. The kernel cannot import ``autograde``:
there the grader runs the wire module's source first and hands it to this one as ``wire``, so both
modules need only the standard library and NumPy.
"""
import builtins
import socket
import warnings

import numpy as np

if "wire" not in globals():  # in the grader (in a kernel, the grader's install code put it here)
    from autograde.runtime import wire

REPLY = "\x00autograde-reply "  # the prefixes of the probe's messages over the stdin channel
PART = "\x00autograde-part "


def write_back(original, after):
    """Make ``original`` (an argument the grader passed) look as the student's function left its copy."""
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray) and original.shape == after.shape:
        np.copyto(original, after, casting="unsafe")
    elif isinstance(original, dict) and isinstance(after, dict):
        for key in list(original):
            if key not in after:
                del original[key]
        for key, value in after.items():
            if key in original and _same_kind(original[key], value):
                write_back(original[key], value)
            else:
                original[key] = value
    elif isinstance(original, list) and isinstance(after, list):
        if len(original) == len(after):
            for i, value in enumerate(after):
                if _same_kind(original[i], value):
                    write_back(original[i], value)
                else:
                    original[i] = value
        else:
            original[:] = after
    elif isinstance(original, tuple) and isinstance(after, tuple) and len(original) == len(after):
        for item, value in zip(original, after):
            write_back(item, value)
    elif isinstance(original, np.random.Generator) and isinstance(after, np.random.Generator):
        original.bit_generator.state = after.bit_generator.state


def _same_kind(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape
    return isinstance(a, (dict, list, tuple, np.random.Generator)) and type(a) is type(b)


# -- kernel side ----------------------------------------------------------------------------------
def _ask(prefix, message):
    """Send ``message`` to the grader over the stdin channel and return its answer."""
    try:
        data = wire.text(message, _JUDGE["limit"])
    except wire.TooLarge as exc:
        data = wire.text(_too_large(exc))
    return builtins.input(prefix + data)


_JUDGE = {"path": None, "socket": None, "limit": None}


def _ask_part(request):
    """The grader's answer to a reference-part call: over its Unix socket when it offered one (a
    round trip there costs tens of microseconds, one over the stdin channel a few milliseconds)."""
    if _JUDGE["path"] is None:
        return wire.parse(_ask(PART, request))
    _send(_judge(), request)
    return wire.receive(_judge())


def _judge():
    if _JUDGE["socket"] is None:
        _JUDGE["socket"] = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        _JUDGE["socket"].connect(_JUDGE["path"])
    return _JUDGE["socket"]


def _too_large(exc, wrapped=False):
    """The short message that replaces one longer than the grader reads (``wrapped``: as the session's reply)."""
    note = {"too_large": f"{exc.size:,} bytes, more than the {exc.limit:,} the grader reads"}
    return {"reply": note} if wrapped else note


def _send(sock, message):
    """Send ``message`` to the grader, or a note saying it was too large for it."""
    try:
        data = wire.pack(message, _JUDGE["limit"])
    except wire.TooLarge as exc:
        data = wire.pack(_too_large(exc, wrapped="reply" in message))
    sock.sendall(data)


class _ReferencePart:
    """Stands, in the student's namespace, for the reference version of an earlier part: every call
    is computed by the grader."""

    def __init__(self, name):
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        answer = _ask_part({"part": self.__name__, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)})
        if "error" in answer:
            error = getattr(builtins, answer["error"]["type"], None)
            if not (isinstance(error, type) and issubclass(error, Exception)):
                error = RuntimeError
            raise error(answer["error"]["message"])
        for original, after in zip(args, wire.decode(answer.get("args", {"t": "list", "v": []}))):
            write_back(original, after)
        after_kwargs = wire.decode(answer.get("kwargs", {"t": "dict", "v": []}))
        for key, value in kwargs.items():
            write_back(value, after_kwargs.get(key))
        return wire.decode(answer["result"])


class _RecordingPart:
    """Stands for the student's own part and notes every call: arguments and result, as sent on the wire."""

    def __init__(self, name, own, calls):
        self.__name__ = self.__qualname__ = name
        self.own, self.calls = own, calls

    def __call__(self, *args, **kwargs):
        sent = (wire.encode(list(args)), wire.encode(kwargs)) if len(self.calls) < MAX_RECORDED else None
        try:
            result = self.own(*args, **kwargs)
        except BaseException:
            if sent is not None:  # a part that raised: the grader cannot vouch for the run
                self.calls.append({"part": self.__name__, "args": sent[0], "kwargs": sent[1], "raised": True})
            raise
        if sent is not None:
            self.calls.append({"part": self.__name__, "args": sent[0], "kwargs": sent[1], "result": wire.encode(result)})
        return result


MAX_RECORDED = 100_000  # calls of parts kept by one recording; beyond, the grader cannot vouch for the parts


class Probe:
    def __init__(self, namespace):
        self.namespace = namespace  # the notebook's globals
        self.saved = {}  # (id of function globals, part name) -> the student's own object

    def serve(self, request):
        request = wire.parse(request)
        try:
            reply = getattr(self, "op_" + request["op"])(**request["args"])
        except Exception as exc:  # the probe itself failed (a submission that broke its own kernel)
            reply = {"probe_error": f"{type(exc).__name__}: {exc}"}
        _ask(REPLY, reply)

    def session(self):
        """Serve requests that come over the grader's socket until it sends "end" (reference-part calls
        made meanwhile go over the same socket, and are told apart by the grader)."""
        sock = _judge()
        try:
            while True:
                request = wire.receive(sock)
                if request.get("op") == "end":  # the grader's next block connects afresh
                    _JUDGE["socket"] = None
                    sock.close()
                    return
                try:
                    reply = getattr(self, "op_" + request["op"])(**request["args"])
                except Exception as exc:
                    reply = {"probe_error": f"{type(exc).__name__}: {exc}"}
                _send(sock, {"reply": reply})
        except OSError:  # the grader dropped the connection (a message it would not read): the next session
            _JUDGE["socket"] = None  # connects again
            raise

    def _function_globals(self, name):
        fn = self.namespace.get(name)
        return getattr(fn, "__globals__", None)

    def op_has(self, fn, names):
        namespace = self._function_globals(fn)
        if namespace is None:
            return {"has": []}
        return {"has": [name for name in names if name in namespace]}

    def op_use_reference(self, fn, parts):
        namespace = self._function_globals(fn)
        if namespace is not None:
            for part in parts:
                if part in namespace:
                    self.saved.setdefault((id(namespace), part), (namespace, namespace[part]))
                    namespace[part] = _ReferencePart(part)
        return {}

    def op_restore(self, fn, parts):
        namespace = self._function_globals(fn)
        if namespace is not None:
            for part in parts:
                held = self.saved.pop((id(namespace), part), None)
                if held is not None:
                    namespace[part] = held[1]
        return {}

    def op_record(self, fn, parts):
        """Wrap the student's own ``parts`` in ``fn``'s namespace so that their calls are noted."""
        namespace = self._function_globals(fn)
        self.recorded = []
        if namespace is not None:
            for part in parts:
                if part in namespace and callable(namespace[part]):
                    self.saved.setdefault((id(namespace), part), (namespace, namespace[part]))
                    namespace[part] = _RecordingPart(part, namespace[part], self.recorded)
        return {}

    def op_recorded(self, fn, parts):
        """Put the parts back; the calls noted since ``op_record`` (None when there were too many)."""
        self.op_restore(fn, parts)
        calls, self.recorded = getattr(self, "recorded", []), []
        return {"calls": None if len(calls) >= MAX_RECORDED else calls}

    def op_stuck(self, name, message):
        """``name`` ran past the time limit: from now on the notebook's own cells calling it fail at once."""
        def stuck(*args, **kwargs):
            raise TimeoutError(message)
        stuck.__name__ = stuck.__qualname__ = name
        if name in self.namespace:
            self.namespace[name] = stuck
        return {}

    def op_call(self, name, args, kwargs, repeat=None):
        fn = self.namespace.get(name)
        if fn is None:
            return {"missing": True}
        if not callable(fn):
            return {"not_callable": type(fn).__name__}
        args, kwargs = wire.decode(args), wire.decode(kwargs)
        results = []
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                for _ in range(1 if repeat is None else repeat):
                    results.append(fn(*args, **kwargs))
        except BaseException as exc:  # SystemExit, KeyboardInterrupt (the grader's interrupt) too
            return {"error": _describe_error(fn, exc), "args": wire.encode(args), "kwargs": wire.encode(kwargs)}
        result = wire.encode(results[0]) if repeat is None else wire.encode(results)
        return {"result": result, "args": wire.encode(args), "kwargs": wire.encode(kwargs)}


def _describe_error(fn, exc):
    """The exception's type and message, and for NotImplementedError which function raised it."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    code = frame.tb_frame.f_code if frame is not None else None
    return {"type": type(exc).__name__, "message": str(exc)[:2000],
            "raised_by": code.co_name if code is not None else "",
            "own": code is None or code is getattr(fn, "__code__", None)}


def install(namespace, judge_socket=None, reply_limit=None):
    """Called once in the kernel: ``__autograde_probe__`` in the notebook's globals; ``judge_socket``:
    the path of the grader's Unix socket for reference-part calls, if it offers one; ``reply_limit``:
    the most characters of one message the grader reads (a larger reply is replaced by a note saying so)."""
    _JUDGE["path"], _JUDGE["limit"] = judge_socket, reply_limit
    probe = Probe(namespace)
    namespace["__autograde_probe__"] = probe
    return probe
