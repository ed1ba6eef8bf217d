"""Catalogue entries for 03_label_shift."""
import numpy as np

from autograde.content.mistakes import mistake

NB = "03_label_shift"


# -- build_vocab --------------------------------------------------------------
@mistake("build_vocab", NB, breaks={"test_build_vocab_chars"},
         explain="the boundary token is missing: chars must start with \"\\n\" (id 0, the start and end of "
                 "every name), followed by the characters of the names in sorted order.")
def build_vocab_no_boundary(names):
    chars = sorted(set("".join(names)))
    return chars, {c: i for i, c in enumerate(chars)}


@mistake("build_vocab", NB, breaks={"test_build_vocab_chars"},
         explain="the characters are in order of first appearance, not sorted: after \"\\n\" they must "
                 "follow in sorted order, so that the same characters always get the same ids.")
def build_vocab_unsorted(names):
    chars = ["\n"] + list(dict.fromkeys("".join(names)))
    return chars, {c: i for i, c in enumerate(chars)}


@mistake("build_vocab", NB, breaks={"test_build_vocab_inverse"},
         explain="char_to_id was numbered before the boundary was put first, so every id is off by one: "
                 "build char_to_id from the final chars list, {c: i for i, c in enumerate(chars)}.")
def build_vocab_ids_off_by_one(names):
    letters = sorted(set("".join(names)))
    char_to_id = {c: i for i, c in enumerate(letters)}
    return ["\n"] + letters, char_to_id


# -- encode -----------------------------------------------------------------
@mistake("encode", NB, breaks={"test_encode_values"},
         explain="the end boundary is missing: encode(name) is [0, ids..., 0]; the final 0 is the target "
                 "that teaches the model where a name stops.")
def encode_no_end(name, char_to_id):
    return [0] + [char_to_id[c] for c in name]


@mistake("encode", NB, breaks={"test_encode_values"},
         explain="the ids are computed from the alphabet (ord(c) - ord('a') + 1) instead of looked up in "
                 "char_to_id: they only agree when the vocabulary is exactly a..z; use char_to_id[c].")
def encode_hardcoded_alphabet(name, char_to_id):
    return [0] + [ord(c) - ord("a") + 1 for c in name] + [0]


# -- one_hot ----------------------------------------------------------------
@mistake("one_hot", NB, breaks={"test_one_hot_dtype"},
         explain="one_hot returns integers: the network multiplies the one-hot vectors by float weights, "
                 "so return floats (e.g. .astype(float) or np.zeros(..., dtype=float)).")
def one_hot_int(ids, vocab_size):
    ids = np.asarray(ids)
    return (ids[..., None] == np.arange(vocab_size)).astype(np.int64)


@mistake("one_hot", NB, breaks={"test_one_hot_shape", "test_one_hot_values"},
         explain="the vocabulary axis comes first (a column per id, as in the column form); in this course "
                 "classes come last: the result has shape ids.shape + (vocab_size,).")
def one_hot_vocab_first(ids, vocab_size):
    return np.eye(vocab_size)[:, np.asarray(ids)]


@mistake("one_hot", NB, breaks={"test_one_hot_shape", "test_one_hot_values"},
         explain="the ids are flattened, so a batch (N, T) comes back as (N * T, V): keep the shape of ids "
                 "and add the vocabulary axis at the end, ids.shape + (vocab_size,).")
def one_hot_flattens(ids, vocab_size):
    return np.eye(vocab_size)[np.asarray(ids).ravel()]


# -- pad_batch --------------------------------------------------------------
@mistake("pad_batch", NB, breaks={"test_pad_batch_ids"},
         explain="the padding is -1, which is not an id: pad with the boundary id 0, a valid index that "
                 "the mask later keeps out of the loss (and an id of -1 silently picks the last character of the vocabulary).")
def pad_batch_minus_one(encoded):
    lengths = np.array([len(seq) for seq in encoded])
    ids = np.full((len(encoded), lengths.max()), -1)
    for n, seq in enumerate(encoded):
        ids[n, :len(seq)] = seq
    return ids, lengths


@mistake("pad_batch", NB, breaks={"test_pad_batch_ids"},
         explain="the padding goes in front of each name: every row must start at column 0 with its own "
                 "start boundary, and the padding goes at the end.")
def pad_batch_left(encoded):
    lengths = np.array([len(seq) for seq in encoded])
    ids = np.zeros((len(encoded), lengths.max()), dtype=int)
    for n, seq in enumerate(encoded):
        ids[n, ids.shape[1] - len(seq):] = seq
    return ids, lengths


@mistake("pad_batch", NB, breaks={"test_pad_batch_lengths"},
         explain="lengths counts the letters of each name; it must be len(encoded[n]), the length of the "
                 "encoded sequence with both boundaries.")
def pad_batch_lengths_without_boundaries(encoded):
    lengths = np.array([len(seq) for seq in encoded])
    ids = np.zeros((len(encoded), lengths.max()), dtype=int)
    for n, seq in enumerate(encoded):
        ids[n, :len(seq)] = seq
    return ids, lengths - 2


@mistake("pad_batch", NB, breaks={"test_pad_batch_dtype"},
         explain="ids is a float array (np.zeros makes floats unless told otherwise): ids index the "
                 "vocabulary, so create the rectangle with dtype=int.")
def pad_batch_float_ids(encoded):
    lengths = np.array([len(seq) for seq in encoded])
    ids = np.zeros((len(encoded), lengths.max()))
    for n, seq in enumerate(encoded):
        ids[n, :len(seq)] = seq
    return ids, lengths


@mistake("pad_batch", NB, breaks={"test_pad_batch_pure"},
         explain="the lists in `encoded` are padded in place (seq += [0] * k changes the caller's list): "
                 "build the padded rows as new lists or in a new array.")
def pad_batch_pads_in_place(encoded):
    lengths = np.array([len(seq) for seq in encoded])
    for seq in encoded:
        seq += [0] * (lengths.max() - len(seq))
    return np.array(encoded), lengths


# -- shift_labels -------------------------------------------------------------
@mistake("shift_labels", NB,
         breaks={"test_shift_labels_shapes", "test_shift_labels_inputs", "test_shift_labels_targets"},
         explain="the shift runs along the batch axis (ids[:-1], ids[1:]), so each row's targets are the "
                 "next name's characters: shift along time, the second axis, ids[:, :-1] and ids[:, 1:].")
def shift_labels_batch_axis(ids, lengths):
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < np.asarray(lengths)[:, None] - 1).astype(float)
    return ids[:-1], ids[1:], mask


@mistake("shift_labels", NB, breaks={"test_shift_labels_targets"},
         explain="the targets are not shifted (targets equal inputs), so the model only learns to copy "
                 "its input: the target at step t is the next character, ids[:, t + 1].")
def shift_labels_no_shift(ids, lengths):
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < np.asarray(lengths)[:, None] - 1).astype(float)
    return ids[:, :-1], ids[:, :-1], mask


@mistake("shift_labels", NB, breaks={"test_shift_labels_inputs", "test_shift_labels_targets"},
         explain="the shift goes backwards (inputs = ids[:, 1:], targets = ids[:, :-1]), so the model "
                 "predicts the previous character: inputs drop the last column, targets the first.")
def shift_labels_backwards(ids, lengths):
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < np.asarray(lengths)[:, None] - 1).astype(float)
    return ids[:, 1:], ids[:, :-1], mask


@mistake("shift_labels", NB, breaks={"test_shift_labels_shapes", "test_shift_labels_inputs"},
         explain="inputs keep the last column: a sequence of L ids gives L - 1 (input, target) pairs, "
                 "so inputs = ids[:, :-1] has the same shape as targets.")
def shift_labels_inputs_not_trimmed(ids, lengths):
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < np.asarray(lengths)[:, None] - 1).astype(float)
    return ids.copy(), ids[:, 1:], mask


@mistake("shift_labels", NB, breaks={"test_shift_labels_mask"},
         explain="the mask is one step too long (t < lengths[n], or t <= lengths[n] - 1): a sequence of "
                 "lengths[n] ids has lengths[n] - 1 real predictions, so mask[n, t] = 1 where "
                 "t < lengths[n] - 1; the extra step's target is padding.")
def shift_labels_mask_one_extra(ids, lengths):
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < np.asarray(lengths)[:, None]).astype(float)
    return ids[:, :-1], ids[:, 1:], mask


@mistake("shift_labels", NB, breaks={"test_shift_labels_mask"},
         explain="the mask is built from the ids (targets != 0), but the padding id 0 is also the end "
                 "boundary: that masks out the last real target, so the model never learns to stop; "
                 "build the mask from lengths instead.")
def shift_labels_mask_from_padding_id(ids, lengths):
    targets = ids[:, 1:]
    return ids[:, :-1], targets, (targets != 0).astype(float)


@mistake("shift_labels", NB, breaks={"test_shift_labels_shapes"},
         explain="the mask is an array of booleans: convert it to floats (1.0 and 0.0) with .astype(float), "
                 "since the loss multiplies by it.")
def shift_labels_mask_bool(ids, lengths):
    steps = np.arange(ids.shape[1] - 1)
    return ids[:, :-1], ids[:, 1:], steps[None, :] < np.asarray(lengths)[:, None] - 1


@mistake("shift_labels", NB, breaks={"test_shift_labels_pure"},
         explain="lengths is changed in place (lengths -= 1 writes into the caller's array): compute "
                 "lengths - 1 as a new array instead.")
def shift_labels_decrements_lengths(ids, lengths):
    lengths -= 1  # the number of predictions in each row
    steps = np.arange(ids.shape[1] - 1)
    mask = (steps[None, :] < lengths[:, None]).astype(float)
    return ids[:, :-1], ids[:, 1:], mask


# -- embedding_backward ----------------------------------------------------------
@mistake("embedding_backward", NB, breaks={"test_embedding_backward_values"},
         explain="dW[ids] += dout keeps only one contribution per repeated id: with fancy indexing NumPy "
                 "writes each row once, so a character that occurs several times in the batch gets the "
                 "gradient of one occurrence. Accumulate with np.add.at(dW, ids, dout), which adds every one.")
def embedding_backward_drops_repeated_ids(dout, ids, vocab_size):
    ids = np.asarray(ids)
    dW = np.zeros((vocab_size, dout.shape[-1]))
    dW[ids.ravel()] += dout.reshape(-1, dout.shape[-1])
    return dW


@mistake("embedding_backward", NB, breaks={"test_embedding_backward_shape", "test_embedding_backward_values"},
         explain="dW is transposed, (H, vocab_size): a gradient has the shape of what it is the gradient of, "
                 "and W is (vocab_size, H), one row per id.")
def embedding_backward_transposed(dout, ids, vocab_size):
    ids = np.asarray(ids)
    dW = np.zeros((dout.shape[-1], vocab_size))
    np.add.at(dW.T, ids.ravel(), dout.reshape(-1, dout.shape[-1]))
    return dW
