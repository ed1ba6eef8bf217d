"""What the judge reads from a kernel (autograde.runtime.judge.remote, autograde.runtime.judge.probe) is untrusted input: every
malformed or oversized message is a ValueError (a failed call), never another exception in the grader,
and a message over the cap is refused before it is read."""
import asyncio
import json
import socket
import struct

import numpy as np
import pytest

from autograde.runtime.judge import probe
from autograde.runtime.judge.remote import KernelLink, ReplyTooLarge, read_message


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe bad bytes", b"[" * 100_000 + b"]" * 100_000,
                                  b'"a string"', b"[1, 2]", b"null"])
def test_a_message_that_is_not_a_json_object_is_a_value_error(data):
    with pytest.raises(ValueError):
        read_message(data)


def _array(dtype, shape, data):
    return {"t": "nd", "dtype": dtype, "shape": shape, "b": __import__("base64").b64encode(data).decode()}


@pytest.mark.parametrize("tree", [
    _array("<V8", [1], bytes(8)),                      # a dtype the wire refuses
    _array("O", [1], bytes(8)),
    _array("<f8", [3], bytes(8)),                      # shape and bytes disagree
    _array("<f8", [10**12, 10**12], b""),              # an absurd shape
    _array("not a dtype", [1], bytes(8)),
    {"t": "nd", "dtype": "<f8", "shape": [1], "b": "%%% not base64"},
    {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "py", "v": 1}]]},   # an unhashable key
    {"t": "py", "v": 1.5}, {"t": "float", "v": "many"}, {"t": "gen", "bg": "os.system", "state": "{}"},
    {"t": "what"}, {"no": "type"}, "not a tree",
])
def test_a_malformed_value_fails_to_decode_with_a_value_or_type_error(tree):
    with pytest.raises((ValueError, TypeError, KeyError)):
        probe.decode(tree)


def test_deep_nesting_is_refused():
    tree = {"t": "py", "v": 1}
    for _ in range(200):
        tree = {"t": "list", "v": [tree]}
    with pytest.raises(ValueError):
        probe.decode(tree)


class _Client:
    timeout = 5


def _link_reading(frames, limit):
    """A KernelLink whose judge connection receives ``frames`` (raw bytes); the first message it reads."""
    grader, kernel = socket.socketpair()
    link = KernelLink(_Client(), reply_limit=limit)
    link.connection = grader
    grader.setblocking(False)
    kernel.sendall(frames)
    kernel.close()
    try:
        return asyncio.run(link._judge_request())
    finally:
        grader.close()


def test_a_message_over_the_cap_is_refused_before_it_is_read():
    with pytest.raises(ReplyTooLarge) as refused:
        _link_reading(struct.pack("!Q", 2**40) + bytes(1024), limit=2**20)
    assert refused.value.size == 2**40


def test_a_message_cut_short_is_a_connection_error():
    with pytest.raises(ConnectionError):
        _link_reading(struct.pack("!Q", 100) + b'{"reply"', limit=2**20)


def test_a_message_under_the_cap_is_read():
    data = json.dumps({"reply": {"result": probe.encode(np.arange(3.0))}}).encode()
    message = _link_reading(struct.pack("!Q", len(data)) + data, limit=len(data))
    assert np.array_equal(probe.decode(message["reply"]["result"]), np.arange(3.0))


def test_the_probe_replaces_a_reply_over_the_cap_with_a_note():
    probe._JUDGE["limit"] = 1000
    try:
        sent = json.loads(probe._sized({"reply": {"result": probe.encode(np.zeros(1000))}}, wrapped=True))
    finally:
        probe._JUDGE["limit"] = None
    assert "too_large" in sent["reply"]
