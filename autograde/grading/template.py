"""The scratch course every grading task starts from, and the course gradebook it must match.

The template is a copy of the course (``nbgrader_config.py``, ``source/``, and any Python
module beside the config, such as a late-penalty plugin) in which ``nbgrader
generate_assignment`` has made ``release/`` and a SQLite gradebook holding the assignment.
The assignment's due date is copied into it from the course gradebook, so nbgrader's
late-penalty step sees the same due date as a serial ``nbgrader autograde`` would; each
student's extension travels with that student's task. The template is sent to the workers
once, as a tar archive in memory (``pack``): workers need no shared filesystem. A generated
template is kept in a cache (``cache_folder``) under a hash of everything it is made from,
so grading again with unchanged sources does not generate it again.
"""
import contextlib
import hashlib
import io
import os
import pathlib
import shutil
import tarfile
import tempfile

import nbgrader
from nbgrader.api import Gradebook, MissingEntry

from autograde.grading.course import Course
from autograde.runtime.nbgrader_cli import stamp_in_process


class GradingError(RuntimeError):
    """The class cannot be graded at all (no submissions, no assignment, nbgrader fails to generate)."""


SCRATCH_DB = "\n# scratch copy for class grading: its own SQLite gradebook\nc.CourseDirectory.db_url = \"sqlite:///gradebook.db\"\n"


def definitions(db_url, assignment):
    """The graded cells of an assignment in a gradebook: {(notebook, grade id, max points)}, None if absent."""
    with Gradebook(db_url) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            return None
        return {(nb.name, cell.name, cell.max_score) for nb in found.notebooks for cell in nb.grade_cells}


def due_date(db_url, assignment):
    with Gradebook(db_url) as gb:
        try:
            return gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None


def extensions(db_url, assignment, students):
    """{student: extension in seconds} for the students who have one in the course gradebook."""
    found = {}
    with Gradebook(db_url) as gb:
        for student in students:
            try:
                extension = gb.find_submission(assignment, student).extension
            except MissingEntry:
                continue
            if extension:
                found[student] = extension.total_seconds()
    return found


def _generate(course_root, destination, assignment, db_url=None):
    """nbgrader generate_assignment in a scratch copy of the course (its own gradebook unless db_url)."""
    scratch = Course.copy_of(course_root, destination)
    for module in pathlib.Path(course_root).glob("*.py"):  # a late-penalty plugin, say: workers import it
        if module.name != "nbgrader_config.py":
            (scratch.root / module.name).write_bytes(module.read_bytes())
    with open(scratch.root / "nbgrader_config.py", "a") as config:
        config.write(SCRATCH_DB)
    stamp_in_process()  # the scratch gradebook is new: no `alembic heads` process (seconds)
    result = scratch.api(db_url).generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise GradingError(f"nbgrader generate_assignment failed in a scratch course:\n{result.get('log')}\n{result.get('error')}")
    return scratch


def cache_folder():
    """Where generated templates are kept: AUTOGRADE_TEMPLATE_CACHE ("off": nowhere), else
    $XDG_CACHE_HOME/autograde/templates (~/.cache/autograde/templates)."""
    chosen = os.environ.get("AUTOGRADE_TEMPLATE_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return pathlib.Path(chosen)
    return pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache", "autograde", "templates")


def source_key(root, assignment):
    """A hash of everything a generated template depends on: nbgrader's version, the course config,
    the modules beside it, and every file of source/<assignment>/."""
    digest = hashlib.sha256(f"nbgrader {nbgrader.__version__}\n{assignment}\n".encode())
    root = pathlib.Path(root)
    files = [root / "nbgrader_config.py", *sorted(root.glob("*.py"))]
    files += sorted(p for p in (root / "source" / assignment).rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and ".ipynb_checkpoints" not in p.parts)
    for path in files:
        digest.update(f"{path.relative_to(root)}\n".encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def _generated(course_root, destination, assignment):
    """``_generate``, or a copy of the same template generated earlier from identical sources
    (generating takes seconds per notebook, and a course is graded many times)."""
    cache = cache_folder()
    key = source_key(course_root, assignment) if cache else None
    if cache and (cache / key / "gradebook.db").exists():
        shutil.copytree(cache / key, destination)
        return Course(destination)
    template = _generate(course_root, destination, assignment)
    if cache:
        with contextlib.suppress(OSError):  # a cache that cannot be written is no cache
            cache.mkdir(parents=True, exist_ok=True)
            incoming = pathlib.Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
            shutil.copytree(template.root, incoming / "template")
            (incoming / "template").rename(cache / key)
            shutil.rmtree(incoming, ignore_errors=True)
    return template


def prepare_template(course, assignment, destination, db_url=None):
    """The template scratch course, checked against the course gradebook ``db_url``.

    A gradebook without the assignment (a new ``--db``, or one recreated empty) gets it, generated
    from the course's source exactly as ``nbgrader generate_assignment`` would."""
    db_url = db_url or course.db_url
    template = _generated(course.root, destination, assignment)
    wanted = definitions(template.db_url, assignment)
    found = definitions(db_url, assignment)
    if found is None:
        _generate(course.root, pathlib.Path(destination).with_name(pathlib.Path(destination).name + "-db"),
                  assignment, db_url=db_url)
        found = definitions(db_url, assignment)
    if found != wanted:
        raise GradingError(f"the gradebook's {assignment!r} differs from source/{assignment}/: "
                           f"run `nbgrader generate_assignment {assignment} --force` first")
    due = due_date(db_url, assignment)
    if due is not None:
        with Gradebook(template.db_url) as gb:
            gb.update_or_create_assignment(assignment, duedate=due)
    return template


def pack(template):
    """(tar archive of the template course as bytes, its sha256): what every worker unpacks once."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for path in sorted(template.root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.add(path, arcname=str(path.relative_to(template.root)), recursive=False)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def fingerprint(root, assignment):
    """A sha256 of what decides the grades: the course's nbgrader_config.py, its source and release
    folders of ``assignment``, and the grader's own code (``autograde``). Two runs with the same
    fingerprint grade a submission alike, so a run may keep what a stopped run of it graded."""
    root = pathlib.Path(root)
    package = pathlib.Path(__file__).resolve().parents[1]
    files = [root / "nbgrader_config.py"]
    for folder in (root / "source" / assignment, root / "release" / assignment):
        files += [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
