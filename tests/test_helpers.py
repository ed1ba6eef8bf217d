"""The student helper package (source/rnn/rnn_helpers/) and the names corpus."""
import ast
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from autograde.content import notebooks
from tests.conftest import REPO, fresh_helpers


@pytest.fixture(scope="module")
def helpers():
    return fresh_helpers()


def test_rel_error_names_both_shapes_when_they_differ(helpers):
    with pytest.raises(ValueError, match=r"a has shape \(3, 4\) but b has shape \(4, 3\)"):
        helpers.rel_error(np.zeros((3, 4)), np.zeros((4, 3)))
    assert helpers.rel_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert helpers.rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)


def test_numerical_gradient_of_a_known_function(helpers):
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = helpers.numerical_gradient(lambda: np.sum(x ** 3), x)
    assert np.allclose(grad, 3 * x ** 2, rtol=1e-8)
    df = np.array([1.0, -1.0])
    assert np.allclose(helpers.numerical_gradient(lambda: np.sin(x[0]), x, df)[0], np.cos(x[0]) * df)
    with pytest.raises(ValueError, match="pass df"):
        helpers.numerical_gradient(lambda: x * 2, x)
    with pytest.raises(TypeError, match="float64"):
        helpers.numerical_gradient(lambda: 0.0, np.array([1, 2]))


def test_load_functions_runs_answers_and_setup_but_not_tests(helpers, tmp_path, monkeypatch):
    cells = [notebooks.setup("setup", "import numpy as np\nSCALE = 2"),
             notebooks.answer("double", "def double(x):\n    return SCALE * np.asarray(x)"),
             notebooks.test("test_double", "raise RuntimeError('tests must not run')", points=1),
             notebooks.code("raise RuntimeError('demos must not run')")]
    notebooks.write(notebooks.new_notebook(cells), tmp_path / "09_demo.ipynb")
    monkeypatch.setattr(helpers.loading, "NOTEBOOK_FOLDER", tmp_path)
    double = helpers.load_functions("09_demo", "double")
    assert double(3).item() == 6
    with pytest.raises(NameError, match="defines no function triple"):
        helpers.load_functions("09_demo", "triple")


@pytest.mark.parametrize("content", [None, '{"cells": [{"cell_type": "co', "[1, 2]", '{"cells": 3}'],
                         ids=["missing", "cut-short", "a-list", "cells-not-a-list"])
def test_a_notebook_that_cannot_be_read_gives_functions_not_written(helpers, tmp_path, monkeypatch, capsys, content):
    """As if the notebook's functions were the release's stubs: they raise NotImplementedError under their
    own names (the checks then use the reference versions) and the note says why."""
    if content is not None:
        (tmp_path / "08_broken.ipynb").write_text(content)
    monkeypatch.setattr(helpers.loading, "NOTEBOOK_FOLDER", tmp_path)
    monkeypatch.setattr(helpers.loading, "_LOADED", {})
    double, triple = helpers.load_functions("08_broken", "double", "triple")
    assert (double.__name__, triple.__name__) == ("double", "triple")
    assert not helpers.is_written(double) and helpers.loading._LOADED == {"double": double, "triple": triple}
    with pytest.raises(NotImplementedError, match="double could not be loaded: 08_broken.ipynb") as raised:
        double(3)
    assert raised.traceback[-1].name == "double"
    note = capsys.readouterr().out
    assert "08_broken.ipynb" in note and "double, triple count as not written yet" in note
    assert ("is not in" if content is None else "cannot be read as a notebook") in note


def test_the_release_package_loads_from_the_notebook_folder_it_sits_in():
    """Imported from release/rnn, as a kernel started there imports it, the package reads names.txt and
    the earlier notebooks of that folder (its own files are one level below) and brings in the functions
    of the blank release."""
    release = REPO / "release" / "rnn"
    helpers = fresh_helpers(release)
    try:
        assert pathlib.Path(helpers.__file__) == release / "rnn_helpers" / "__init__.py"
        assert helpers.NOTEBOOK_FOLDER == release
        assert helpers.load_names() == (release / "names.txt").read_text().split()
        rnn_forward = helpers.load_functions("01_cell_forward", "rnn_forward")
        with pytest.raises(NotImplementedError):  # the blank release: defined, not yet written
            rnn_forward(np.zeros((1, 1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1))
    finally:
        fresh_helpers()   # the source's package again, for the setup cells that later tests load


def test_every_public_name_is_exported_and_indexed_under_its_module(helpers):
    """``from rnn_helpers import NAME`` works for every public name of every module of the package, the
    package's docstring lists each one under its module, every module has a docstring, and every name a
    notebook imports from the package is there."""
    index, module = {}, None
    for line in helpers.__doc__.splitlines():
        if re.match(r"\w+\.py\b", line):
            module = line.split(".py")[0]
        elif module and line.startswith("    "):
            index.setdefault(module, []).append(line.split()[0])
    folder = pathlib.Path(helpers.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    assert len(modules) > 10 and sorted(index) == modules
    for name in modules:
        tree = ast.parse((folder / f"{name}.py").read_text())
        assert ast.get_docstring(tree), f"{name}.py has no docstring"
        defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        defined += [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)]
        public = sorted(d for d in defined if not d.startswith("_"))
        assert sorted(index[name]) == public, f"the index of {name}.py"
        assert all(getattr(helpers, d) is getattr(getattr(helpers, name), d) for d in public), name
    for path in sorted((REPO / "source" / "rnn").glob("*.ipynb")):
        for cell in notebooks.read(path).cells:
            if cell.cell_type == "code" and "rnn_helpers" in cell.source:
                imported = [alias.name for node in ast.walk(ast.parse(cell.source))
                            if isinstance(node, ast.ImportFrom) and node.module == "rnn_helpers" for alias in node.names]
                assert imported and all(hasattr(helpers, n) for n in imported), (path.name, imported)


def test_parts_written_waits_only_for_unwritten_earlier_parts(helpers, monkeypatch, capsys):
    monkeypatch.setattr(helpers.loading, "NOTEBOOK_FOLDER", REPO / "release" / "rnn")
    monkeypatch.setattr(helpers.loading, "_LOADED", {})
    stub_softmax = helpers.load_functions("02_batched_softmax", "softmax")   # the release: not written

    def softmax(z):
        return np.exp(z) / np.exp(z).sum(-1, keepdims=True)

    def sample_written(params):
        return softmax(params)

    def sample_stub(params):
        raise NotImplementedError()

    assert helpers.is_written(softmax) and helpers.is_written(sample_written)
    assert not helpers.is_written(stub_softmax) and not helpers.is_written(sample_stub)
    # written, with an unwritten part: the visible checks wait, and say why
    assert helpers.parts_written(sample_written, stub_softmax) is False
    assert "uses your softmax, not written yet" in capsys.readouterr().out
    # the same part by default: everything load_functions brought in
    assert helpers.parts_written(sample_written) is False
    # not written itself: the checks run (and fail), as on the blank release
    assert helpers.parts_written(sample_stub, stub_softmax) is True
    # every part written: the checks run
    assert helpers.parts_written(sample_written, softmax) is True
    assert capsys.readouterr().out.count("NOTE") == 1


def test_unrolled_picture_draws(helpers):
    import matplotlib
    matplotlib.use("Agg")
    ax = helpers.draw_unrolled_rnn(3)
    assert len(ax.texts) > 9


def test_names_corpus_is_rebuilt_identically_and_copied_into_the_assignment(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    (tmp_path / "source" / "rnn").mkdir(parents=True)
    subprocess.run([sys.executable, str(data / "build_names.py")], check=True, capture_output=True)
    rebuilt = (data / "names.txt").read_text()
    assert rebuilt == (REPO / "data" / "names.txt").read_text() == (REPO / "source" / "rnn" / "names.txt").read_text()
    names = rebuilt.split()
    assert len(names) > 5000 and all(n.isalpha() and n.islower() for n in names) and len(set(names)) == len(names)


def test_load_functions_says_when_the_saved_notebook_changed_since_it_was_loaded(helpers, tmp_path, monkeypatch,
                                                                              capsys):
    cells = [notebooks.answer("double", "def double(x):\n    return 2 * x")]
    path = tmp_path / "09_demo.ipynb"
    notebooks.write(notebooks.new_notebook(cells), path)
    monkeypatch.setattr(helpers.loading, "NOTEBOOK_FOLDER", tmp_path)
    monkeypatch.setattr(helpers.loading, "_LOADED_CELLS", {})
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    helpers.load_functions("09_demo", "double")          # a first load: nothing to say
    helpers.load_functions("09_demo", "double")          # the same file again: nothing either
    assert capsys.readouterr() == ("", "")

    cells = [notebooks.answer("double", "def double(x):\n    return x + x")]
    notebooks.write(notebooks.new_notebook(cells), path)
    assert helpers.load_functions("09_demo", "double")(4) == 8
    out, err = capsys.readouterr()
    assert err == "" and "09_demo.ipynb has changed since this notebook last loaded it (double)" in out
    helpers.load_functions("09_demo", "double")          # loaded as it is now: quiet again
    assert capsys.readouterr() == ("", "")

    notebooks.write(notebooks.new_notebook([notebooks.answer("double", "def double(x):\n    return 2 * x")]), path)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")   # quiet while nbgrader grades
    helpers.load_functions("09_demo", "double")
    assert capsys.readouterr() == ("", "")


# -- 06: the recall task at growing lags (learning fails on long lags) -------------------------
def test_lag_task_batch_scores_only_the_last_step(helpers):
    inputs, targets, mask = helpers.lag_task_batch(np.random.default_rng(0), 50, lag=6, n_symbols=10)
    assert inputs.shape == targets.shape == mask.shape == (50, 7)
    assert set(inputs[:, 0]) == {0, 1} and inputs[:, 1:].min() >= 2 and inputs[:, 1:].max() <= 9
    assert np.array_equal(targets[:, -1], inputs[:, 0]) and not targets[:, :-1].any()
    assert np.array_equal(mask, np.eye(7)[[-1] * 50])


def test_train_on_lag_clips_with_the_given_function_and_steps_downhill(helpers):
    seen = []

    def fake_loss_and_gradients(params, inputs, targets, mask=None, h0=None):
        assert mask is not None and mask[:, :-1].sum() == 0
        return 1.0, {k: np.ones_like(v) for k, v in params.items()}, np.zeros((len(inputs), params["Whh"].shape[0]))

    def fake_clip(grads, max_norm):
        seen.append(max_norm)
        return {k: g * 0.5 for k, g in grads.items()}, 7.0

    radius = lambda W: float(np.abs(np.linalg.eigvals(W)).max())
    run = helpers.train_on_lag(fake_loss_and_gradients, fake_clip, radius, lag=3, steps=4, max_norm=2.0, hidden=3,
                               batch=5, n_test=20)
    assert seen == [2.0] * 4 and np.array_equal(run["norms"], [7.0] * 4) and np.array_equal(run["losses"], [1.0] * 4)
    assert 0.0 <= run["accuracy"] <= 1.0 and run["lag"] == 3 and run["max_norm"] == 2.0
    seen.clear()
    helpers.train_on_lag(fake_loss_and_gradients, fake_clip, radius, lag=3, steps=2, hidden=3, batch=5, n_test=20)
    assert seen == [np.inf, np.inf]   # no clipping: the norm is still measured, nothing is scaled


def test_a_short_lag_is_learned_with_the_reference_functions(helpers):
    from autograde.content.solution import clip_by_global_norm, loss_and_gradients, spectral_radius

    run = helpers.train_on_lag(loss_and_gradients, clip_by_global_norm, spectral_radius, lag=2, steps=60, max_norm=1.0)
    assert run["accuracy"] == 1.0 and np.isnan(run["losses"][-1])   # learned, and stopped early


def test_lag_experiments_wait_for_unwritten_functions(helpers, capsys):
    def stub(*args):
        raise NotImplementedError()

    def written(*args):
        return None

    assert helpers.lag_task_ready(written, written, written) is True
    assert helpers.lag_task_ready(stub, written, written) is False
    assert "your stub, not written yet" in capsys.readouterr().out


def test_lag_plots_and_slider_redraw_from_stored_runs(helpers, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    rng = np.random.default_rng(0)
    runs = [{"lag": lag, "max_norm": max_norm, "seed": seed, "lr": 1.0, "accuracy": float(rng.uniform(0.5, 1)),
             "losses": rng.uniform(0, 3, 20), "norms": rng.uniform(0.1, 5, 20)}
            for lag in (2, 8) for max_norm in (None, 1.0) for seed in (0, 1)]
    ax = helpers.plot_lag_accuracy(runs)
    assert len(ax.lines) >= 4
    helpers.plot_clipping_rescue(runs[0], runs[2])
    explorer = helpers.lag_explorer(runs, lag=2)
    first = (explorer.live.caption.value, explorer.live.image.value)
    explorer.slider.value = 8
    assert explorer.live.caption.value.startswith("lag 8") and explorer.live.image.value != first[1]
    assert helpers.lag_explorer([]) is None


# -- 08: the recall task learned by the LSTM, next to the vanilla RNN ----------------------------
def test_the_lstm_runs_in_the_students_loss_and_gradients_with_exact_gradients(helpers, capsys):
    from autograde.content.solution import loss_and_gradients, lstm_backward, lstm_forward

    rng = np.random.default_rng(0)
    params = helpers.nb08_lstm_recall._lstm_lag_params(rng, n_symbols=5, hidden=3, forget_bias=1.0)
    assert np.allclose(params["bh"][3:6], 1.0) and not params["bh"][:3].any() and not params["bh"][6:].any()
    inputs, targets, mask = helpers.lag_task_batch(rng, 4, lag=3, n_symbols=5)
    with_lstm = helpers.lstm_loss_and_gradients(loss_and_gradients, lstm_forward, lstm_backward)
    loss, grads, h_last = with_lstm(params, inputs, targets, mask)
    assert h_last.shape == (4, 3) and sorted(grads) == sorted(params)
    for name in params:
        numeric = helpers.numerical_gradient(lambda: with_lstm(params, inputs, targets, mask)[0], params[name])
        assert helpers.rel_error(grads[name], numeric) < 1e-6, name

    def self_contained(params, inputs, targets, mask=None, h0=None):   # calls no rnn_forward: cannot be reused
        return 0.0, {}, None

    assert helpers.lstm_loss_and_gradients(self_contained, lstm_forward, lstm_backward) is None
    assert "does not call rnn_backward and rnn_forward" in capsys.readouterr().out


def test_lstm_gradient_norms_from_lstm_backward_match_numerical_derivatives(helpers):
    from autograde.content.solution import lstm_backward, lstm_forward

    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 2))
    Wx, Wh, b = rng.standard_normal((3, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8)
    norms = helpers.lstm_hidden_gradient_norms(lstm_forward, lstm_backward, Wx, Wh, b, x, h0)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    c = cache[3]
    for t in range(3):   # dL/dh_t by running the steps after t from (h_t, c_t), L = sum of the last state
        h_t, c_t = h[:, t].copy(), c[:, t].copy()

        def loss():
            from autograde.content.solution import lstm_step_forward
            state, cell = h_t, c_t
            for s in range(t + 1, 4):
                state, cell, _ = lstm_step_forward(x[:, s], state, cell, Wx, Wh, b)
            return state.sum()

        assert np.isclose(norms[t], np.linalg.norm(helpers.numerical_gradient(loss, h_t)), rtol=1e-6), t
    assert np.isclose(norms[-1], 2.0)   # ||ones (2, 2)||


def test_a_short_lag_is_learned_by_the_reference_lstm_and_runs_are_tabled_and_plotted(helpers, capsys):
    import matplotlib
    matplotlib.use("Agg")
    from autograde.content.solution import clip_by_global_norm, loss_and_gradients, lstm_backward, lstm_forward

    [run] = helpers.lstm_lag_sweep(loss_and_gradients, clip_by_global_norm, lstm_forward, lstm_backward, [2],
                                   forget_biases=(3.0,), steps=100, hidden=8, batch=32, stop_below=0.05)
    assert run["accuracy"] == 1.0 and np.isnan(run["losses"][-1])   # learned, and stopped early
    assert run["model"] == "LSTM, forget bias 3" and np.all(np.isfinite(run["norms"][np.isfinite(run["losses"])]))
    vanilla = {"lag": 2, "max_norm": 1.0, "seed": 0, "lr": 1.0, "accuracy": 0.5, "losses": run["losses"],
               "norms": run["norms"]}
    table = helpers.lag_accuracy_table([vanilla, run]).splitlines()
    assert table[1].split() == ["vanilla", "RNN", "50%"] and table[2].endswith("100%")
    assert len(helpers.plot_lag_comparison([vanilla, run]).lines) >= 4

    def stub(*args):
        raise NotImplementedError()

    assert helpers.functions_ready("the LSTM curves", lstm_forward, stub) is False
    assert "skipped until you have written your stub" in capsys.readouterr().out
