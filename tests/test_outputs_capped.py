"""Outputs cannot bloat what grading writes, and a bloated file is still graded on its sources.

One scratch course with the first notebook, graded by stock ``nbgrader autograde`` with the
course's config, then by ``grade_class``. Its students:

* ``displays``: a correct answer cell that first displays a 100 MB image, 30 MB of HTML, a 20 MB
  bytes-valued MIME bundle, a 10 MB error message, an 8 MB widget state, a small display updated
  to 6 MB, then six 3 MB images, 24 MB together, past the notebook's cap
  (``autograde.runtime.kernels.limits.LimitedExecute``);
* ``attachment``: a correct notebook with a 160 MB image pasted into a markdown cell, and a
  stored 30 MB output (``autograde.runtime.plugins.repair.DropOversized``; grade-class reads the file without them);
* ``correct``: the points both must keep.
"""
import base64
import json
import os
import re

import pytest

from autograde.content import notebooks
from autograde.grade_class import GradingSettings, grade_class
from autograde.grading import submissions
from autograde.runtime.kernels.limits import DEFAULT_NOTEBOOK_BYTES
from tests.conftest import grades_submissions
from tests.test_grade_class_dask import first_notebook_course

MEMORY = 2 * 2**30
DISPLAYS = '''
import os
from IPython.display import HTML, Image, display
def attempt(what, action):
    try:
        action()
    except Exception as exc:
        print("DISPLAY", what, "failed:", type(exc).__name__)
attempt("image", lambda: display(Image(data=b"\\x89PNG" + os.urandom(100 * 2**20), format="png")))
attempt("html", lambda: display(HTML("<p>" + "x" * 30 * 2**20 + "</p>")))
attempt("bytes bundle", lambda: display({"application/x-blob": os.urandom(20 * 2**20), "text/plain": "blob"}, raw=True))
def error_message():
    try:
        raise ValueError("e" * 10 * 2**20)
    except ValueError:
        get_ipython().showtraceback()
attempt("error", error_message)
def widget():
    from comm import create_comm
    create_comm(target_name="jupyter.widget", data={"state": {"_model_name": "Blob", "_model_module": "blob",
                                                              "blob": "w" * 8 * 2**20}, "buffer_paths": []})
attempt("widget", widget)
attempt("update", lambda: display(HTML("small"), display_id=True).update(HTML("u" * 6 * 2**20)))
for _ in range(6):  # each under the cap of one output, together past the notebook's
    attempt("images", lambda: display(Image(data=b"\\x89PNG" + os.urandom(3 * 2**20), format="png")))
'''


def _write(course, first, function):
    solution = next(notebooks.without_markers(c.source) for c in notebooks.read(course.folder("source") / f"{first}.ipynb").cells
                    if notebooks.grade_id(c) == function)
    course.write_submission("correct")
    course.write_submission("displays", replace={first: {function: DISPLAYS + "\n" + solution}})
    path = course.write_submission("attachment") / f"{first}.ipynb"
    nb = json.loads(path.read_text())
    markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    markdown["attachments"] = {"screenshot.png": {"image/png": base64.b64encode(os.urandom(120 * 2**20)).decode()}}
    markdown["source"] = "![my screenshot](attachment:screenshot.png)\n" + "".join(markdown["source"])
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"text/html": "y" * 30 * 2**20}}]
    path.write_text(json.dumps(nb))
    return path.stat().st_size


def _graded(course, student, first):
    path = course.folder("autograded", student) / f"{first}.ipynb"
    return path.stat().st_size, notebooks.read(path)


def _lost(scores):
    return sorted(g for g, (score, most) in scores.items() if score < most)


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    course = first_notebook_course(tmp_path_factory.mktemp("outputs") / "course")
    first = course.notebook_names()[0]
    release_nb = notebooks.read(course.folder("release") / f"{first}.ipynb")
    function = next(notebooks.grade_id(c) for c in release_nb.cells if notebooks.is_answer(c))
    submitted_bytes = _write(course, first, function)
    course.autograde()
    stock = {s: (course.scores(s)[first], *_graded(course, s, first)) for s in ("correct", "displays", "attachment")}
    results = grade_class(course.root, "rnn", GradingSettings.from_config(course.root, jobs=2, memory_limit=MEMORY,
                                                                          quiet=True, report=False, restart=True))
    by_class = {s: (course.scores(s)[first], *_graded(course, s, first)) for s in ("correct", "displays", "attachment")}
    return {"course": course, "first": first, "function": function, "stock": stock, "class": by_class,
            "results": results, "submitted_bytes": submitted_bytes}


def _printed(nb):
    return "\n".join(json.dumps(o) for c in nb.cells for o in c.get("outputs", []))


@grades_submissions
@pytest.mark.cluster  # and grade-class, on a local Dask cluster
@pytest.mark.parametrize("how", ["stock", "class"])
def test_huge_displays_are_cut_and_correct_code_keeps_its_points(capped, how):
    scores, size, nb = capped[how]["displays"]
    assert _lost(capped[how]["correct"][0]) == [] and scores == capped[how]["correct"][0]
    assert size < DEFAULT_NOTEBOOK_BYTES + 2**20, f"the autograded notebook is {size / 2**20:.0f} MB"
    printed = _printed(nb)
    assert "DISPLAY" not in printed  # every display was made, then cut by the grader
    for what in (r"image/png, text/plain\) of 133.3 MB", r"text/html, text/plain\) of 30.0 MB",
                 r"application/x-blob, text/plain\) of 26.7 MB", r"an error \(ValueError\) of 20.\d MB",
                 "the state of a widget of 8.0 MB", r"text/html, text/plain\) of 6.0 MB"):
        assert re.search(f"{what}, more than the 5.0 MB the grader keeps of one output", printed), what
    assert "past the 20.0 MB the grader keeps of one notebook's outputs" in printed
    assert printed.count('"image/png"') >= 4  # the 3 MB images the notebook's cap leaves room for are kept
    assert "widgets" not in nb.metadata
    assert capped["function"] in nb.metadata["autograde"]["sandbox"]["output_cut"]


@grades_submissions
@pytest.mark.cluster  # and grade-class, on a local Dask cluster
@pytest.mark.parametrize("how", ["stock", "class"])
def test_a_notebook_with_a_huge_attachment_is_graded_on_its_sources(capped, how):
    scores, size, nb = capped[how]["attachment"]
    assert capped["submitted_bytes"] > 190 * 2**20
    assert _lost(scores) == [] and scores == capped[how]["correct"][0]
    assert size < 2**20
    note = nb.cells[0].source
    assert "graded on its cells' code and text" in note and "attachment `screenshot.png` of 160.0 MB" in note
    assert not any(c.get("attachments") for c in nb.cells)


@grades_submissions
@pytest.mark.cluster  # and grade-class, on a local Dask cluster
def test_the_class_report_lists_the_cuts(capped):
    results = capped["results"]
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(("attachment", "correct", "displays"), "graded")
    assert [f["rule"] for f in results["displays"].flags] == ["sandbox-output-cut"]
    assert any("graded on its cells' sources" in n and "screenshot.png" in n for n in results["attachment"].notes)
    assert not results["correct"].flags and not results["correct"].notes


def test_a_file_too_big_to_be_a_notebook_is_left_out_unread(tmp_path):
    folder = tmp_path / "submitted" / "huge" / "rnn"
    folder.mkdir(parents=True)
    with open(folder / "01_cell_forward.ipynb", "wb") as handle:
        handle.truncate(10 * 2**30)  # 10 GB, sparse: it takes no room on the disk
    (folder / "notes.txt").write_bytes(b"x" * (submissions.MAX_FILE_BYTES + 1))
    submission = submissions.read_submission("huge", folder)
    assert submission.files == {}
    assert submission.notes == [
        "01_cell_forward.ipynb is 10,240.0 MB, more than a file of the assignment can be (512.0 MB); left out unread",
        "notes.txt is 50.0 MB, more than a file of the assignment can be (50.0 MB); left out unread"]


def test_dropping_keeps_the_sources_and_what_fits():
    """Each part over the cap of one goes, then the largest of the rest until they fit the notebook's cap."""
    from autograde.runtime.plugins.repair import drop_oversized
    outputs = [{"output_type": "stream", "name": "stdout", "text": str(i) * (4 * 2**20 + i)} for i in range(6)]
    nb = {"metadata": {"kernelspec": {"name": "python3"}, "huge": "m" * 6 * 2**20},
          "cells": [{"cell_type": "markdown", "source": "s" * 7 * 2**20, "metadata": {},
                     "attachments": {"a.png": {"image/png": "a" * 6 * 2**20}, "b.png": {"image/png": "b"}}},
                    {"cell_type": "code", "source": "x = 1", "metadata": {"tags": []}, "outputs": outputs}]}
    notes = drop_oversized(nb, 5 * 2**20, 20 * 2**20)
    assert sorted(n.split(" of ")[0] for n in notes) == [
        "cell 1: an attachment `a.png`", "cell 2: a stored output", "cell 2: a stored output",
        "the notebook: a metadata entry `huge`"]
    assert "was dropped (more than 5.0 MB)" in notes[0]
    assert "was dropped (the notebook's attachments, outputs and metadata past 20.0 MB)" in notes[-1]
    assert nb["metadata"] == {"kernelspec": {"name": "python3"}} and list(nb["cells"][0]["attachments"]) == ["b.png"]
    assert [o["text"][0] for o in nb["cells"][1]["outputs"]] == ["0", "1", "2", "3"]  # the two largest went
    assert len(nb["cells"][0]["source"]) == 7 * 2**20  # sources are graded: never dropped
