"""Hidden checks judged in the grader's process, on what the student's kernel returns.

While a submission is autograded, ``autograde.runtime.judge.execute.GradedExecute`` runs each test cell's
hidden block here, in the grader (nbgrader's process), not in the student's kernel. The block
(``from autograde.content.checks import nb01`` then ``nb01.some_check(rnn_step_forward)``) comes from
the release, which nbgrader restores into every submission, and the names it takes from the
notebook become ``RemoteFunction`` objects: calling one sends the arguments to the kernel,
where ``autograde.runtime.judge.probe`` calls the student's function and sends back its result and what
became of its arguments. The check then compares, diagnoses and decides here, with the
grader's own numpy, solution and catalogue, none of which the kernel holds or can patch.

Reference parts (a function graded on its own logic, with the solution's version of an earlier
part it calls) work the same way the other way round: the check puts ``_ReferencePart``
stand-ins into the student's namespace, and each call of one is answered by the grader.
"""
import ast
import asyncio
import builtins
import contextlib
import io
import pathlib
import socket
import time

import numpy as np
from nbclient.util import run_sync
from nbformat import NotebookNode

from autograde.runtime import wire
from autograde.runtime.judge import probe
from autograde.content.checking import CheckFailed, StudentError, same

PROBE_SOURCE = pathlib.Path(probe.__file__).read_text()
WIRE_SOURCE = pathlib.Path(wire.__file__).read_text()
INTERRUPT_GRACE = 10  # seconds a function has to stop after the interrupt before its kernel is stopped


class KernelGone(CheckFailed):
    """The kernel died or stopped answering while it ran the student's function."""


def _too_large(size, limit):
    return StudentError(f"your function's output is too large for the grader ({size:,} bytes, more than the "
                        f"{limit:,} it reads)")


class RemoteNotImplemented(NotImplementedError):
    """The student's function raised NotImplementedError; ``own``: raised by its own body."""

    def __init__(self, message, own, raised_by):
        super().__init__(message)
        self.own, self.raised_by = own, raised_by


def _exception(error):
    """An exception like the one the student's function raised (builtin types keep their type)."""
    if not isinstance(error, dict):
        return StudentError("your function failed, and the grader could not read how")
    name, message = str(error.get("type", "Exception"))[:100], str(error.get("message", ""))
    if name == "NotImplementedError":
        return RemoteNotImplemented(message, bool(error.get("own")), str(error.get("raised_by", "")))
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)) or not name.isidentifier():
        cls = type(name if name.isidentifier() else "Exception", (Exception,), {})
    return cls(message)


class KernelLink:
    """Requests to the probe in the kernel of an nbclient ``client`` (``GradedExecute``)."""

    def __init__(self, client, reply_limit=64 * 2**20):
        self.client = client
        self.reply_limit = reply_limit  # bytes of one message from the kernel, at most
        self.stuck = {}  # name of a function that ran past the time limit -> the message its later calls get
        self.installed = False
        self.reference = {}  # part name -> the solution's function, answered while a check has them in place
        self.timed_out = False
        self.listener = self.connection = None  # the Unix socket of reference-part calls (sandboxed kernels)
        self.cell_index = None  # the cell whose hidden block is running (for "the kernel stopped in cell ...")
        # sandboxed kernels: one execution (the probe's session) serves all the requests of a hidden block
        # over the socket, a round trip of tens of microseconds against milliseconds for an execution each
        self.session = self.pending = None

    def request(self, op, **args):
        """The probe's reply to one request (a dict), answering reference-part calls meanwhile."""
        if self.client._died_in is not None:
            raise KernelGone("not run: the kernel had already stopped")
        if not self.installed:
            self._execute(self._install_code())
            self.installed = True
        if self.listener is not None:
            reply = run_sync(self._session_request)({"op": op, "args": args})
        else:
            reply = self._execute(f"__autograde_probe__.serve({wire.text({'op': op, 'args': args})!r})")
        if reply is None:
            raise CheckFailed("your kernel ended the request without an answer (it ended the grader's "
                              "call with an exception the grader could not catch, such as SystemExit)")
        if not isinstance(reply, dict):
            raise CheckFailed("your kernel answered the grader with something that is not a reply")
        if "too_large" in reply:
            raise StudentError(f"your function's output is too large for the grader: {reply['too_large']}")
        if "probe_error" in reply:
            raise CheckFailed(f"the grader's call into your kernel failed: {reply['probe_error'][:300]}")
        return reply

    def end_session(self):
        """Let the kernel go back to running cells (at the end of a hidden block)."""
        if self.session is None:
            return
        msg_id, self.session, self.pending = self.session, None, {"op": "end"}
        if self.client._died_in is None and self.connection is not None:
            with contextlib.suppress(CheckFailed):
                run_sync(self._serve)(msg_id, True)
        # each hidden block gets a connection of its own: whatever the kernel writes between blocks
        # (a student function run by a visible test, say) is never read as a reply
        self._drop_connection()

    async def _session_request(self, request):
        if self.session is None:
            self.session = self.client.kc.execute("__autograde_probe__.session()", silent=True, store_history=False,
                                                  allow_stdin=True, stop_on_error=False)
        self.pending = request
        reply = await self._serve(self.session, True)
        if reply is None:  # the session's execution ended without answering: the next request starts another
            self.session = None
        return reply

    def _drop_connection(self):
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
            self.connection = None

    def close(self):
        for sock in (self.connection, self.listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self.listener = self.connection = None

    def _install_code(self):
        return ("def __autograde_install__():\n"
                "    import types\n"
                "    wire = types.ModuleType('autograde_wire')\n"
                f"    exec(compile({WIRE_SOURCE!r}, 'autograde_wire', 'exec'), wire.__dict__)\n"
                "    module = types.ModuleType('autograde_probe')\n"
                "    module.wire = wire\n"
                f"    exec(compile({PROBE_SOURCE!r}, 'autograde_probe', 'exec'), module.__dict__)\n"
                f"    module.install(globals(), {self._listen()!r}, {self.reply_limit!r})\n"
                "__autograde_install__()\n"
                "del __autograde_install__\n")

    def _listen(self):
        """A Unix socket for reference-part calls in the folder the sandboxed kernel shares with the
        grader (its ``ipc`` folder), or None (unsandboxed: the stdin channel then carries them)."""
        folder = getattr(self.client.km, "ipc_folder", None)
        if folder is None or not getattr(self.client.km, "sandbox", False):
            return None
        path = pathlib.Path(folder) / "judge"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(1)
        self.listener.setblocking(False)
        return str(path)

    async def _judge_request(self):
        """The next message on the socket (accepting the kernel's connection first, and sending it the
        pending request, if any): a reference-part call, or the session's reply to a request. A message
        longer than ``reply_limit`` is refused on its header (``wire.TooLarge``): the kernel's flood is
        never read."""
        if self.connection is None:
            self.connection, _ = await asyncio.get_running_loop().sock_accept(self.listener)
            self.connection.setblocking(False)
        if self.pending is not None:
            request, self.pending = self.pending, None
            await wire.send_async(self.connection, request)
        return await wire.receive_async(self.connection, self.reply_limit)

    def _execute(self, code):
        return run_sync(self._async_execute)(code)

    async def _async_execute(self, code):
        kc = self.client.kc
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=True, stop_on_error=False)
        return await self._serve(msg_id, False)

    async def _serve(self, msg_id, session):
        """Serve the kernel until the request ends: with ``session``, when the session's reply comes over
        the socket (None if the execution ``msg_id`` ends first); else when the execution ends (with the
        reply the probe gave over the stdin channel, or None)."""
        kc = self.client.kc
        timeout = self.client.timeout or 120
        deadline = time.monotonic() + timeout
        reply, self.timed_out = None, False
        stdin = asyncio.ensure_future(kc.get_stdin_msg())
        shell = asyncio.ensure_future(kc.get_shell_msg())
        judge = asyncio.ensure_future(self._judge_request()) if self.listener is not None else None
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 and not self.timed_out:
                    # like a cell past its time limit: interrupt; the probe then answers with the
                    # KeyboardInterrupt, and the notebook goes on
                    self.timed_out = True
                    await self.client.km.interrupt_kernel()
                    deadline = time.monotonic() + INTERRUPT_GRACE
                    continue
                if remaining <= 0:
                    await self._stop(f"it ran past the time limit of a cell ({timeout} s) and did not stop "
                                     f"when interrupted")
                done, _ = await asyncio.wait({stdin, shell} | ({judge} if judge is not None else set()),
                                             timeout=min(remaining, 1.0), return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    if not await self.client.km.is_alive():
                        self.client._died_in = self.cell_index
                        raise KernelGone("the kernel stopped while running your function (os._exit, a crash, "
                                         "or the memory cap); later cells were not run")
                    continue
                if stdin in done:
                    msg = stdin.result()
                    stdin = asyncio.ensure_future(kc.get_stdin_msg())
                    if msg["parent_header"].get("msg_id") != msg_id:
                        continue
                    prompt = str(msg["content"].get("prompt", ""))
                    if len(prompt) > self.reply_limit:
                        kc.input("")
                        raise _too_large(len(prompt), self.reply_limit)
                    if prompt.startswith(probe.REPLY):
                        reply = wire.parse(prompt[len(probe.REPLY):])
                        kc.input("")
                    elif prompt.startswith(probe.PART):
                        kc.input(wire.text(self._answer_part(wire.parse(prompt[len(probe.PART):]))))
                    else:  # the student's own input(): there is no one to answer it
                        kc.input("")
                if judge is not None and judge in done:
                    try:
                        request = judge.result()
                    except wire.TooLarge as exc:
                        # never read, so the connection is out of step: drop it (the probe connects again for
                        # the next request), stop what still sends, and fail this call as the student's
                        self._drop_connection()
                        await self.client.km.interrupt_kernel()
                        self.session = None
                        raise _too_large(exc.size, exc.limit) from None
                    except (OSError, ValueError) as exc:  # wire.Closed, wire.Malformed
                        # a message cut short, malformed, or a socket closed: this call fails; the probe
                        # connects again for the next one
                        self._drop_connection()
                        await self.client.km.interrupt_kernel()  # whatever still runs there for this call
                        if session:
                            self.session = None
                            raise CheckFailed(f"your kernel broke its connection to the grader ({exc})") from None
                        judge = None  # its reference parts fail until the request ends
                    else:
                        if session and "reply" in request:
                            return request["reply"]
                        await wire.send_async(self.connection, self._answer_part(request))
                        judge = asyncio.ensure_future(self._judge_request())
                if shell in done:
                    msg = shell.result()
                    shell = asyncio.ensure_future(kc.get_shell_msg())
                    if msg["parent_header"].get("msg_id") == msg_id:
                        return None if session else reply
        finally:
            tasks = [task for task in (stdin, shell, judge) if task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _stop(self, why):
        """Stop a kernel that did not come back from an interrupt, and mark the notebook's later cells."""
        self.client._died_in = self.cell_index
        self.client._kill_kernel()
        raise KernelGone(f"your function did not return: {why}; the kernel was stopped and later cells were "
                         f"not run")

    def _answer_part(self, request):
        name = request.get("part")
        fn = self.reference.get(name)
        if fn is None:
            return {"error": {"type": "RuntimeError", "message": f"no reference {name} is in place now"}}
        try:
            args, kwargs = wire.decode(request["args"]), wire.decode(request["kwargs"])
            with np.errstate(all="ignore"):
                result = fn(*args, **kwargs)
            # what the part left in its arguments goes back too (adagrad_update works in place)
            return {"result": wire.encode(result), "args": wire.encode(args), "kwargs": wire.encode(kwargs)}
        except Exception as exc:
            return {"error": {"type": type(exc).__name__, "message": str(exc)[:2000]}}


class RemoteNamespace:
    """The student's notebook namespace as seen from the grader: which names exist, and putting the
    reference version of a part in place (``update`` with solution functions) or back."""

    def __init__(self, link, fn_name):
        self.link, self.fn_name = link, fn_name

    def __contains__(self, name):
        return name in self.link.request("has", fn=self.fn_name, names=[name])["has"]

    def __getitem__(self, name):
        return RemoteFunction(self.link, name)

    def update(self, mapping):
        reference = {p: v for p, v in mapping.items() if not isinstance(v, RemoteFunction)}
        own = [p for p, v in mapping.items() if isinstance(v, RemoteFunction)]
        if reference:
            self.link.reference.update(reference)
            self.link.request("use_reference", fn=self.fn_name, parts=list(reference))
        if own:
            self.link.request("restore", fn=self.fn_name, parts=own)
            for part in own:
                self.link.reference.pop(part, None)


def parts_agree(reference, calls):
    """True when every noted call of the student's ``parts`` returned what the reference returns on
    the same arguments: a run that made exactly these calls went as it would with the reference parts."""
    if calls is None:
        return False
    for call in calls:
        if call.get("raised") or "result" not in call:
            return False
        try:
            args, kwargs = wire.decode(call["args"]), wire.decode(call["kwargs"])
            got = wire.decode(call["result"])
            with np.errstate(all="ignore"):
                expected = reference[call["part"]](*args, **kwargs)
        except Exception:
            return False
        if not same(got, expected, 1e-12, 1e-14):
            return False
    return True


class LazyVerdict:
    """What ``RemoteFunction.recording`` yields: after the block, ``verdict[0]`` is True when every noted
    call agreed with the reference. Computed on first use: comparing thousands of noted calls costs
    seconds, and a check that passed never asks."""

    def __init__(self):
        self.reference = self.calls = self.value = None
        self.settled = False

    def settle(self, reference, calls):
        self.reference, self.calls, self.settled = reference, calls, True

    def __bool__(self):
        return self.settled

    def __getitem__(self, index):
        if index != 0 or not self.settled:
            raise IndexError(index)
        if self.value is None:
            self.value = parts_agree(self.reference, self.calls)
        return self.value


class RemoteFunction:
    """A function of the student's notebook, called in their kernel on copies of the arguments. The
    arguments are then updated to what the function left in its copies (for in-place updates)."""

    def __init__(self, link, name):
        self.link, self.__name__ = link, name

    def __repr__(self):
        return f"<student function {self.__name__}>"

    @property
    def __globals__(self):
        return RemoteNamespace(self.link, self.__name__)

    def __call__(self, *args, **kwargs):
        return self._call(args, kwargs, None)

    @contextlib.contextmanager
    def recording(self, parts, reference):
        """Within the block, the student's own ``parts`` run as they are but every call is noted; after it,
        the yielded ``LazyVerdict``'s item 0 is True when all of them agreed with ``reference`` ({name: fn})."""
        self.link.request("record", fn=self.__name__, parts=list(parts))
        verdict = LazyVerdict()
        try:
            yield verdict
        finally:
            try:
                calls = self.link.request("recorded", fn=self.__name__, parts=list(parts)).get("calls")
            except CheckFailed:  # the kernel is gone: nothing to vouch for
                calls = None
            verdict.settle(reference, calls)

    def repeat(self, n, *args, **kwargs):
        """``[fn(*args, **kwargs) for _ in range(n)]`` in one request (the same argument objects each time)."""
        return self._call(args, kwargs, n)

    def _call(self, args, kwargs, repeat):
        if self.__name__ in self.link.stuck:  # it ran past the time limit once: not another wait
            raise StudentError(self.link.stuck[self.__name__])
        reply = self.link.request("call", name=self.__name__, args=wire.encode(list(args)),
                                  kwargs=wire.encode(kwargs), repeat=repeat)
        if reply.get("missing"):
            raise CheckFailed(f"`{self.__name__}` is not defined when this cell runs: its answer cell was "
                              f"deleted or renamed, or raised an error.")
        if "not_callable" in reply:
            raise StudentError(f"`{self.__name__}` is a {reply['not_callable']}, not a function.")
        try:
            for original, after in zip(args, wire.decode(reply["args"])):
                probe.write_back(original, after)
            after_kwargs = wire.decode(reply["kwargs"])
            for key, value in kwargs.items():
                probe.write_back(value, after_kwargs.get(key))
        except (KeyError, ValueError, TypeError, RecursionError):
            pass  # the arguments came back unreadable: they then count as unchanged
        if "error" in reply:
            if self.link.timed_out and reply["error"].get("type") == "KeyboardInterrupt":
                message = (f"`{self.__name__}` did not return within the time limit of a cell "
                           f"({self.link.client.timeout:g} s) and was stopped: an endless loop? Later calls of it "
                           f"fail at once.")
                self.link.stuck[self.__name__] = message
                with contextlib.suppress(CheckFailed):  # the notebook's own cells get the same answer
                    self.link.request("stuck", name=self.__name__, message=message)
                raise StudentError(message)
            raise _exception(reply["error"])
        try:
            return wire.decode(reply["result"])
        except (KeyError, ValueError, TypeError, RecursionError) as exc:
            raise StudentError(f"`{self.__name__}` returned something the grader cannot read ({exc}).") from None


def free_names(source):
    """The names a hidden block reads without defining them: the notebook's functions."""
    tree = ast.parse(source)
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return sorted(loaded - bound - set(dir(builtins)))


def run_hidden(source, link):
    """Run a hidden block in this process against the kernel behind ``link``; its outputs as nbformat
    outputs (what it printed, then an error when the check failed)."""
    printed = io.StringIO()
    namespace = {name: RemoteFunction(link, name) for name in free_names(source)}
    error = None
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(source, "<hidden test>", "exec"), namespace)
    except CheckFailed as exc:
        error = NotebookNode(output_type="error", ename=type(exc).__name__, evalue=str(exc),
                             traceback=exc._render_traceback_())
    except Exception as exc:  # a check that could not run counts against the cell, saying why
        error = NotebookNode(output_type="error", ename=type(exc).__name__, evalue=str(exc),
                             traceback=[f"\x1b[0;31m{type(exc).__name__}\x1b[0m: {exc}"])
    finally:
        link.reference.clear()  # checks put their parts back themselves (checking.reference_parts)
        link.end_session()
    outputs = [NotebookNode(output_type="stream", name="stdout", text=printed.getvalue())] if printed.getvalue() else []
    return outputs + ([error] if error is not None else [])
