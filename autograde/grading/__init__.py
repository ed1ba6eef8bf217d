"""Class grading: nbgrader's autograde for a whole class, on Dask.

The pipeline, one module per step:

1. ``submissions``: find ``submitted/<student>/<assignment>/`` and read each as bytes;
2. ``integrity``: flag code that tries to game the grader (never changes a score);
3. ``task`` + ``child``: grade one student, nbgrader with the course's config in a grading
   process on a worker (forked by the worker's forkserver, ``preload``), from a template
   course (``template``);
4. ``engine``: Dask distributed, a local cluster or an existing one, runs those tasks;
5. ``merge``: the command alone writes the course gradebook, one student per transaction;
6. ``outputs`` + ``report``: ``scores.csv``, ``results.json``, ``report.html``.

``cli`` ties them together as ``grade_class()`` and the ``grade-class`` command, under a
``settings.GradingSettings`` read from the course's ``nbgrader_config.py``; a student's result is
a ``result.StudentResult`` from the grading process to the class files.
"""
from autograde.grading.cli import Interrupted, grade_class, main
from autograde.grading.result import StudentResult
from autograde.grading.settings import GradingSettings
from autograde.grading.template import GradingError

__all__ = ["GradingError", "GradingSettings", "Interrupted", "StudentResult", "grade_class", "main"]
