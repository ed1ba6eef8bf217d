"""An nbgrader course directory, driven the way an instructor drives it.

``Course(root)`` wraps the nbgrader commands the instructor runs in the course
root (generate_assignment, autograde, generate_feedback), writes sample
submissions into nbgrader's ``submitted/`` layout, and reads scores back from
the gradebook. The demo and the test suite both use it, on the repository or on
a scratch copy of it.
"""
import concurrent.futures
import multiprocessing
import os
import pathlib
import re
import shutil
import subprocess
import sys

from nbgrader.api import Gradebook

from autograde.content import notebooks

ASSIGNMENT = "rnn"
COURSE_FILES = ["nbgrader_config.py", "source"]
LOADS = re.compile(r"""load_functions\(\s*["'](\w+)""")
LOAD_CALL = re.compile(r"""load_functions\(\s*["'](\w+)["']((?:\s*,\s*["']\w+["'])*)""")


class NbgraderFailed(RuntimeError):
    pass


class Course:
    def __init__(self, root):
        self.root = pathlib.Path(root).resolve()
        if not (self.root / "nbgrader_config.py").exists():
            raise FileNotFoundError(f"{self.root} is not a course root: it has no nbgrader_config.py")

    @classmethod
    def copy_of(cls, repo_root, destination):
        """A scratch course with the repository's config and sources, nothing else."""
        destination = pathlib.Path(destination)
        destination.mkdir(parents=True, exist_ok=True)
        for name in COURSE_FILES:
            src = pathlib.Path(repo_root) / name
            if src.is_dir():
                shutil.copytree(src, destination / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            else:
                shutil.copy(src, destination / name)
        return cls(destination)

    # -- paths ---------------------------------------------------------------
    def config(self):
        """The course's nbgrader_config.py, loaded the way nbgrader loads it."""
        from traitlets.config.loader import PyFileConfigLoader
        return PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()

    @property
    def db_url(self):
        """The gradebook the course's config names (a relative SQLite path is relative to the root)."""
        url = self.config().CourseDirectory.get("db_url") or "sqlite:///gradebook.db"
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
            return prefix + str(self.root / url[len(prefix):])
        return url

    def folder(self, kind, student=None):
        """source/rnn, release/rnn, or submitted|autograded|feedback/<student>/rnn."""
        if student is None:
            return self.root / kind / ASSIGNMENT
        return self.root / kind / student / ASSIGNMENT

    def notebook_names(self):
        return [p.stem for p in notebooks.notebook_paths(self.folder("source"))]

    def loads(self):
        """{notebook: {earlier notebook: {function names}}}, read from the setup cells'
        ``load_functions("NN_name", "f", "g")`` calls."""
        result = {}
        for path in notebooks.notebook_paths(self.folder("source")):
            setup = "\n".join(c.source for c in notebooks.read(path).cells if "setup" in c.metadata.get("tags", []))
            used = {}
            for loaded, names in LOAD_CALL.findall(setup):
                used.setdefault(loaded, set()).update(re.findall(r"\w+", names))
            result[path.stem] = used
        return result

    def calls(self, name):
        """{function: the functions of the same notebook its answer cell uses, directly or not}."""
        cells = {notebooks.grade_id(c): c.source for c in notebooks.read(self.folder("source") / f"{name}.ipynb").cells
                 if notebooks.is_answer(c)}
        return notebooks.transitive_calls({f: {g for g in cells if g != f and re.search(rf"\b{g}\(", src)}
                                           for f, src in cells.items()})

    def dependents(self, name, function=None):
        """The notebooks that run ``function`` from notebook ``name`` (any of its functions when
        None): those that load it, or load a function of ``name`` that calls it, and those that
        load from a notebook that does (loading a notebook runs its setup cells, which load in turn)."""
        loads, calls = self.loads(), self.calls(name)
        runs = lambda loaded: function is None or any(function == f or function in calls.get(f, ()) for f in loaded)
        found = {nb for nb, used in loads.items() if name in used and runs(used[name])}
        frontier = set(found)
        while frontier:
            frontier = {nb for nb, used in loads.items() if set(used) & frontier} - found
            found |= frontier
        return sorted(found)

    # -- nbgrader --------------------------------------------------------------
    def nbgrader(self, *args, timeout=None):
        """Run one nbgrader command in the course root; raise with its log if it fails."""
        env = dict(os.environ)
        # nbgrader calls the `alembic` executable of its own environment
        env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
        # nbgrader's own command line, without the grammar it never uses (autograde.runtime.nbgrader_cli)
        command = [sys.executable, "-m", "autograde.runtime.nbgrader_cli", *args]
        proc = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise NbgraderFailed(f"nbgrader {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def generate(self, in_process=False):
        """nbgrader generate_assignment: the command, or with ``in_process`` nbgrader's API in this process
        (which has nbgrader imported already: no second import of it)."""
        if not in_process:
            return self.nbgrader("generate_assignment", ASSIGNMENT, "--force")
        from autograde.runtime.nbgrader_cli import stamp_in_process
        stamp_in_process()  # a new gradebook is stamped without an `alembic heads` process
        result = self.api().generate_assignment(ASSIGNMENT, force=True, create=True)
        if not result.get("success"):
            raise NbgraderFailed(f"nbgrader generate_assignment failed:\n{result.get('log')}\n{result.get('error')}")
        return result

    def autograde(self, student="*", notebook="*"):
        return self.nbgrader("autograde", ASSIGNMENT, "--force", f"--student={student}", f"--notebook={notebook}")

    def feedback(self, student="*"):
        return self.nbgrader("generate_feedback", ASSIGNMENT, "--force", f"--student={student}")

    def api(self, db_url=None):
        """nbgrader's Python API for this course (``NbGraderAPI``, as formgrader uses it), in this process,
        on the gradebook ``db_url`` (default: the course's)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        config = self.config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.db_url = db_url or self.db_url  # a relative SQLite path: the course root's, not the cwd's
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def feedback_writer(self, nice=0):
        """A process that writes feedback, one student per ``submit(write_feedback, student)``, as
        `nbgrader generate_feedback --student=<student>` does, at CPU priority ``nice``.

        One process for the class: nbgrader is imported once (seconds of CPU), and the highlighted
        code that every student's pages share is rendered once (``autograde.runtime.plugins.feedback``). The process
        is forked from this one now, so make the writer before this process starts any thread."""
        writer = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                                        initializer=_open_api, initargs=(self.root, nice))
        writer.submit(os.getpid)  # the fork, now
        return writer

    # -- submissions -------------------------------------------------------------
    def write_submission(self, student, replace=None, blank=False):
        """submitted/<student>/rnn: the release with answers filled from the source.

        replace: {notebook: {grade_id: code}} overrides answer cells (a catalogue mistake,
        an alternative solution). blank: True for the untouched release, or the names of
        the notebooks to leave untouched (a student who skipped them).
        """
        release, target = self.folder("release"), self.folder("submitted", student)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(release, target)
        if blank is True:
            return target
        skipped = set(blank or ())
        replace = dict(replace or {})
        for path in notebooks.notebook_paths(target):
            if path.stem in skipped:
                continue
            source_nb = notebooks.read(self.folder("source") / path.name)
            nb = notebooks.fill(notebooks.read(path), source_nb, replace.pop(path.stem, None))
            notebooks.write(nb, path)
        if replace:
            raise KeyError(f"no notebook named {sorted(replace)}")
        return target

    # -- gradebook -----------------------------------------------------------------
    def scores(self, student, names=None):
        """{notebook: {grade_id: (score, max_score)}} for one student's autograded submission."""
        with Gradebook(self.db_url) as gb:
            result = {}
            for name in names or self.notebook_names():
                nb = gb.find_submission_notebook(name, ASSIGNMENT, student)
                result[name] = {g.name: (g.score, g.max_score) for g in nb.grades}
            return result


_api = None  # the feedback writer's nbgrader API (in that process)


def _open_api(root, nice):
    global _api
    os.nice(nice)
    _api = Course(root).api()


def write_feedback(student):
    """In a ``Course.feedback_writer`` process: one student's feedback pages; raise with nbgrader's log if it fails."""
    result = _api.generate_feedback(ASSIGNMENT, student, force=True)
    if not result.get("success"):
        raise NbgraderFailed(f"nbgrader generate_feedback for {student} failed:\n{result.get('log')}\n{result.get('error')}")
    return student
