"""Notebook 03's helpers (ids shown as characters) and the design of its hidden-test inputs."""
import contextlib
import copy
import io

import numpy as np
import pytest

from autograde.content import mistakes, solution
from autograde.content.checks import nb03
from tests.conftest import fresh_helpers

CHARS = ["\n", "a", "b", "o"]


@pytest.fixture(scope="module")
def helpers():
    return fresh_helpers()


def test_decode_shows_the_boundary_or_drops_it(helpers):
    assert helpers.decode([0, 2, 3, 2, 0], CHARS) == "·bob·"
    assert helpers.decode(np.array([0, 2, 3, 2, 0]), CHARS, boundary="") == "bob"


def test_print_batch_aligns_ids_and_masks_by_column(helpers):
    ids = np.array([[0, 2, 3, 2, 0, 0], [0, 1, 0, 0, 0, 0]])
    inputs, targets, mask = solution.shift_labels(ids, np.array([5, 3]))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        helpers.print_batch(CHARS, {"inputs": inputs, "targets": targets, "mask": mask})
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("· b o b ·") and lines[1].endswith("b o b · ·") and lines[2].endswith("1 1 1 1 0")
    assert len({len(line) for line in lines[:3]}) == 1  # the three rows of an example line up
    assert lines[4].startswith("row 1")


def test_plot_char_grid_draws_a_character_per_cell(helpers):
    import matplotlib
    matplotlib.use("Agg")
    ids = np.array([[0, 2, 3], [0, 1, 0]])
    ax = helpers.plot_char_grid(ids, CHARS, mask=np.array([[1, 1, 0], [1, 0, 0]]), wrong=ids == 3)
    assert [t.get_text() for t in ax.texts] == ["·", "b", "o", "·", "a", "·"]


def test_hidden_inputs_tell_every_catalogue_entry_apart():
    """On the hidden checks' own inputs, no two entries of a function give the same outputs,
    so the entry a failing check names is the only one that fits."""
    cases = {"build_vocab": nb03._vocab_cases("x"), "one_hot": nb03._one_hot_cases("x"),
             "pad_batch": nb03._pad_cases("x"), "shift_labels": nb03._shift_cases("x")}
    for function, function_cases in cases.items():
        entries = [m for m in mistakes.for_function(function) if m.notebook == "03_label_shift"]
        outputs = {m.id: [nb03._with_kinds(_as_tuple(m(*copy.deepcopy(args)))) for args, _ in function_cases] for m in entries}
        reference = [nb03._with_kinds(_as_tuple(getattr(solution, function)(*copy.deepcopy(args)))) for args, _ in function_cases]
        for i, a in enumerate(entries):
            if a.breaks <= {"test_pad_batch_pure", "test_shift_labels_pure"}:
                continue  # outputs right, arguments modified: told apart by check_pure
            assert not _same(outputs[a.id], reference), a.id
            for b in entries[i + 1:]:
                assert not _same(outputs[a.id], outputs[b.id]), (a.id, b.id)


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def _same(x, y):
    from autograde.content.checking import same
    return same(x, y, 0, 0)
