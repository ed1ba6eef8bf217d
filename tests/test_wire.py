"""The one wire format between the course's processes (autograde.runtime.wire): every value type
survives a round trip bit for bit, a receiver reads no more than its limit (the body of a refused
message stays unread), a peer that stops mid-message is ``Closed``, anything malformed is
``Malformed`` (or, for a value tree, a ValueError, TypeError or KeyError) and never runs code,
descriptors travel with a message, and the event loop's pair speaks the same format."""
import asyncio
import base64
import collections
import math
import os
import socket
import threading

import numpy as np
import pytest

from autograde.runtime import wire


def through_the_wire(value):
    """``value`` encoded, framed, read back from a socket and decoded."""
    sender, receiver = socket.socketpair()
    with sender, receiver:
        wire.send(sender, {"value": wire.encode(value)})
        return wire.decode(wire.receive(receiver)["value"])


# -- values -----------------------------------------------------------------------------------------
DTYPES = ["?", "i1", "<i8", ">i4", "u1", "<u8", "<f2", "<f4", "<f8", ">f8", "<c8", "<c16", "<U5", "S3"]
SHAPES = [(), (0,), (3,), (2, 3), (0, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_arrays_of_every_kind_and_shape_keep_dtype_shape_and_bytes(dtype):
    for shape in SHAPES:
        array = np.random.default_rng(0).integers(0, 100, size=shape).astype(dtype)
        got = through_the_wire(array)
        assert type(got) is np.ndarray and got.dtype == np.dtype(dtype) and got.shape == shape
        assert got.tobytes() == array.tobytes()
        assert got.flags.writeable and got.flags.c_contiguous


def test_a_strided_array_arrives_contiguous_with_its_values():
    array = np.arange(12.0).reshape(3, 4)[:, ::2].T
    got = through_the_wire(array)
    assert got.flags.c_contiguous and np.array_equal(got, array)


@pytest.mark.parametrize("scalar", [np.float64(1.5), np.float32(-2.25), np.float16(0.5), np.int8(-7), np.uint64(2**64 - 1),
                                    np.bool_(True), np.complex64(1 - 2j), np.str_("ab"), np.bytes_(b"\x00z")])
def test_numpy_scalars_keep_their_type_and_value(scalar):
    got = through_the_wire(scalar)
    assert type(got) is type(scalar) and got.tobytes() == scalar.tobytes()


@pytest.mark.parametrize("number", [0.1, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308])
def test_floats_keep_every_bit(number):
    got = through_the_wire(number)
    assert type(got) is float
    assert np.float64(got).view(np.uint64) == np.float64(number).view(np.uint64)


def test_python_values_keep_their_types():
    value = [None, True, False, 0, -(2**100), "", "é\x00\n", (), [()], ([1, (2.5, "x")], [])]
    got = through_the_wire(value)
    assert got == value
    assert [type(v) for v in got] == [type(v) for v in value]
    assert type(got[-1]) is tuple and type(got[-1][0]) is list and type(got[-1][0][1]) is tuple
    assert type(got[1]) is bool and type(got[3]) is int


def test_dicts_keep_keys_of_any_hashable_type_in_order():
    value = {(1, "a"): np.arange(2), 3: "three", "3": 3.0, None: [], 2.5: {"inner": (1,)}}
    got = through_the_wire(value)
    assert list(got) == list(value)
    assert type(list(got)[0]) is tuple and np.array_equal(got[(1, "a")], np.arange(2))
    assert got[3] == "three" and got["3"] == 3.0 and got[None] == [] and got[2.5] == {"inner": (1,)}


@pytest.mark.parametrize("name", wire.BIT_GENERATORS)
def test_a_generator_arrives_with_its_bit_generator_and_state(name):
    rng = np.random.Generator(getattr(np.random, name)(1234))
    rng.random(7)
    got = through_the_wire(rng)
    assert type(got.bit_generator) is type(rng.bit_generator)
    assert np.array_equal(got.random(5), rng.random(5))  # the same stream from here on ...
    got.random(3)
    assert np.array_equal(got.random(2), rng.random(5)[3:])  # ... and separate objects


@pytest.mark.parametrize("value", [object(), lambda x: x, np.array([1, None], dtype=object), np.datetime64("2020-01-01"),
                                   collections.OrderedDict(a=1), collections.namedtuple("Pair", "a b")(1, 2), {1, 2}])
def test_anything_else_arrives_as_an_opaque_marker_that_equals_nothing(value):
    got = through_the_wire(value)
    assert isinstance(got, wire.Opaque) and got.type_name == type(value).__name__
    assert got != through_the_wire(value)


def test_a_value_nested_past_the_limit_arrives_opaque_at_that_depth():
    value = 1
    for _ in range(wire.MAX_DEPTH + 10):
        value = [value]
    got = through_the_wire(value)
    for _ in range(wire.MAX_DEPTH - 1):
        got = got[0]
    assert type(got) is list and isinstance(got[0], wire.Opaque)


# -- malformed input --------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [b"\xff\xfe bad bytes", b"{not json", b"", b'"a string"', b"[1, 2]", b"null", b"3",
                                  b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000])
def test_anything_but_a_json_object_is_malformed(data):
    with pytest.raises(wire.Malformed):
        wire.parse(data)
    with pytest.raises(wire.Malformed):
        wire.parse(data.decode("utf-8", "replace"))


def test_a_message_is_a_dict():
    assert wire.parse(wire.text({"a": [1]})) == wire.parse(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(TypeError):
        wire.text([1])


def _array(dtype, shape, data):
    return {"t": "nd", "dtype": dtype, "shape": shape, "b": base64.b64encode(data).decode()}


@pytest.mark.parametrize("tree", [
    _array("O", [1], bytes(8)), _array("|V8", [1], bytes(8)),           # refused dtypes: objects, raw bytes,
    _array("<f8,<i4", [1], bytes(12)), _array("(2,)<f8", [1], bytes(16)),  # structured, sub-arrays,
    _array("<M8[s]", [1], bytes(8)), _array("<U0", [1], b""), _array("not a dtype", [1], bytes(8)),  # the rest
    _array("<f8", [3], bytes(8)), _array("<f8", [-1], bytes(8)), _array("<f8", [10**12, 10**12], b""),  # shape vs bytes
    {"t": "nd", "dtype": "<f8", "shape": [1], "b": "%%% not base64"},
    {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "py", "v": 1}]]},  # an unhashable key
    {"t": "py", "v": 1.5}, {"t": "py", "v": [1]}, {"t": "float", "v": "many"},
    {"t": "gen", "bg": "os.system", "state": "{}"}, {"t": "gen", "bg": "PCG64", "state": "{}"},
    {"t": "gen", "bg": "PCG64", "state": wire.encode(np.random.MT19937().state)},
    {"t": "what"}, {"no": "type"}, "not a tree", None,
])
def test_a_tree_encode_cannot_have_made_fails_to_decode(tree):
    with pytest.raises((ValueError, TypeError, KeyError)):
        wire.decode(tree)


def test_a_tree_nested_past_the_limit_is_refused():
    tree = {"t": "py", "v": 1}
    for _ in range(wire.MAX_DEPTH):
        tree = {"t": "list", "v": [tree]}
    wire.decode(tree)
    with pytest.raises(ValueError):
        wire.decode({"t": "list", "v": [tree]})


# -- limits and a peer that stops -------------------------------------------------------------------
def test_a_message_over_the_limit_is_refused_by_its_sender():
    body = len(wire.text({"a": "x" * 100}))
    assert wire.body_size(wire.pack({"a": "x" * 100}, limit=body)[:wire.HEADER.size]) == body
    with pytest.raises(wire.TooLarge) as refused:
        wire.pack({"a": "x" * 100}, limit=body - 1)
    assert (refused.value.size, refused.value.limit) == (body, body - 1)
    with pytest.raises(wire.TooLarge):
        wire.text({"a": "x" * 100}, limit=body - 1)


def test_a_message_over_the_limit_is_refused_on_its_header_and_its_body_stays_unread():
    body = b"x" * 1000
    sender, receiver = socket.socketpair()
    with sender, receiver:
        sender.sendall(wire.HEADER.pack(2**40) + body)
        receiver.settimeout(10)  # a receiver that reads on fails rather than waits for the rest
        with pytest.raises(wire.TooLarge) as refused:
            wire.receive(receiver, limit=2**20)
        assert refused.value.size == 2**40
        receiver.setblocking(False)
        assert receiver.recv(4096) == body  # all of it still in the socket


def test_a_message_at_the_limit_is_read():
    sender, receiver = socket.socketpair()
    with sender, receiver:
        sender.sendall(wire.pack({"a": 1}))
        assert wire.receive(receiver, limit=len(b'{"a": 1}')) == {"a": 1}


@pytest.mark.parametrize("sent", [b"", wire.HEADER.pack(100)[:3], wire.HEADER.pack(100) + b'{"reply"'],
                         ids=["before a message", "in the header", "in the body"])
def test_a_peer_that_stops_is_closed(sent):
    sender, receiver = socket.socketpair()
    with receiver:
        sender.sendall(sent)
        sender.close()
        with pytest.raises(wire.Closed):
            wire.receive(receiver)
    assert issubclass(wire.Closed, ConnectionError)  # callers that catch OSError catch it


def test_a_large_message_arrives_whole():
    message = {"value": wire.encode(np.random.default_rng(0).random(300_000))}  # several socket buffers
    sender, receiver = socket.socketpair()
    with sender, receiver:
        writer = threading.Thread(target=wire.send, args=(sender, message))
        writer.start()
        got = wire.receive(receiver)
        writer.join()
    assert got == message


# -- descriptors ------------------------------------------------------------------------------------
def test_descriptors_travel_with_a_message():
    read_end, write_end = os.pipe()
    sender, receiver = socket.socketpair()
    try:
        message = {"op": "kernel", "pad": "x" * 2**20}  # larger than the socket's buffer: sent in pieces
        writer = threading.Thread(target=wire.send, args=(sender, message, [read_end]))
        writer.start()
        got, fds = wire.receive(receiver, max_fds=4)
        writer.join()
        assert got == message and len(fds) == 1
        os.write(write_end, b"!")
        assert os.read(fds[0], 1) == b"!"  # the same pipe
        os.close(fds[0])
    finally:
        for fd in (read_end, write_end):
            os.close(fd)
        sender.close()
        receiver.close()


def test_descriptors_of_a_refused_message_are_closed():
    read_end, write_end = os.pipe()
    sender, receiver = socket.socketpair()
    try:
        wire.send(sender, {"pad": "x" * 100}, [read_end])
        os.close(read_end)  # the copy in flight is now the pipe's only reader
        with pytest.raises(wire.TooLarge):
            wire.receive(receiver, limit=10, max_fds=4)
        with pytest.raises(BrokenPipeError):  # no reader is left: the receiver closed its copy
            os.write(write_end, b"!")
    finally:
        os.close(write_end)
        sender.close()
        receiver.close()


# -- the event loop's pair --------------------------------------------------------------------------
def test_the_async_pair_speaks_the_same_format_as_the_blocking_one():
    big = {"big": "y" * 2**20}  # several socket buffers: sent and read in pieces

    async def exchange():
        loop_side, thread_side = socket.socketpair()
        loop_side.setblocking(False)
        with loop_side, thread_side:
            sent = asyncio.create_task(wire.send_async(loop_side, big))
            received = await asyncio.to_thread(wire.receive, thread_side)
            await sent
            replied = asyncio.create_task(asyncio.to_thread(wire.send, thread_side, {"got": len(received["big"])}))
            reply = await wire.receive_async(loop_side)
            await replied
            return received, reply

    received, reply = asyncio.run(exchange())
    assert received == big and reply == {"got": 2**20}


def test_the_async_receiver_refuses_on_the_header_and_sees_a_peer_stop():
    async def refused():
        loop_side, peer = socket.socketpair()
        loop_side.setblocking(False)
        with loop_side, peer:
            peer.sendall(wire.HEADER.pack(2**40) + b"body")
            with pytest.raises(wire.TooLarge):
                await wire.receive_async(loop_side, limit=2**20)
            return loop_side.recv(100)

    async def stopped():
        loop_side, peer = socket.socketpair()
        loop_side.setblocking(False)
        with loop_side:
            peer.sendall(wire.HEADER.pack(100) + b"{")
            peer.close()
            with pytest.raises(wire.Closed):
                await wire.receive_async(loop_side)

    assert asyncio.run(refused()) == b"body"  # unread
    asyncio.run(stopped())
