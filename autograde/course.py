"""An nbgrader course directory, driven the way an instructor drives it.

``Course(root)`` wraps the nbgrader commands the instructor runs in the course
root (generate_assignment, autograde, generate_feedback), writes sample
submissions into nbgrader's ``submitted/`` layout, and reads scores back from
the gradebook. The demo and the test suite both use it, on the repository or on
a scratch copy of it.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

from nbgrader.api import Gradebook

from autograde import notebooks

ASSIGNMENT = "rnn"
COURSE_FILES = ["nbgrader_config.py", "source"]
LOADS = re.compile(r"""load_functions\(\s*["'](\w+)""")


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
    @property
    def db_url(self):
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def folder(self, kind, student=None):
        """source/rnn, release/rnn, or submitted|autograded|feedback/<student>/rnn."""
        if student is None:
            return self.root / kind / ASSIGNMENT
        return self.root / kind / student / ASSIGNMENT

    def notebook_names(self):
        return [p.stem for p in notebooks.notebook_paths(self.folder("source"))]

    def dependents(self, name):
        """The notebooks that load functions from ``name``, directly or through another notebook."""
        loads = {}
        for path in notebooks.notebook_paths(self.folder("source")):
            setup = "\n".join(c.source for c in notebooks.read(path).cells if "setup" in c.metadata.get("tags", []))
            loads[path.stem] = set(LOADS.findall(setup))
        found, frontier = set(), {name}
        while frontier:
            frontier = {nb for nb, used in loads.items() if used & frontier} - found
            found |= frontier
        return sorted(found)

    # -- nbgrader --------------------------------------------------------------
    def nbgrader(self, *args, timeout=None):
        """Run one nbgrader command in the course root; raise with its log if it fails."""
        env = dict(os.environ)
        # nbgrader calls the `alembic` executable of its own environment
        env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise NbgraderFailed(f"nbgrader {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def generate(self):
        return self.nbgrader("generate_assignment", ASSIGNMENT, "--force")

    def autograde(self, student="*", notebook="*"):
        return self.nbgrader("autograde", ASSIGNMENT, "--force", f"--student={student}", f"--notebook={notebook}")

    def feedback(self, student="*"):
        return self.nbgrader("generate_feedback", ASSIGNMENT, "--force", f"--student={student}")

    # -- submissions -------------------------------------------------------------
    def write_submission(self, student, replace=None, blank=False):
        """submitted/<student>/rnn: the release with answers filled from the source.

        replace: {notebook: {grade_id: code}} overrides answer cells (a catalogue mistake,
        an alternative solution). blank: the untouched release.
        """
        release, target = self.folder("release"), self.folder("submitted", student)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(release, target)
        if blank:
            return target
        replace = dict(replace or {})
        for path in notebooks.notebook_paths(target):
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
