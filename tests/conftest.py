"""Shared fixtures: the repository, and a scratch course that autogrades a whole corpus of
submissions (solution, blank, every catalogue mistake, every alternative) with real nbgrader."""
import concurrent.futures
import dataclasses
import importlib
import itertools
import os
import pathlib
import re
import shutil
import sys

import pytest

from autograde.content import mistakes, notebooks
from autograde.grading.course import Course
from autograde.content.notebooks import function_source
from autograde.grading.samples import replace_for
from tests.alternatives import all_alternatives
from tests.styles import SELF_CONTAINED, STYLES, noisy

REPO = pathlib.Path(__file__).resolve().parents[1]
WORKERS = max(1, min(4, os.cpu_count() or 1))


def fresh_helpers(folder=REPO / "source" / "rnn"):
    """The students' helper package ``rnn_helpers`` of a notebook folder, imported afresh as a new kernel
    imports it (it keeps state: what load_functions brought in), without writing bytecode beside it."""
    for name in [n for n in sys.modules if n == "rnn_helpers" or n.startswith("rnn_helpers.")]:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return importlib.import_module("rnn_helpers")
    finally:
        sys.dont_write_bytecode = writes_bytecode
        sys.path.remove(str(folder))


@dataclasses.dataclass
class Planned:
    student: str
    notebooks: list          # the notebooks graded for this student
    replace: dict = None     # answer-cell overrides, as Course.write_submission takes them
    blank: object = False    # True, or the notebooks left as released
    mistakes: tuple = ()     # the catalogue entries injected, at most one per function
    style: str = "calls-parts"  # how the student's other functions are written (tests/styles.py)
    alternatives: tuple = ()  # the graded functions answered by an alternative correct style
    unreadable: tuple = ()   # (notebook, "invalid" | "missing"): its file cut short, or absent


def grades_submissions(test):
    """Mark a test that grades submissions with nbgrader, its kernels in the bubblewrap sandbox: it is
    ``slow`` and needs the ``sandbox`` (pytest markers, in pyproject.toml)."""
    return pytest.mark.slow(pytest.mark.sandbox(test))


def wait_until_serving(url, process, log, what, seconds=90):
    """Return once ``url`` answers; raise with the end of ``log`` if ``process`` (``what``) ends first or
    ``seconds`` pass."""
    import time
    import urllib.request
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{what} did not start:\n" + pathlib.Path(log).read_text()[-3000:])
            time.sleep(0.5)


def first_notebook_course(destination):
    """A copy of the course with only its first notebook, its release generated: (course, notebook name)."""
    course = Course.copy_of(REPO, destination)
    first = course.notebook_names()[0]
    for path in course.folder("source").glob("*.ipynb"):
        if path.stem != first:
            path.unlink()
    course.generate()
    return course, first


def graded_functions(course):
    """{graded function: (notebook, answer cell source with markers)} of every source notebook."""
    found = {}
    for name in course.notebook_names():
        for cell in notebooks.read(course.folder("source") / f"{name}.ipynb").cells:
            if notebooks.is_answer(cell):
                found[notebooks.grade_id(cell)] = (name, cell.source)
    return found


def function_parts(course):
    """{graded function: the graded functions its solution runs, directly or not, in its own
    notebook or loaded from earlier ones}."""
    answers, loads = graded_functions(course), course.loads()
    direct = {}
    for function, (name, source) in answers.items():
        reachable = {g for g, (other, _) in answers.items() if other == name}
        reachable |= {g for used in loads[name].values() for g in used}
        direct[function] = {g for g in reachable - {function} if re.search(rf"\b{g}\(", source)}
    return notebooks.transitive_calls(direct)


def mistake_rounds(course):
    """The catalogue packed into submissions: each round holds at most one entry per function, and
    never an entry of a function together with one of a function that runs it, so that a leak from a
    wrong part into a correct caller cannot hide behind the caller's own expected loss. By the grading
    rule, a round must lose exactly the union of its entries' cells."""
    parts, names = function_parts(course), set(course.notebook_names())
    remaining = {}
    for entry in mistakes.all_mistakes():
        if entry.notebook in names:
            remaining.setdefault(entry.function, []).append(entry)
    rounds = []
    while any(remaining.values()):
        chosen = {}
        for function in sorted(remaining, key=lambda f: -len(remaining[f])):
            if remaining[function] and all(function not in parts[g] and g not in parts[function] for g in chosen):
                chosen[function] = remaining[function].pop(0)
        rounds.append(tuple(chosen.values()))
    return rounds


def style_answers(course, style):
    """{notebook: {function: code}}: every answer written in ``style`` (empty for the solutions)."""
    answers = graded_functions(course)
    if style == "calls-parts":
        return {}
    if style == "self-contained":
        chosen = {f: function_source(fn, f) for f, fn in SELF_CONTAINED.items() if f in answers}
    elif style == "noisy":
        chosen = {f: noisy(source, f) for f, (_, source) in answers.items()}
    else:
        raise ValueError(style)
    by_notebook = {}
    for function, code in chosen.items():
        by_notebook.setdefault(answers[function][0], {})[function] = code
    return by_notebook


def _merge(*replacements):
    merged = {}
    for replace in replacements:
        for name, cells in replace.items():
            merged.setdefault(name, {}).update(cells)
    return merged


def _notebooks_running(course, pairs):
    """The notebooks where the given (notebook, function) pairs are written or run, in order."""
    found = set()
    for name, function in pairs:
        found |= {name, *course.dependents(name, function)}
    return sorted(found)


def plan(course):
    """The submissions the grading tests autograde: solution, blank, each style of correct answers,
    the catalogue in rounds (in each style of the other functions), a student who did only one
    notebook, and the alternative correct answers (at most one per function a submission)."""
    names = course.notebook_names()
    cases = [Planned("solution", names), Planned("blank", names, blank=True)]
    for style in ("self-contained", "noisy"):
        cases.append(Planned(f"correct-{style}", names, replace=style_answers(course, style), style=style))
    for style in STYLES:
        base = style_answers(course, style)
        for i, entries in enumerate(mistake_rounds(course)):
            injected = _merge(*[replace_for(entry) for entry in entries])
            cases.append(Planned(f"m{i:02d}-{style}", _notebooks_running(course, [(e.notebook, e.function) for e in entries]),
                                 replace=_merge(base, injected), mistakes=entries, style=style))
    loads = course.loads()
    for name in names:  # a student who did only this notebook: what it loads is blank
        if loads[name]:
            cases.append(Planned(f"u{name[:2]}-only-this-notebook", [name], blank=[n for n in names if n != name]))
    broken = names[2]  # 03: its functions are loaded by more later notebooks than any other's
    for how in ("invalid", "missing"):  # a notebook that cannot be read: graded where its functions are loaded
        cases.append(Planned(f"r{broken[:2]}-{how}", course.dependents(broken), unreadable=(broken, how)))
    pending = {}
    for notebook, function, style, fn in all_alternatives():
        if notebook in names:
            pending.setdefault(function, []).append((notebook, style, fn))
    for i in itertools.count():
        chosen = {f: options.pop(0) for f, options in pending.items() if options}
        if not chosen:
            break
        replace = _merge(*[{nb: {f: function_source(fn, f)}} for f, (nb, _, fn) in chosen.items()])
        cases.append(Planned(f"a{i:02d}-alternatives", _notebooks_running(course, [(nb, f) for f, (nb, _, _) in chosen.items()]),
                             replace=replace, alternatives=tuple(f"{f}__{style}" for f, (_, style, _) in chosen.items())))
    return cases


BATCH = 8  # students per `nbgrader autograde` call: one start-up cost for several submissions


def _batches(cases):
    """Cases grouped by the notebooks they grade, at most BATCH a group, each with a label."""
    groups = {}
    for case in cases:
        groups.setdefault(tuple(case.notebooks), []).append(case)
    chunks = [members[i:i + BATCH] for members in groups.values() for i in range(0, len(members), BATCH)]
    return [(f"b{i:03d}", chunk) for i, chunk in enumerate(chunks)]


def _grade_shard(repo, root, batches):
    course = Course.copy_of(repo, root)
    course.generate()
    results = {}
    for label, batch in batches:
        for case in batch:
            student = f"{label}-{case.student}"
            submitted = course.write_submission(student, replace=case.replace, blank=case.blank)
            if case.unreadable:
                path = submitted / f"{case.unreadable[0]}.ipynb"
                if case.unreadable[1] == "missing":
                    path.unlink()
                else:  # a save cut short: the first half of the file
                    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
            # nbgrader runs each notebook in autograded/, where a full autograde has already written the
            # earlier notebooks that load_functions reads; grading a subset, put the others there as submitted.
            autograded = course.folder("autograded", student)
            autograded.mkdir(parents=True, exist_ok=True)
            for path in submitted.glob("*.ipynb"):
                if path.stem not in case.notebooks:
                    shutil.copy(path, autograded / path.name)
        course.autograde(f"{label}-*", notebook=_glob(batch[0].notebooks))
        for case in batch:
            student = f"{label}-{case.student}"
            results[case.student] = (case, course.scores(student, case.notebooks), course.folder("autograded", student))
    return results


def _glob(names):
    """An fnmatch pattern matching exactly these notebooks (they are named NN_...)."""
    if len(names) == 1:
        return names[0]
    prefixes = sorted({n[:2] for n in names})
    assert all(p[0] == "0" for p in prefixes), prefixes
    return "0[" + "".join(p[1] for p in prefixes) + "]_*"


def _selected_students(session):
    """The students that the selected tests of test_grading.py look at (all by default)."""
    wanted = set()
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "case" in params:
            wanted.add(params["case"].student)
        elif "graded" in getattr(item, "fixturenames", ()):
            wanted |= set(getattr(item.function, "students", ("solution", "blank")))
    return wanted


@pytest.fixture(scope="session")
def graded(request, tmp_path_factory):
    """Autograde the planned submissions that the selected tests need (``pytest -k 02_`` grades
    only notebook 02's cases); returns {student: (Planned, scores, autograded folder)}."""
    probe = Course(REPO)
    wanted = _selected_students(request.session)
    batches = _batches([case for case in plan(probe) if case.student in wanted])
    shards = [[] for _ in range(WORKERS)]
    for batch in sorted(batches, key=lambda b: -len(b[1]) * len(b[1][0].notebooks)):
        min(shards, key=lambda shard: sum(len(b) * len(b[0].notebooks) for _, b in shard)).append(batch)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(_grade_shard, REPO, tmp_path_factory.mktemp(f"course{i}"), shard)
                   for i, shard in enumerate(shards) if shard]
        for future in futures:
            results.update(future.result())
    return results
