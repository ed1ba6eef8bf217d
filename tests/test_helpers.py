"""The student helper module (source/rnn/rnn_helpers.py) and the names corpus."""
import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

from autograde import notebooks
from tests.conftest import REPO


@pytest.fixture(scope="module")
def helpers():
    spec = importlib.util.spec_from_file_location("rnn_helpers", REPO / "source" / "rnn" / "rnn_helpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    monkeypatch.setattr(helpers, "HERE", tmp_path)
    double = helpers.load_functions("09_demo", "double")
    assert double(3).item() == 6
    with pytest.raises(NameError, match="defines no function triple"):
        helpers.load_functions("09_demo", "triple")
    with pytest.raises(FileNotFoundError, match="08_missing.ipynb"):
        helpers.load_functions("08_missing", "double")


def test_load_functions_brings_the_release_functions_of_notebook_01(helpers, monkeypatch):
    monkeypatch.setattr(helpers, "HERE", REPO / "release" / "rnn")
    rnn_forward = helpers.load_functions("01_cell_forward", "rnn_forward")
    with pytest.raises(NotImplementedError):  # the blank release: defined, not yet written
        rnn_forward(np.zeros((1, 1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1))


def test_parts_written_waits_only_for_unwritten_earlier_parts(helpers, monkeypatch, capsys):
    monkeypatch.setattr(helpers, "HERE", REPO / "release" / "rnn")
    monkeypatch.setattr(helpers, "_LOADED", {})
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
