"""Shared fixtures: the repository, and a scratch course that autogrades a whole corpus of
submissions (solution, blank, every catalogue mistake, every alternative) with real nbgrader."""
import concurrent.futures
import dataclasses
import os
import pathlib

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
    blank: bool = False
    mistake: object = None   # the catalogue entry injected, if any


def plan(course):
    """One submission per case; a mistake or alternative in notebook K is graded in K and in the
    notebooks that load K's functions (the others are byte-identical to the solution submission)."""
    names = course.notebook_names()
    cases = [Planned("solution", names), Planned("blank", names, blank=True)]
    for entry in mistakes.all_mistakes():
        cases.append(Planned(f"m{entry.notebook[:2]}-{entry.id}", [entry.notebook] + course.dependents(entry.notebook),
                             replace=replace_for(entry), mistake=entry))
    for notebook, function, style, fn in all_alternatives():
        cases.append(Planned(f"a{notebook[:2]}-{function}-{style}", [notebook] + course.dependents(notebook),
                             replace={notebook: {function: function_source(fn, function)}}))
    return cases


def _grade_shard(repo, root, cases):
    course = Course.copy_of(repo, root)
    course.generate()
    for case in cases:
        course.write_submission(case.student, replace=case.replace, blank=case.blank)
        course.autograde(case.student, notebook=_glob(case.notebooks))
    return course, {case.student: course.scores(case.student, case.notebooks) for case in cases}


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
    cases = [case for case in plan(probe) if case.student in wanted]
    shards = [cases[i::WORKERS] for i in range(WORKERS)]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(_grade_shard, REPO, tmp_path_factory.mktemp(f"course{i}"), shard)
                   for i, shard in enumerate(shards) if shard]
        for future in futures:
            course, scores = future.result()
            for case in cases:
                if case.student in scores:
                    results[case.student] = (case, scores[case.student], course.folder("autograded", case.student))
    return results
