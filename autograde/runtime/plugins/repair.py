"""A sanitizing step of autograding: a slip in a submission's cell metadata costs only what it touches.

Students edit notebooks in ways that break nbgrader's metadata without meaning to: they
duplicate a test cell (copy and paste), rename a cell's grade id, or tick "graded" on an
answer cell in the Create Assignment toolbar. Stock nbgrader then refuses the whole
notebook (a checksum that changed, metadata that fails validation, a grade cell missing from
the gradebook) and the student gets nothing for it.

``RestoreCellMetadata`` runs first among nbgrader's sanitize steps and makes every cell's
nbgrader metadata agree with the released assignment, as recorded in the gradebook:

* a cell whose grade id the assignment knows gets the assignment's flags back (grade,
  solution, locked, task, points);
* a second cell with the same grade id, and a cell whose grade id the assignment does not
  know, become ordinary cells (their code still runs, but is not graded);
* nbgrader's ``OverwriteCells.add_missing_cells`` (set in ``nbgrader_config.py``) then puts
  back a test cell the student renamed or deleted, with the released source, so it is graded
  like everyone's.

Each change is logged and listed in a note at the top of the autograded notebook, so the
instructor (formgrader) and the student (feedback) see what was graded and why. The
submitted file itself is never modified: nbgrader sanitizes a copy.

``RefuseLinks`` grades a notebook submitted as a symbolic link as an empty one (nbgrader would read
what it points to: the course's source notebook, say).

``DropOversized`` runs before ``RestoreCellMetadata``: a notebook is graded on its cells' sources, so an image
attachment, a stored output or a metadata entry too big to belong in a notebook (a 160 MB
screenshot pasted into a markdown cell) is dropped, with a note, and the notebook is graded
as usual instead of bloating the autograded copy and the feedback page.

``CheckCellMetadata`` is nbgrader's check of the metadata (run before and after grading),
with the same verdicts, its schema checked once (see its docstring).
"""
import os
import pathlib
import stat
import traceback

import jsonschema
from nbformat.v4 import new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata as NbgraderCheckCellMetadata
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from autograde.runtime.kernels.limits import DEFAULT_NOTEBOOK_BYTES, DEFAULT_OUTPUT_BYTES, json_bytes, megabytes

NOTE_TAG = "autograde-metadata-note"
SIZE_NOTE_TAG = "autograde-size-note"


def drop_oversized(nb, item_limit=DEFAULT_OUTPUT_BYTES, notebook_limit=DEFAULT_NOTEBOOK_BYTES):
    """Drop from ``nb`` (a notebook as a dict) every attachment, stored output and metadata entry, of a cell
    or of the notebook, over ``item_limit`` bytes, then the largest of them until they total at most
    ``notebook_limit``; returns a note for each (the cells' sources, which are graded, are kept whole).
    ``size_note(notes, nb)`` is the note cell that lists them."""
    items = []  # (bytes, where, what, remove): everything in the notebook but its cells' sources
    for container, where in [(nb, "the notebook")] + [(c, f"cell {n}") for n, c in enumerate(nb.get("cells", []), 1)
                                                       if isinstance(c, dict)]:
        for kind, what in (("attachments", "an attachment"), ("metadata", "a metadata entry")):
            found = container.get(kind)
            for key in list(found) if isinstance(found, dict) else []:
                items.append((json_bytes(found[key]), where, f"{what} `{str(key)[:80]}`", (found, key)))
        outputs = container.get("outputs") if container is not nb else None
        for i, output in enumerate(outputs if isinstance(outputs, list) else []):
            items.append((json_bytes(output), where, "a stored output", (outputs, i)))
    items.sort(key=lambda item: -item[0])
    total, dropped, notes = sum(item[0] for item in items), [], []
    for size, where, what, place in items:
        if size <= item_limit and total <= notebook_limit:
            break
        dropped.append(place)
        total -= size
        cap = (f"more than {megabytes(item_limit)}" if size > item_limit
               else f"the notebook's attachments, outputs and metadata past {megabytes(notebook_limit)}")
        notes.append(f"{where}: {what} of {megabytes(size)} was dropped ({cap})")
    for container, key in sorted((p for p in dropped if isinstance(p[0], list)), key=lambda p: -p[1]):
        del container[key]  # outputs last to first, so that the indices hold
    for container, key in (p for p in dropped if isinstance(p[0], dict)):
        del container[key]
    return notes


class RefuseLinks(NbGraderPreprocessor):
    """A submitted notebook that is a symbolic link (or lies in a linked folder) is graded as empty.

    nbgrader reads a submission's notebooks by path, following links: a link to the course's source
    notebook would be graded as the instructor's solution. This step, first among the sanitize steps,
    empties every cell of such a notebook (nbgrader then puts the released test cells back, so it scores
    what a blank one scores) and says why in a note at its top."""

    def preprocess(self, nb, resources):
        meta = resources.get("metadata", {})
        path = pathlib.Path(meta.get("path", "."), meta.get("name", "") + ".ipynb")
        if not _linked(path):
            return nb, resources
        for cell in nb.cells:
            cell.source = ""
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        note = new_markdown_cell("**Autograding note:** this notebook was submitted as a symbolic link (or inside "
                                 "a linked folder). Only a notebook's own file is graded: it was graded as empty.")
        note.metadata["tags"] = ["autograde-link-note"]
        if nb.get("nbformat_minor", 5) < 5:  # cell ids came with nbformat 4.5
            note.pop("id", None)
        nb.cells.insert(0, note)
        self.log.warning("%s is a symbolic link: graded as empty", path)
        return nb, resources


def _linked(path):
    """Whether the notebook at ``path`` (``submitted/<student>/<assignment>/<name>.ipynb``), its assignment
    folder or its student folder is a symbolic link, or the notebook not a regular file."""
    path = pathlib.Path(os.path.abspath(path))
    if any(part.is_symlink() for part in (path, path.parent, path.parent.parent)):
        return True
    try:
        return not stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


class RestoreCellMetadata(NbGraderPreprocessor):
    """Make each submitted cell's nbgrader metadata that of the released cell with its grade id."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            released = {
                cell.name: {"locked": bool(cell.locked)} for cell in notebook.source_cells}
            for cell in notebook.grade_cells:
                released[cell.name].update(grade=True, points=float(cell.max_score))
            for cell in notebook.solution_cells:
                released[cell.name]["solution"] = True
            for cell in notebook.task_cells:
                released[cell.name].update(task=True, points=float(cell.max_score))
        notes, seen = [], set()
        nb.cells = [cell for cell in nb.cells if NOTE_TAG not in cell.metadata.get("tags", [])]
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if not meta:
                continue
            grade_id = meta.get("grade_id")
            if grade_id in seen:
                notes.append(f"a second cell with grade id `{grade_id}` was not graded (only the first one is)")
                del cell.metadata["nbgrader"]
            elif grade_id not in released:
                if any(meta.get(flag) for flag in ("grade", "solution", "locked", "task")):
                    notes.append(f"a cell with grade id `{grade_id}`, which the assignment does not have, was "
                                 f"not graded; the released cells were graded instead")
                del cell.metadata["nbgrader"]
            else:
                seen.add(grade_id)
                changed = self._restore(meta, released[grade_id])
                if changed:
                    notes.append(f"cell `{grade_id}`: {', '.join(changed)} restored as released")
        if notes:
            for note in notes:
                self.log.warning("%s: %s", info["notebook"], note)
            text = ("**Note from the grader:** this notebook's cell metadata differed from the assignment's, "
                    "so it was graded against the released cells:\n\n" + "\n".join(f"* {n}" for n in notes))
            nb.cells.insert(0, new_markdown_cell(text, metadata={"tags": [NOTE_TAG]}))
        return nb, resources

    @staticmethod
    def _restore(meta, released):
        """Set the flags and points of ``meta`` to the released ones; the names of those that changed."""
        changed = []
        for flag in ("grade", "solution", "locked", "task"):
            want = released.get(flag, False)
            if bool(meta.get(flag, False)) != want:
                changed.append(flag)
            meta[flag] = want
        if "points" in released:
            if meta.get("points") != released["points"]:
                changed.append("points")
            meta["points"] = released["points"]
        else:
            meta.pop("points", None)
        return changed

    def preprocess_cell(self, cell, resources, index):  # the work is done on the notebook as a whole
        return cell, resources


class DropOversized(NbGraderPreprocessor):
    """Grade a notebook on its cells' sources: attachments, stored outputs and metadata over the caps are
    dropped (``drop_oversized``), with a note at the top of the notebook saying what and how big."""

    item_bytes_limit = Integer(DEFAULT_OUTPUT_BYTES, help="Most bytes of one attachment, stored output or "
                                                          "metadata entry of a submitted notebook").tag(config=True)
    notebook_bytes_limit = Integer(DEFAULT_NOTEBOOK_BYTES, help="Most bytes of all of them together in one "
                                                               "submitted notebook").tag(config=True)

    def preprocess(self, nb, resources):
        notes = drop_oversized(nb, self.item_bytes_limit, self.notebook_bytes_limit)
        if notes:
            name = resources.get("nbgrader", {}).get("notebook", "notebook")
            for note in notes:
                self.log.warning("%s: %s", name, note)
            nb.cells.insert(0, size_note(notes, nb))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):  # the work is done on the notebook as a whole
        return cell, resources


def size_note(notes, nb):
    """The markdown cell for ``nb`` that tells the instructor and the student what ``drop_oversized`` dropped
    (the same cell for the same notes: its id, where the notebook's format has cell ids, is fixed)."""
    text = ("**Note from the grader:** this notebook was graded on its cells' code and text; parts of the file "
            "too big to keep were dropped:\n\n" + "\n".join(f"* {n}" for n in notes))
    cell = new_markdown_cell(text, metadata={"tags": [SIZE_NOTE_TAG]})
    del cell["id"]
    version = (nb.get("nbformat"), nb.get("nbformat_minor"))
    if all(isinstance(v, int) for v in version) and version >= (4, 5):
        cell["id"] = SIZE_NOTE_TAG
    return cell


class _SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's validation of one cell's metadata against its JSON schema, with the validator made
    once: nbgrader calls ``jsonschema.validate``, which checks the schema itself against jsonschema's
    metaschema before every cell (most of the time of a check)."""

    _validators = {}  # schema version: jsonschema validator

    def validate_cell(self, cell):
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            return super().validate_cell(cell)  # nbgrader's own verdict on an old or a new schema
        validator = self._validators.get(self.schema_version)
        if validator is None:
            kind = jsonschema.validators.validator_for(self.schema)
            kind.check_schema(self.schema)
            validator = self._validators[self.schema_version] = kind(self.schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(meta))  # as jsonschema.validate does
        if error is not None:
            raise error


class _Validator(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's metadata validator (its checks of each cell and of the notebook's grade ids), whose
    per-cell schema check is ``_SchemaCheckedOnce``'s (next in the method order after nbgrader's)."""


class CheckCellMetadata(NbgraderCheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` with its schema checked once per process instead of once per cell."""

    def preprocess(self, nb, resources):
        try:
            _Validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg)
        return nb, resources
