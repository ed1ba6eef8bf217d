"""Shared fixtures: the repository, and a scratch course that autogrades a whole corpus of
submissions (solution, blank, every catalogue mistake, every alternative) with real nbgrader."""
import concurrent.futures
import dataclasses
import os
import pathlib
import shutil

import pytest

from autograde import mistakes
from autograde.course import Course
from autograde.samples import replace_for
from autograde.notebooks import function_source
from tests.alternatives import all_alternatives

REPO = pathlib.Path(__file__).resolve().parents[1]
WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclasses.dataclass
class Planned:
    student: str
    notebooks: list          # the notebooks graded for this student
    replace: dict = None     # answer-cell overrides, as Course.write_submission takes them
    blank: object = False    # True, or the notebooks left as released
    mistake: object = None   # the catalogue entry injected, if any


def plan(course):
    """One submission per case. A mistake or alternative for function F of notebook K is graded in K
    and in the notebooks that run F (``Course.dependents``); the other notebooks of that submission
    are byte-identical to the solution submission's, which scores full marks."""
    names = course.notebook_names()
    cases = [Planned("solution", names), Planned("blank", names, blank=True)]
    for entry in mistakes.all_mistakes():
        cases.append(Planned(f"m{entry.notebook[:2]}-{entry.id}",
                             [entry.notebook] + course.dependents(entry.notebook, entry.function),
                             replace=replace_for(entry), mistake=entry))
    loads = course.loads()
    for name in names:  # a student who did only this notebook: what it loads is blank
        if loads[name]:
            cases.append(Planned(f"u{name[:2]}-only-this-notebook", [name], blank=[n for n in names if n != name]))
    for notebook, function, style, fn in all_alternatives():
        cases.append(Planned(f"a{notebook[:2]}-{function}-{style}", [notebook] + course.dependents(notebook, function),
                             replace={notebook: {function: function_source(fn, function)}}))
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
