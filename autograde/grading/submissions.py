"""Step 1 of class grading: find the submissions and read each one as data.

A submission is nbgrader's ``submitted/<student>/<assignment>/`` folder. It is read once,
in the command's process, into ``{relative path: bytes}``: a grading task carries these
bytes to whichever worker grades it (workers share no filesystem with the command), and
the same bytes give the hashes that prove afterwards that grading never changed a
submitted file.

Only regular files are read. A symbolic link (dangling, or pointing anywhere outside the
submission), a folder named like a notebook, a file too big to be a notebook, and
Jupyter's checkpoint folders are left out, each with a note; nothing here can raise for
one hostile submission.
"""
import dataclasses
import fnmatch
import hashlib
import os
import pathlib
import stat

MAX_FILE_BYTES = 50 * 2**20   # a notebook of this course is well under 1 MB; this is a very generous bound
SKIPPED_FOLDERS = {".ipynb_checkpoints", "__pycache__"}


@dataclasses.dataclass
class Submission:
    """One student's submitted files, read as bytes."""
    student: str
    folder: pathlib.Path
    files: dict = dataclasses.field(default_factory=dict)   # {relative path (str): bytes}
    notes: list = dataclasses.field(default_factory=list)   # what was left out, and why

    def hashes(self):
        return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(self.files.items())}


def find_submissions(root, assignment, patterns=("*",)):
    """{student: submission folder} in nbgrader's submitted/<student>/<assignment>/ layout."""
    found = {}
    base = pathlib.Path(root, "submitted")
    for folder in sorted(base.glob(f"*/{assignment}")):
        student = folder.parent.name
        if student.startswith(".") or not any(fnmatch.fnmatch(student, p) for p in patterns):
            continue
        if folder.is_dir() and not folder.is_symlink():
            found[student] = folder
    return found


def read_submission(student, folder):
    """The regular files of a submission folder as a ``Submission``; never raises for its content."""
    submission = Submission(student, pathlib.Path(folder))
    for directory, subfolders, names in os.walk(folder, followlinks=False, onerror=lambda exc: submission.notes.append(
            f"a folder could not be read ({type(exc).__name__}); left out")):
        # folders named like notebooks and links to folders are noted below and never entered
        notebook_like = [d for d in subfolders if d.endswith(".ipynb") or os.path.islink(os.path.join(directory, d))]
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and d not in notebook_like)
        for name in sorted(names + notebook_like):
            path = pathlib.Path(directory, name)
            relative = str(path.relative_to(folder))
            note = _read_into(submission.files, path, relative)
            if note:
                submission.notes.append(note)
    return submission


def _read_into(files, path, relative):
    """Read one entry into ``files``; returns a note when it is left out."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"{relative} could not be read ({type(exc).__name__}); left out"
    if stat.S_ISLNK(info.st_mode):
        return f"{relative} is a symbolic link; left out (only regular files are graded)"
    if stat.S_ISDIR(info.st_mode):
        return f"{relative} is a folder, not a notebook; left out"
    if not stat.S_ISREG(info.st_mode):
        return f"{relative} is not a regular file; left out"
    if info.st_size > MAX_FILE_BYTES:
        return f"{relative} is {info.st_size / 2**20:.0f} MB, more than a notebook can be; left out"
    try:
        with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as handle:
            files[relative] = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return f"{relative} could not be read ({type(exc).__name__}); left out"
    return None


def unchanged(submission):
    """Whether the files of the submission folder still hash as they did when read."""
    again = read_submission(submission.student, submission.folder)
    return again.hashes() == submission.hashes()
