"""No helper that ships to students holds the algorithm of a graded function.

Names prove nothing (a helper can call its loop anything), so the comparison is by structure: every
function of the release's rnn_helpers.py, and every loop in it, against every graded function of
autograde/solution.py and every loop in it, with all variable, argument and function names replaced
by one placeholder (attribute names such as ``np.linalg.eigvals`` and constants stay). A solution block
is "contained" in a helper block when most of its syntax is covered by subtrees (of at least MIN_NODES
nodes) that occur, after that renaming, in the helper block too.
"""
import ast
import copy

import pytest

from autograde import notebooks
from tests.conftest import REPO

MIN_NODES = 4      # subtrees smaller than this (a name, ``x[:, t]``) say nothing about an algorithm
CONTAINED = 0.5    # share of a solution block's syntax found in one helper block that counts as a copy

# (helper function, graded function): why the helper may hold it
ALLOWED = {
    ("step_backward_is_right", "rnn_step_forward"):
        "the forward step h = tanh(x Wxh + h_prev Whh + bh), the equation notebook 01 states and 05 writes "
        "out in a visible cell; 05's numerical check needs a forward step that is right when the student's is not",
}


class _Anonymous(ast.NodeTransformer):
    def visit_Name(self, node):
        return ast.Name(id="_", ctx=ast.Load())

    def visit_arg(self, node):
        return ast.arg(arg="_")


def _key(node):
    return ast.dump(_Anonymous().visit(copy.deepcopy(node)), annotate_fields=False)


def _nodes(tree):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.expr, ast.stmt))]


def _blocks(function):
    """(label, node): the function, and each loop inside it."""
    yield function.name, function
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.While)):
            yield f"{function.name} (loop at line {node.lineno})", node


def _containment(solution_block, helper_keys):
    """The share of solution_block's expressions and statements that lie in a subtree of at least
    MIN_NODES nodes whose renamed form is among helper_keys."""
    covered = set()

    def visit(node):
        inside = _nodes(node)
        if len(inside) >= MIN_NODES and _key(node) in helper_keys:
            covered.update(map(id, inside))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for child in ast.iter_child_nodes(solution_block):
        visit(child)
    total = [node for node in _nodes(solution_block) if node is not solution_block]
    return sum(id(node) in covered for node in total) / max(len(total), 1)


def graded_function_names():
    names = set()
    for path in sorted((REPO / "source" / "rnn").glob("*.ipynb")):
        names |= {notebooks.grade_id(cell) for cell in notebooks.read(path).cells if notebooks.is_answer(cell)}
    return names


def copies_in(helper_source):
    """[(helper block, graded block, share)] for every helper block that contains a graded block."""
    graded = graded_function_names()
    solution = ast.parse((REPO / "autograde" / "solution.py").read_text())
    solution_blocks = [(name, block) for function in solution.body
                       if isinstance(function, ast.FunctionDef) and function.name in graded
                       for name, block in _blocks(function)]
    found = []
    for function in ast.walk(ast.parse(helper_source)):
        if not isinstance(function, ast.FunctionDef):
            continue
        for helper_name, helper_block in _blocks(function):
            keys = {_key(node) for node in _nodes(helper_block) if len(_nodes(node)) >= MIN_NODES}
            for solution_name, solution_block in solution_blocks:
                share = _containment(solution_block, keys)
                if share >= CONTAINED and (function.name, solution_name.split()[0]) not in ALLOWED:
                    found.append((helper_name, solution_name, round(share, 2)))
    return found


def test_no_release_helper_contains_a_graded_function():
    copies = copies_in((REPO / "release" / "rnn" / "rnn_helpers.py").read_text())
    assert not copies, f"rnn_helpers.py holds the algorithm of graded functions: {copies}"


def test_the_comparison_finds_a_graded_function_renamed_and_inside_a_helper():
    """A helper that hides lstm_backward's loop, or the spectral radius, under other names is found;
    the allowed pair is found when not allowed; a helper that only calls graded functions is not."""
    disguised = '''
def gradient_of_every_state(step_back, dh, stored):
    xs, first, hs, cs, A, B, gi, gf, go, gg = stored
    back = [None] * xs.shape[1]
    dA, dB, dbias = np.zeros(A.shape), np.zeros(B.shape), np.zeros(A.shape[1])
    carry_h, carry_c = np.zeros(first.shape), np.zeros(first.shape)
    for k in reversed(range(xs.shape[1])):
        before_h = hs[:, k - 1] if k > 0 else first
        before_c = cs[:, k - 1] if k > 0 else np.zeros(first.shape)
        piece = (xs[:, k], before_h, before_c, A, B, gi[:, k], gf[:, k], go[:, k], gg[:, k], cs[:, k])
        back[k], carry_h, carry_c, a, b, c = step_back(dh[:, k] + carry_h, carry_c, piece)
        dA += a
        dB += b
        dbias += c
    return back

def unit_radius(M):
    return M / float(np.abs(np.linalg.eigvals(M)).max())
'''
    found = {graded.split()[0] for _, graded, _ in copies_in(disguised)}
    assert {"lstm_backward", "spectral_radius"} <= found, found
    calls_only = '''
def train(loss_and_gradients, clip, params, batches):
    for inputs, targets, mask in batches:
        loss, grads, _ = loss_and_gradients(params, inputs, targets, mask)
        grads, norm = clip(grads, 1.0)
'''
    assert copies_in(calls_only) == []
    allowed = next(iter(ALLOWED))
    source = (REPO / "release" / "rnn" / "rnn_helpers.py").read_text()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(f"{__name__}.ALLOWED", {})
        assert (allowed[0], allowed[1]) in {(h.split()[0], g.split()[0]) for h, g, _ in copies_in(source)}
