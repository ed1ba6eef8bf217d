"""No helper that ships to students holds the algorithm of a graded function.

Names prove nothing (a helper can call its loop anything), so the comparison is by structure: every
function of every module of the release's rnn_helpers package, and every loop in it, against every graded function of
autograde/content/solution.py and every loop in it, with all variable, argument and function names replaced
by one placeholder (attribute names such as ``np.linalg.eigvals`` and constants stay; load and store
contexts are ignored). A solution block
is "contained" in a helper block when most of its syntax is covered by subtrees (of at least MIN_NODES
nodes) that occur, after that renaming, in the helper block too.
"""
import ast

import pytest

from autograde.content import notebooks
from tests.conftest import REPO

MIN_NODES = 4      # subtrees smaller than this (a name, ``x[:, t]``) say nothing about an algorithm
CONTAINED = 0.5    # share of a solution block's syntax found in one helper block that counts as a copy

# (helper function, graded function): why the helper may hold it
ALLOWED = {
    ("step_backward_is_right", "rnn_step_forward"):
        "the forward step h = tanh(x Wxh + h_prev Whh + bh), the equation notebook 01 states and 05 writes "
        "out in a visible cell; 05's numerical check needs a forward step that is right when the student's is not",
}


def _key(node, memo):
    """The node's syntax as text, every Name and argument name replaced (memo: id -> key, for speed)."""
    if not isinstance(node, ast.AST):
        return "[" + ",".join(_key(item, memo) for item in node) + "]" if isinstance(node, list) else repr(node)
    if id(node) not in memo:
        if isinstance(node, (ast.Name, ast.arg)):
            memo[id(node)] = type(node).__name__
        else:
            fields = [_key(value, memo) for field, value in ast.iter_fields(node) if field not in ("ctx", "type_comment")]
            memo[id(node)] = f"{type(node).__name__}({','.join(fields)})"
    return memo[id(node)]


def _nodes(tree):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.expr, ast.stmt))]


def _sizes(tree):
    """{id(node): number of expressions and statements in its subtree}, for every node of tree."""
    sizes = {}

    def visit(node):
        size = isinstance(node, (ast.expr, ast.stmt)) + sum(visit(child) for child in ast.iter_child_nodes(node))
        sizes[id(node)] = size
        return size

    visit(tree)
    return sizes


def _blocks(function):
    """(label, node): the function, and each loop inside it."""
    yield function.name, function
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.While)):
            yield f"{function.name} (loop at line {node.lineno})", node


def _containment(solution_block, helper_keys, memo, sizes):
    """The share of solution_block's expressions and statements that lie in a subtree of at least
    MIN_NODES nodes whose renamed form is among helper_keys."""

    def covered(node):
        if sizes[id(node)] >= MIN_NODES and _key(node, memo) in helper_keys:
            return sizes[id(node)]
        return sum(covered(child) for child in ast.iter_child_nodes(node))

    total = sizes[id(solution_block)] - 1
    return sum(covered(child) for child in ast.iter_child_nodes(solution_block)) / max(total, 1)


def graded_function_names():
    names = set()
    for path in sorted((REPO / "source" / "rnn").glob("*.ipynb")):
        names |= {notebooks.grade_id(cell) for cell in notebooks.read(path).cells if notebooks.is_answer(cell)}
    return names


def copies_in(*helper_sources):
    """[(helper block, graded block, share)] for every block of the helper modules (their sources) that
    contains a graded block."""
    graded = graded_function_names()
    solution = ast.parse((REPO / "autograde" / "content" / "solution.py").read_text())
    memo, sizes = {}, _sizes(solution)
    solution_blocks = [(name, block) for function in solution.body
                       if isinstance(function, ast.FunctionDef) and function.name in graded
                       for name, block in _blocks(function)]
    helpers = [ast.parse(source) for source in helper_sources]
    for helper in helpers:
        sizes.update(_sizes(helper))
    found = []
    for function in (node for helper in helpers for node in ast.walk(helper)):
        if not isinstance(function, ast.FunctionDef):
            continue
        for helper_name, helper_block in _blocks(function):
            keys = {_key(node, memo) for node in _nodes(helper_block) if sizes[id(node)] >= MIN_NODES}
            for solution_name, solution_block in solution_blocks:
                share = _containment(solution_block, keys, memo, sizes)
                if share >= CONTAINED and (function.name, solution_name.split()[0]) not in ALLOWED:
                    found.append((helper_name, solution_name, round(share, 2)))
    return found


def helper_modules():
    """{file name: source} of every module of the release's helper package."""
    return {path.name: path.read_text() for path in sorted((REPO / "release" / "rnn" / "rnn_helpers").glob("*.py"))}


def test_no_release_helper_contains_a_graded_function():
    modules = helper_modules()
    assert "__init__.py" in modules and len(modules) > 10
    copies = copies_in(*modules.values())
    assert not copies, f"rnn_helpers holds the algorithm of graded functions: {copies}"


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
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(f"{__name__}.ALLOWED", {})
        found = {(h.split()[0], g.split()[0]) for h, g, _ in copies_in(*helper_modules().values())}
        assert (allowed[0], allowed[1]) in found
