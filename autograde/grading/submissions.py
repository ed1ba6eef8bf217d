"""Step 1 of class grading: find the submissions and read each one as data.

A submission is nbgrader's ``submitted/<student>/<assignment>/`` folder. It is read once,
in the command's process, into ``{relative path: bytes}``: a grading task carries these
bytes to whichever worker grades it (workers share no filesystem with the command), and
the same bytes give the hashes that prove afterwards that grading never changed a
submitted file.

Only regular files are read. A symbolic link (dangling, or pointing anywhere outside the
submission), a folder named like a notebook, a file too big to be a notebook, and
Jupyter's checkpoint folders are left out, each with a note; nothing here can raise for
one hostile submission. A notebook is graded on its cells' sources: one over
``MAX_FILE_BYTES`` (a huge image pasted into it) is read without the attachments and
outputs that make it so (``autograde.runtime.plugins.repair.drop_oversized``, with a note in it) and graded;
only one over ``MAX_NOTEBOOK_BYTES`` is left out unread.
"""
import dataclasses
import fnmatch
import hashlib
import json
import os
import pathlib
import stat

from autograde.runtime.plugins.repair import drop_oversized, size_note
from autograde.runtime.kernels.limits import megabytes

MAX_FILE_BYTES = 50 * 2**20   # a notebook of this course is well under 1 MB; this is a very generous bound
MAX_NOTEBOOK_BYTES = 512 * 2**20  # a notebook up to this size is read without its oversized parts (parsing it
                                  # takes about three times as much memory); a bigger file is never opened
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
    oversized = info.st_size > MAX_FILE_BYTES
    largest = MAX_NOTEBOOK_BYTES if relative.endswith(".ipynb") else MAX_FILE_BYTES
    if info.st_size > largest:
        return (f"{relative} is {megabytes(info.st_size)}, more than a file of the assignment can be "
                f"({megabytes(largest)}); left out unread")
    try:
        with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as handle:
            data = handle.read((MAX_NOTEBOOK_BYTES if oversized else MAX_FILE_BYTES) + 1)
    except OSError as exc:
        return f"{relative} could not be read ({type(exc).__name__}); left out"
    if not oversized:
        files[relative] = data
        return None
    data, note = _sources_only(data, relative)
    if data is not None:
        files[relative] = data
    return note


def _sources_only(data, relative):
    """(the notebook ``data`` without its oversized attachments, outputs and metadata, or None; a note)."""
    size = megabytes(len(data))
    try:
        nb = json.loads(data)
        notes = drop_oversized(nb)
        if notes:
            nb["cells"].insert(0, size_note(notes, nb))
        data = json.dumps(nb, indent=1, ensure_ascii=False).encode()
    except Exception as exc:  # noqa: BLE001 - not JSON, not a notebook, nested past the parser
        return None, f"{relative} is {size} and could not be read as a notebook ({type(exc).__name__}); left out"
    if len(data) > MAX_FILE_BYTES:
        return None, f"{relative} is {size}, {megabytes(len(data))} without its attachments and outputs; left out"
    return data, (f"{relative} is {size}: graded on its cells' sources, without what made it so big "
                  f"({'; '.join(notes) or 'nothing dropped'})")


def unchanged(submission):
    """Whether the files of the submission folder still hash as they did when read."""
    again = read_submission(submission.student, submission.folder)
    return again.hashes() == submission.hashes()
