"""Hidden checks of 03_label_shift: build_vocab, encode, one_hot, pad_batch, shift_labels.

The inputs are designed so that every catalogue entry of this notebook fails and is told
apart: names of different lengths (so rows need padding), batches where N, L and V all
differ (so a wrong axis changes a shape), alphabets that are not a..z and whose first
appearance is not sorted (so hard-coded or unsorted vocabularies show), a batch of one.
"""
import numpy as np

from autograde.content import solution
from autograde.content.checking import (call, check_pure, check_values, describe, diagnose, fail, fail_as, passed,
                                rng_for)

# characters above "\n" that real names carry besides letters: hyphen, apostrophe, space
ALPHABET = "abcdefghijklmnopqrstuvwxyz-' "


def _random_names(rng, n_names, alphabet, min_len=1, max_len=9):
    letters = list(alphabet)
    return ["".join(rng.choice(letters, size=int(rng.integers(min_len, max_len + 1)))) for _ in range(n_names)]


def _alphabet(rng, size):
    """A random subset of ALPHABET in random order (never the contiguous a..z)."""
    return "".join(rng.permutation(list(ALPHABET))[:size])


def _named(message, entry):
    fail_as(message, entry)


def _outputs(name, fn, cases, fields):
    """The student's outputs on every case, after checking that each is a tuple of ``fields``."""
    outputs = []
    for args, kwargs in cases:
        out = call(name, fn, *args, **kwargs)
        if not (isinstance(out, tuple) and len(out) == len(fields)):
            fail(f"`{name}` should return a tuple ({', '.join(fields)}), not {describe(out)}.")
        outputs.append(out)
    return outputs


def _with_kinds(out):
    """Outputs together with their dtype kinds, so that a diagnosis by value also matches the dtype."""
    return [(np.asarray(item), np.asarray(item).dtype.kind) for item in out]


# --------------------------------------------------------------------------
# build_vocab
# --------------------------------------------------------------------------
def _vocab_cases(check):
    rng = rng_for(check)
    cases = [((["emma", "olivia", "ava", "mary-kate", "o'brien", "jo ann"],), {}),
             ((_random_names(rng, 1, _alphabet(rng, 6)),), {})]
    for size, n_names in [(9, 12), (20, 30), (29, 60)]:
        cases.append(((_random_names(rng, n_names, _alphabet(rng, size)),), {}))
    return cases


def build_vocab_chars(fn):
    cases = _vocab_cases("build_vocab_chars")
    _outputs("build_vocab", fn, cases, ["chars", "char_to_id"])
    check_values("build_vocab", fn, cases, select=lambda out: list(out[0]),
                 what="list of characters (boundary first, then sorted)")


def build_vocab_inverse(fn):
    cases = _vocab_cases("build_vocab_inverse")
    outputs = _outputs("build_vocab", fn, cases, ["chars", "char_to_id"])
    for number, (chars, char_to_id) in enumerate(outputs, start=1):
        if not isinstance(char_to_id, dict):
            fail(f"`build_vocab`: char_to_id should be a dict from character to id, not {describe(char_to_id)}.")
        consistent = len(char_to_id) == len(chars) and all(
            c in char_to_id and char_to_id[c] == i for i, c in enumerate(chars))
        if not consistent:
            entry = diagnose("build_vocab", cases, outputs, select=lambda out: (list(out[0]), out[1]))
            _named(f"`build_vocab`: on random input {number} of {len(cases)}, char_to_id is not the inverse "
                   f"of chars (char_to_id[chars[i]] should be i for every i, with no other keys)", entry)
    passed(f"`build_vocab`: char_to_id is the inverse of chars on {len(cases)} random inputs")


# --------------------------------------------------------------------------
# encode
# --------------------------------------------------------------------------
def encode_values(fn):
    rng = rng_for("encode_values")
    cases = []
    for size, extra in [(5, ["", "x"]), (12, ["y"]), (29, [])]:
        alphabet = _alphabet(rng, size - len(extra)) + "".join(extra)
        _, char_to_id = solution.build_vocab([alphabet])
        for name in _random_names(rng, 2, alphabet, max_len=10) + extra:
            cases.append(((name, char_to_id), {}))
    check_values("encode", fn, cases, select=lambda out: np.asarray(out), what="list of ids")


# --------------------------------------------------------------------------
# one_hot
# --------------------------------------------------------------------------
ONE_HOT_SHAPES = [((7,), 5), ((3, 6), 9), ((1, 4), 4), ((2, 3, 4), 6), ((5, 2), 11)]


def _one_hot_cases(check):
    rng = rng_for(check)
    cases = []
    for shape, vocab_size in ONE_HOT_SHAPES:
        ids = rng.integers(0, vocab_size, size=shape)
        ids.flat[0], ids.flat[-1] = vocab_size - 1, 0  # both ends of the vocabulary occur
        cases.append(((ids, vocab_size), {}))
    return cases


def one_hot_shape(fn):
    cases = _one_hot_cases("one_hot_shape")
    outputs = [call("one_hot", fn, *args, **kwargs) for args, kwargs in cases]
    for (args, _), out in zip(cases, outputs):
        ids, vocab_size = args
        if not isinstance(out, np.ndarray):
            fail(f"`one_hot` should return a NumPy array, not {describe(out)}.")
        if out.shape != ids.shape + (vocab_size,):
            entry = diagnose("one_hot", cases, outputs)
            _named(f"`one_hot` returned shape {out.shape} for ids of shape {ids.shape} and vocab_size "
                   f"{vocab_size}; it should be ids.shape + (vocab_size,) = {ids.shape + (vocab_size,)}", entry)
    passed(f"`one_hot` returns shape ids.shape + (vocab_size,) for ids of {len(cases)} shapes (1-D, 2-D, 3-D)")


def one_hot_dtype(fn):
    cases = _one_hot_cases("one_hot_dtype")
    outputs = [call("one_hot", fn, *args, **kwargs) for args, kwargs in cases]
    for out in outputs:
        if not isinstance(out, np.ndarray):
            fail(f"`one_hot` should return a NumPy array, not {describe(out)}.")
        if not np.issubdtype(out.dtype, np.floating):
            entry = diagnose("one_hot", cases, outputs, select=lambda o: (o, np.asarray(o).dtype.kind))
            _named(f"`one_hot` returned dtype {out.dtype}; it should return a float array", entry)
    passed("`one_hot` returns a float array")


def one_hot_values(fn):
    check_values("one_hot", fn, _one_hot_cases("one_hot_values"), what="one-hot array")


# --------------------------------------------------------------------------
# pad_batch
# --------------------------------------------------------------------------
def _pad_cases(check):
    """Lists of encoded names: rows of different lengths, N != L_max, a batch of one, equal lengths."""
    rng = rng_for(check)
    _, char_to_id = solution.build_vocab([ALPHABET])
    cases = []
    for n_names, min_len, max_len in [(5, 1, 9), (1, 3, 6), (3, 2, 12), (2, 4, 4), (7, 1, 5)]:
        names = _random_names(rng, n_names, ALPHABET[:26], min_len, max_len)
        cases.append((([solution.encode(name, char_to_id) for name in names],), {}))
    return cases


def pad_batch_ids(fn):
    cases = _pad_cases("pad_batch_ids")
    _outputs("pad_batch", fn, cases, ["ids", "lengths"])
    check_values("pad_batch", fn, cases, select=lambda out: np.asarray(out[0]),
                 what="padded rectangle of ids")


def pad_batch_lengths(fn):
    cases = _pad_cases("pad_batch_lengths")
    _outputs("pad_batch", fn, cases, ["ids", "lengths"])
    check_values("pad_batch", fn, cases, select=lambda out: np.asarray(out[1]), what="array of lengths")


def pad_batch_dtype(fn):
    cases = _pad_cases("pad_batch_dtype")
    outputs = _outputs("pad_batch", fn, cases, ["ids", "lengths"])
    for ids, lengths in outputs:
        problem = None
        if not isinstance(ids, np.ndarray):
            problem = f"ids should be a NumPy array, not {describe(ids)}"
        elif not np.issubdtype(ids.dtype, np.integer):
            problem = f"ids has dtype {ids.dtype}; ids index the vocabulary, so they must be integers"
        elif not np.issubdtype(np.asarray(lengths).dtype, np.integer):
            problem = f"lengths has dtype {np.asarray(lengths).dtype}; lengths must be integers"
        if problem:
            _named(f"`pad_batch`: {problem}", diagnose("pad_batch", cases, outputs, select=_with_kinds))
    passed("`pad_batch` returns integer ids and lengths")


def pad_batch_pure(fn):
    check_pure("pad_batch", fn, _pad_cases("pad_batch_pure"), ["encoded"])


# --------------------------------------------------------------------------
# shift_labels
# --------------------------------------------------------------------------
def _shift_cases(check):
    return [((ids, lengths), {}) for ((encoded,), _) in _pad_cases(check)
            for ids, lengths in [solution.pad_batch(encoded)]]


SHIFT_FIELDS = ["inputs", "targets", "mask"]


def shift_labels_shapes(fn):
    cases = _shift_cases("shift_labels_shapes")
    outputs = _outputs("shift_labels", fn, cases, SHIFT_FIELDS)
    for ((ids, _), _), out in zip(cases, outputs):
        expected = (ids.shape[0], ids.shape[1] - 1)
        problem = None
        for field, item in zip(SHIFT_FIELDS, out):
            if not isinstance(item, np.ndarray):
                problem = f"{field} should be a NumPy array, not {describe(item)}"
            elif item.shape != expected:
                problem = (f"for ids of shape {ids.shape}, {field} has shape {item.shape}; inputs, targets "
                           f"and mask should all be (N, L - 1) = {expected}")
            elif field != "mask" and not np.issubdtype(item.dtype, np.integer):
                problem = f"{field} has dtype {item.dtype}; it should hold integer ids like `ids`"
            elif field == "mask" and not np.issubdtype(item.dtype, np.floating):
                problem = f"mask has dtype {item.dtype}; it should be a float array of 1.0 and 0.0"
            if problem:
                _named(f"`shift_labels`: {problem}", diagnose("shift_labels", cases, outputs, select=_with_kinds))
    passed(f"`shift_labels` returns inputs, targets (integer) and mask (float) of shape (N, L - 1) "
           f"on {len(cases)} batches")


def shift_labels_inputs(fn):
    cases = _shift_cases("shift_labels_inputs")
    _outputs("shift_labels", fn, cases, SHIFT_FIELDS)
    check_values("shift_labels", fn, cases, select=lambda out: np.asarray(out[0]), what="inputs array")


def shift_labels_targets(fn):
    cases = _shift_cases("shift_labels_targets")
    _outputs("shift_labels", fn, cases, SHIFT_FIELDS)
    check_values("shift_labels", fn, cases, select=lambda out: np.asarray(out[1]), what="targets array")


def shift_labels_mask(fn):
    cases = _shift_cases("shift_labels_mask")
    _outputs("shift_labels", fn, cases, SHIFT_FIELDS)
    check_values("shift_labels", fn, cases, select=lambda out: np.asarray(out[2]), what="mask array")


def shift_labels_pure(fn):
    check_pure("shift_labels", fn, _shift_cases("shift_labels_pure"), ["ids", "lengths"])


# --------------------------------------------------------------------------
# embedding_forward, embedding_backward: the one-hot product as a row lookup
# --------------------------------------------------------------------------
# (ids shape, vocab_size V, embedding width H): 1-D, 2-D, 3-D ids, a batch of one; H != V
# everywhere, so that a transposed dW shows in its shape
EMBEDDING_SHAPES = [((7,), 5, 3), ((3, 6), 9, 4), ((1, 4), 4, 2), ((2, 3, 4), 6, 5), ((5, 2), 11, 1)]


def _embedding_ids(rng, shape, vocab_size):
    """Random ids that hold a repeated id and both ends of the vocabulary."""
    ids = rng.integers(0, vocab_size, size=shape)
    ids.flat[0], ids.flat[-1] = vocab_size - 1, 0
    ids.flat[1 % ids.size] = ids.flat[0]  # a repeated id: its rows of dout must add up
    return ids


def _embedding_forward_cases(check):
    rng = rng_for(check)
    return [((_embedding_ids(rng, shape, V), rng.standard_normal((V, H))), {}) for shape, V, H in EMBEDDING_SHAPES]


def _embedding_backward_cases(check):
    rng = rng_for(check)
    cases = []
    for shape, V, H in EMBEDDING_SHAPES:
        ids = _embedding_ids(rng, shape, V)
        cases.append(((rng.standard_normal(ids.shape + (H,)), ids, V), {}))
    return cases


def embedding_forward_values(fn):
    cases = _embedding_forward_cases("embedding_forward_values")
    outputs = [call("embedding_forward", fn, *args, **kwargs) for args, kwargs in cases]
    for ((ids, W), _), out in zip(cases, outputs):
        expected = ids.shape + (W.shape[1],)
        if np.shape(out) != expected:
            _named(f"`embedding_forward` returned {describe(out)} for ids of shape {ids.shape} and W of shape "
                   f"{W.shape}; it should be ids.shape + (H,) = {expected}",
                   diagnose("embedding_forward", cases, outputs))
    check_values("embedding_forward", fn, cases, what="array of embedding rows")


def embedding_backward_shape(fn):
    cases = _embedding_backward_cases("embedding_backward_shape")
    outputs = [call("embedding_backward", fn, *args, **kwargs) for args, kwargs in cases]
    for ((dout, ids, vocab_size), _), out in zip(cases, outputs):
        expected = (vocab_size, dout.shape[-1])
        if not isinstance(out, np.ndarray) or out.shape != expected:
            _named(f"`embedding_backward` returned {describe(out)} for dout of shape {dout.shape} and vocab_size "
                   f"{vocab_size}; dW has the shape of W, (vocab_size, H) = {expected}",
                   diagnose("embedding_backward", cases, outputs))
    passed(f"`embedding_backward` returns dW of shape (vocab_size, H) for {len(cases)} shapes of ids")


def embedding_backward_values(fn):
    check_values("embedding_backward", fn, _embedding_backward_cases("embedding_backward_values"),
                 what="gradient dW (every case holds a repeated id)")


def embedding_backward_pure(fn):
    check_pure("embedding_backward", fn, _embedding_backward_cases("embedding_backward_pure"),
               ["dout", "ids", "vocab_size"])
