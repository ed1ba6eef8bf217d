"""The mistake catalogue: buggy variants of graded functions, each with a note for the student.

An entry is an ordinary function decorated with ``@mistake``. It has the
signature of the graded function it imitates and reproduces one bug that
students really make. The catalogue serves two jobs:

* diagnosis: when a hidden check fails, the check runs every entry for that
  function on the same inputs; an entry whose output matches the student's
  names the mistake in the feedback (``Mistake.explain``), without ever
  printing reference values;
* proof: the test suite injects each entry into the released notebook as a
  submission, autogrades it with nbgrader and asserts that exactly the grade
  cells listed in ``Mistake.breaks`` lose their points.

Entries live in one module per notebook (``nb01.py`` ...); every module in
this package is loaded on first use, so adding a file is all it takes.
"""
import dataclasses
import importlib
import pkgutil

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class Mistake:
    id: str            # the entry's own function name, unique in the catalogue
    function: str      # the graded function it imitates
    notebook: str      # e.g. "01_cell_forward"
    explain: str       # one line for the student: what went wrong and why
    breaks: frozenset  # grade ids of the checks this mistake must fail
    impl: object       # the buggy function itself

    def __call__(self, *args, **kwargs):
        return self.impl(*args, **kwargs)

    def source(self):
        """The entry's code renamed to the graded function, ready to paste into an answer cell."""
        # imported here: nbformat takes seconds to import, and every hidden test imports this package
        from autograde.content.notebooks import function_source
        return function_source(self.impl, self.function)


def mistake(function, notebook, explain, breaks):
    """Register the decorated function as a catalogue entry for ``function``."""
    def register(impl):
        entry = Mistake(impl.__name__, function, notebook, explain, frozenset(breaks), impl)
        if entry.id in _REGISTRY:
            raise ValueError(f"duplicate catalogue entry {entry.id}")
        _REGISTRY[entry.id] = entry
        return impl
    return register


def _load_all():
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def all_mistakes():
    """Every entry, in a stable order (notebook, then definition order)."""
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda m: m.notebook)


def for_function(function):
    """The entries that imitate ``function``."""
    return [m for m in all_mistakes() if m.function == function]


def get(mistake_id):
    _load_all()
    return _REGISTRY[mistake_id]
