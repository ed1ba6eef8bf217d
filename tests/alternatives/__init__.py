"""Correct implementations in other styles than the source notebooks' (loops, einsum, ...).

Each module ``nbXX.py`` sets ``NOTEBOOK`` and defines functions named
``<graded function>__<style>``; the grading tests paste each one into the released
notebook as a submission and require full marks.
"""
import importlib
import pkgutil


def all_alternatives():
    """[(notebook, graded function, style, function)] from every module of this package."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for attr, fn in vars(module).items():
            if "__" in attr.strip("_") and callable(fn) and fn.__module__ == module.__name__:
                function, style = attr.split("__", 1)
                found.append((module.NOTEBOOK, function, style, fn))
    return found
