"""What the judge (autograde.runtime.judge.remote, autograde.runtime.judge.probe) does with the wire
format (autograde.runtime.wire, tested in tests/test_wire.py): the grader reads no message from a
kernel longer than its ``reply_limit``, the probe replaces a reply longer than that with a note,
and the probe installs in a kernel that cannot import ``autograde``."""
import asyncio
import builtins
import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from autograde.runtime import wire
from autograde.runtime.judge import probe
from autograde.runtime.judge.remote import KernelLink


class _Client:
    timeout = 5
    km = None  # no sandbox: the probe talks over the stdin channel


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


def test_the_grader_refuses_a_message_over_its_reply_limit_and_reads_one_at_it():
    message = {"reply": {"result": wire.encode(np.arange(3.0))}}
    size = len(wire.text(message))
    with pytest.raises(wire.TooLarge) as refused:
        _link_reading(wire.pack(message), limit=size - 1)
    assert refused.value.size == size
    got = _link_reading(wire.pack(message), limit=size)
    assert np.array_equal(wire.decode(got["reply"]["result"]), np.arange(3.0))


@pytest.fixture
def reply_limit():
    probe._JUDGE["limit"] = 1000
    yield 1000
    probe._JUDGE["limit"] = None


def test_the_probe_replaces_a_reply_over_the_limit_with_a_note_on_the_socket(reply_limit):
    kernel, grader = socket.socketpair()
    with kernel, grader:
        probe._send(kernel, {"reply": {"result": wire.encode(np.zeros(1000))}})  # the session's reply
        probe._send(kernel, {"part": "f", "args": wire.encode([np.zeros(1000)])})  # a reference-part call
        probe._send(kernel, {"reply": {"result": wire.encode(1.0)}})
        sent = [wire.receive(grader, limit=reply_limit) for _ in range(3)]
    assert "too_large" in sent[0]["reply"] and f"{reply_limit:,}" in sent[0]["reply"]["too_large"]
    assert "too_large" in sent[1] and "part" not in sent[1]
    assert wire.decode(sent[2]["reply"]["result"]) == 1.0


def test_the_probe_replaces_a_reply_over_the_limit_with_a_note_on_the_stdin_channel(reply_limit, monkeypatch):
    prompts = []
    monkeypatch.setattr(builtins, "input", lambda prompt: prompts.append(prompt) or "")
    probe._ask(probe.REPLY, {"result": wire.encode(np.zeros(1000))})
    probe._ask(probe.REPLY, {"result": wire.encode(2.0)})
    assert all(prompt.startswith(probe.REPLY) for prompt in prompts)
    notes = [wire.parse(prompt[len(probe.REPLY):]) for prompt in prompts]
    assert "too_large" in notes[0] and wire.decode(notes[1]["result"]) == 2.0


KERNEL = """
import json, sys
attempts = []
class Refuse:  # as the sandboxed kernel's audit hook, but failing the import outright
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "autograde":
            attempts.append(name)
            raise ImportError(name)
sys.meta_path.insert(0, Refuse())
exec(INSTALL)
probe = __autograde_probe__
wire = type(probe).serve.__globals__["wire"]
def double(x):
    x *= 2
    return x.sum()
reply = probe.op_call("double", wire.encode([wire.decode(json.loads(sys.argv[1]))]), wire.encode({}))
print(json.dumps({"attempts": attempts, "wire": wire.__name__, "reply": reply}))
"""


def test_the_probe_installs_in_a_kernel_that_cannot_import_autograde(tmp_path):
    """The install code the grader sends, run where ``autograde`` cannot be imported: the probe works with the
    wire module the install code made, and never tries the import."""
    kernel = KERNEL.replace("INSTALL", repr(KernelLink(_Client())._install_code()))
    argument = json.dumps(wire.encode(np.arange(3.0)))
    done = subprocess.run([sys.executable, "-I", "-c", kernel, argument], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["attempts"] == [] and printed["wire"] == "autograde_wire"
    assert wire.decode(printed["reply"]["result"]) == 6.0
    assert np.array_equal(wire.decode(printed["reply"]["args"])[0], [0.0, 2.0, 4.0])  # what it did to its copy
