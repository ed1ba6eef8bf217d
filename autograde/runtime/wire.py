"""The one wire format between the course's processes: length-prefixed JSON objects.

Every channel uses it: the judge's socket between the grader (``judge.remote``) and the probe in a
student's kernel (``judge.probe``), the warm parent's socket (``kernels.sandbox`` and
``kernels.warm_parent``, which also passes file descriptors with a message), and the grading
processes of ``grade-class`` (``grading.task`` and ``grading.child``).

A message is one JSON object (a ``dict``), framed as an 8-byte big-endian byte count followed by
that many bytes of UTF-8 JSON. Where a channel is a line of text rather than a stream (the
kernel's stdin channel, which the judge uses when a kernel has no socket), the message is its JSON
text alone (``text``/``parse``).

Values JSON cannot carry travel as tagged trees (``encode``/``decode``): NumPy arrays and scalars
as dtype, shape and raw bytes (numeric, boolean and string dtypes only), tuples, dicts with any
keys, floats bit for bit, random generators with their state; anything else arrives as an
``Opaque`` marker that equals nothing. Nothing is unpickled: what a peer sends can never run code
in the receiver.

A receiver reads a message only after its header: a size above the receiver's ``limit`` raises
``TooLarge`` before a byte of the body is read, a peer that stops before the end of a message
raises ``Closed``, and anything that is not a JSON object raises ``Malformed``.

Self-contained (standard library and NumPy): the grader sends this file's source into a kernel
with the probe, and binds it beside the warm parent in the sandbox, where ``autograde`` is not
importable.
"""
import asyncio
import base64
import json
import os
import socket
import struct

import numpy as np

HEADER = struct.Struct("!Q")
ARRAY_KINDS = ("b", "i", "u", "f", "c", "U", "S")  # dtypes that travel as raw bytes
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
MAX_DEPTH = 50  # nesting of a value tree; deeper structures become opaque (encode) or are refused (decode)
CHUNK = 1 << 20  # bytes asked of a socket at once


class Malformed(ValueError):
    """What arrived is not a message of this format."""


class TooLarge(Malformed):
    """A message announced (or would take) more bytes than its receiver reads."""

    def __init__(self, size, limit):
        super().__init__(f"{size:,} bytes, more than the {limit:,} the receiver reads")
        self.size, self.limit = size, limit


class Closed(ConnectionError):
    """The peer closed the channel, before a message or in the middle of one."""


# -- messages ------------------------------------------------------------------------------------
def text(message, limit=None):
    """``message`` (a dict) as JSON text (ASCII: as many bytes as characters); ``TooLarge`` when it is
    longer than ``limit``."""
    if not isinstance(message, dict):
        raise TypeError(f"a message is a dict, not {type(message).__name__}")
    data = json.dumps(message)
    if limit is not None and len(data) > limit:
        raise TooLarge(len(data), limit)
    return data


def parse(data):
    """The message in ``data`` (JSON text or UTF-8 bytes); ``Malformed`` for anything but a JSON object
    (bad bytes, bad JSON, nesting deep enough to exhaust the parser)."""
    try:
        message = json.loads(data)
    except RecursionError:
        raise Malformed("nested too deeply") from None
    except (UnicodeDecodeError, TypeError, ValueError) as exc:
        raise Malformed(str(exc)[:200]) from None
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    return message


def pack(message, limit=None):
    """``message`` framed: header and body, as bytes; ``TooLarge`` when the body exceeds ``limit``."""
    body = text(message, limit).encode()
    return HEADER.pack(len(body)) + body


def body_size(header, limit=None):
    """The body's size a header announces; ``TooLarge`` above ``limit``."""
    if len(header) != HEADER.size:
        raise Closed("the peer stopped in a message's header")
    size = HEADER.unpack(header)[0]
    if limit is not None and size > limit:
        raise TooLarge(size, limit)
    return size


def send(sock, message, fds=()):
    """Send one message on a blocking stream socket, with ``fds`` (file descriptors) on a Unix socket."""
    data = pack(message)
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    sock.sendall(data)


def receive(sock, limit=None, max_fds=0):
    """The next message on a blocking stream socket (with ``max_fds``: ``(message, fds)``, the file
    descriptors that came with it, which the caller then owns). ``Closed`` when the peer closed the
    socket, ``TooLarge`` (the body left unread), ``Malformed``; on any of them the descriptors that
    came are closed."""
    fds = []
    try:
        header = _exactly(sock, HEADER.size, fds if max_fds else None, max_fds)
        message = parse(_exactly(sock, body_size(header, limit), None, 0))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return (message, fds) if max_fds else message


def _exactly(sock, size, fds, max_fds):
    chunks, left = [], size
    while left:
        if fds is not None and not chunks:
            chunk, received, _, _ = socket.recv_fds(sock, left, max_fds)
            fds += received
        else:
            chunk = sock.recv(min(left, CHUNK))
        if not chunk:
            raise Closed("the peer closed the channel" + (" in the middle of a message" if chunks else ""))
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


async def send_async(sock, message):
    """``send`` on a non-blocking socket, in the running event loop."""
    await asyncio.get_running_loop().sock_sendall(sock, pack(message))


async def receive_async(sock, limit=None):
    """``receive`` on a non-blocking socket, in the running event loop."""
    header = await _exactly_async(sock, HEADER.size)
    return parse(await _exactly_async(sock, body_size(header, limit)))


async def _exactly_async(sock, size):
    loop, chunks, left = asyncio.get_running_loop(), [], size
    while left:
        chunk = await loop.sock_recv(sock, min(left, CHUNK))
        if not chunk:
            raise Closed("the peer closed the channel" + (" in the middle of a message" if chunks else ""))
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- values --------------------------------------------------------------------------------------
class Opaque:
    """What a value that is none of the wire's types becomes on the other side: it equals nothing."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def _array_tree(kind, array):
    return {"t": kind, "dtype": array.dtype.str, "shape": list(array.shape),
            "b": base64.b64encode(array.tobytes(order="C")).decode("ascii")}


def _array(tree):
    """The array a tree describes; only plain numeric, boolean and string dtypes are accepted."""
    dtype = np.dtype(str(tree["dtype"]))
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None or not dtype.itemsize:
        raise ValueError(f"unsupported dtype {dtype}")
    shape = tuple(int(n) for n in tree["shape"])
    if any(n < 0 for n in shape):
        raise ValueError(f"negative shape {shape}")
    return np.frombuffer(base64.b64decode(tree["b"]), dtype=dtype).reshape(shape).copy()


def encode(value, depth=0):
    """A JSON-able tree for ``value``: arrays, NumPy scalars, Python scalars, strings, containers and
    random generators keep their type; anything else becomes an opaque marker with its type's name."""
    if depth >= MAX_DEPTH:  # what decode still reads: a tree's nodes are at most MAX_DEPTH deep
        return {"t": "opaque", "type": "nested too deeply"}
    if value is None or type(value) in (bool, int, str):  # not their subclasses (NumPy's str_ is one)
        return {"t": "py", "v": value}
    if type(value) is float:
        return {"t": "float", "v": repr(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in ARRAY_KINDS:
        return _array_tree("nd", np.asarray(value))
    if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
        return _array_tree("np", np.asarray(value))
    if type(value) in (list, tuple):
        return {"t": type(value).__name__, "v": [encode(item, depth + 1) for item in value]}
    if type(value) is dict:
        return {"t": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if type(value) is np.random.Generator:
        state = value.bit_generator.state  # a dict of ints and, for some bit generators, arrays
        return {"t": "gen", "bg": state["bit_generator"], "state": encode(state, depth + 1)}
    return {"t": "opaque", "type": type(value).__name__}


def decode(tree, depth=0):
    """The value ``encode`` described (a fresh object: arrays are copies); ValueError (or KeyError,
    TypeError) for a tree ``encode`` cannot have made."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    kind = tree["t"]
    if kind == "py":
        value = tree["v"]
        if value is not None and not isinstance(value, (bool, int, str)):
            raise ValueError(f"bad scalar {type(value).__name__}")
        return value
    if kind == "float":
        return float(tree["v"])
    if kind == "nd":
        return _array(tree)
    if kind == "np":
        return _array(tree)[()]
    if kind in ("list", "tuple"):
        items = [decode(item, depth + 1) for item in tree["v"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in tree["v"]}
    if kind == "gen":
        if tree["bg"] not in BIT_GENERATORS:
            raise ValueError(f"unknown bit generator {tree['bg']}")
        bit_generator = getattr(np.random, tree["bg"])()
        bit_generator.state = decode(tree["state"], depth + 1)
        return np.random.Generator(bit_generator)
    if kind == "opaque":
        return Opaque(str(tree.get("type", "object"))[:100])
    raise ValueError(f"unknown wire type {kind!r}")
