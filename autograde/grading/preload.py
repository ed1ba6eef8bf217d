"""What every grading process needs before its student, done once per worker process.

``autograde.grading.task`` names this module as the preload of the worker's forkserver
(``multiprocessing``'s ``set_forkserver_preload``): the forkserver imports it once, and every
grading process it forks starts with it done. Importing it imports nbgrader and the grading code
(``autograde.grading.child``), the executor the course's config names, the modules of the
course's hidden checks (``from autograde.content.checks import nb07``) with the mistake catalogue
they consult, and builds matplotlib's font list, which the grading processes copy into each
kernel's sandbox.
"""
import importlib
import pkgutil

import autograde.grading.child  # noqa: F401
from autograde.runtime.kernels.view import matplotlib_cache


def import_course_modules():
    names = ["autograde.runtime.judge.execute", "autograde.runtime.plugins.repair",
             "autograde.content.checks", "autograde.content.mistakes"]
    for package in ("autograde.content.checks", "autograde.content.mistakes"):
        names += [m.name for m in pkgutil.iter_modules(importlib.import_module(package).__path__, package + ".")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that does not import fails where it is used
            pass


import_course_modules()
matplotlib_cache()
