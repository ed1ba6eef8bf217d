"""Correct answers to 03_label_shift written differently from the source notebook."""
import numpy as np

NOTEBOOK = "03_label_shift"


def build_vocab__dict_fromkeys(names):
    chars = list(dict.fromkeys(["\n"] + sorted("".join(names))))  # dict keeps the first of each, in order
    char_to_id = dict(zip(chars, range(len(chars))))
    return chars, char_to_id


def build_vocab__sorted_with_boundary(names):
    # "\n" sorts before every printable character, so sorting it in puts it first
    chars = sorted(set("".join(names)) | {"\n"})
    return chars, {c: chars.index(c) for c in chars}


def encode__array(name, char_to_id):
    return np.array([0, *map(char_to_id.__getitem__, name), 0])


def one_hot__eye_indexing(ids, vocab_size):
    return np.eye(vocab_size)[ids]


def one_hot__put_along_axis(ids, vocab_size):
    ids = np.asarray(ids)
    out = np.zeros(ids.shape + (vocab_size,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def one_hot__loop(ids, vocab_size):
    ids = np.asarray(ids)
    out = np.zeros(ids.shape + (vocab_size,))
    for index in np.ndindex(ids.shape):
        out[index + (ids[index],)] = 1.0
    return out


def pad_batch__list_of_lists(encoded):
    width = max(len(seq) for seq in encoded)
    rows = [list(seq) + [0] * (width - len(seq)) for seq in encoded]
    return np.array(rows, dtype=int), np.array([len(seq) for seq in encoded])


def pad_batch__full_and_slicing(encoded):
    lengths = np.fromiter(map(len, encoded), dtype=np.int32)
    ids = np.full((len(encoded), lengths.max()), 0, dtype=np.int32)
    for row, seq in zip(ids, encoded):
        row[:len(seq)] = seq  # row is a view into ids
    return ids, lengths


def shift_labels__loop_mask(ids, lengths):
    n_rows, n_cols = ids.shape
    mask = np.zeros((n_rows, n_cols - 1))
    for n in range(n_rows):
        for t in range(n_cols - 1):
            if t < lengths[n] - 1:
                mask[n, t] = 1.0
    return ids[:, :-1], ids[:, 1:], mask


def shift_labels__views_and_slices(ids, lengths):
    inputs, targets = ids[:, :-1], ids[:, 1:]  # views: fine, as long as nothing writes into them
    mask = np.ones(inputs.shape)
    for n, length in enumerate(lengths):
        mask[n, length - 1:] = 0.0
    return inputs, targets, mask


def embedding_forward__one_hot_matmul(ids, W):
    ids = np.asarray(ids)
    return (ids[..., None] == np.arange(W.shape[0])).astype(float) @ W


def embedding_forward__take(ids, W):
    return np.take(W, ids, axis=0)


def embedding_backward__one_hot_matmul(dout, ids, vocab_size):
    ids = np.asarray(ids).reshape(-1)
    one_hot = (ids[:, None] == np.arange(vocab_size)).astype(float)      # (N*T, V)
    return one_hot.T @ np.reshape(dout, (ids.size, -1))                  # (V, H)


def embedding_backward__loop(dout, ids, vocab_size):
    ids = np.asarray(ids)
    dW = np.zeros((vocab_size, np.shape(dout)[-1]))
    for index in np.ndindex(ids.shape):
        dW[ids[index]] += dout[index]
    return dW


def embedding_backward__bincount(dout, ids, vocab_size):
    ids = np.asarray(ids).ravel()
    flat = np.reshape(dout, (ids.size, -1))
    return np.stack([np.bincount(ids, weights=flat[:, j], minlength=vocab_size) for j in range(flat.shape[1])],
                    axis=1)
