"""A student's result, from the grading process to the class files: ``StudentResult``.

The grading process fills what nbgrader wrote in its scratch gradebook (``notebooks``,
``timestamp``) or why it could not grade (``reason``, ``log``); the command adds what it read
from the submission (``hashes``, integrity ``flags``, ``notes``) and, once the student is merged,
the scores read back from the course gradebook. ``to_json``/``from_json`` are the entry of
``results.json`` (the one place it is shaped) and the message a grading process sends
(``autograde.runtime.wire``).
"""
import dataclasses

GRADED, UNGRADED = "graded", "ungraded"


@dataclasses.dataclass(kw_only=True)
class StudentResult:
    student: str
    status: str = UNGRADED          # GRADED or UNGRADED
    reason: str = None              # why ungraded (one line)
    notes: list = dataclasses.field(default_factory=list)   # what was changed or noticed in grading: [str]
    # integrity flags: [{"notebook", "cell", "line_no", "line", "rule", "why"}]
    flags: list = dataclasses.field(default_factory=list)
    hashes: dict = dataclasses.field(default_factory=dict)  # {submitted file: sha256}, checked again at the end
    log: str = None                 # the tail of nbgrader's log, when an attempt failed
    # what nbgrader wrote in the grading process's scratch gradebook:
    # {notebook: {"late_penalty": float, "grades": {grade id: points}, "comments": {grade id: text}}}
    notebooks: dict = None
    timestamp: str = None           # the submission's time (ISO 8601), as nbgrader read it
    seconds: float = None           # wall-clock time of the student's grading task
    run: str = None                 # id of the run that graded it (outputs.Run)
    unmodified: bool = None         # the submitted files were unchanged at the end
    # read back from the course gradebook after the merge:
    max_scores: dict = None         # {notebook: most points}
    max_score: float = None
    scores: dict = None             # {notebook: points}
    grades: dict = None             # {notebook: {grade id: [points, most points]}}
    score: float = None
    late_penalty: float = None

    @property
    def graded(self):
        return self.status == GRADED

    def ungrade(self, reason):
        """Mark the result ungraded for ``reason``, dropping scores that no longer hold."""
        self.status, self.reason = UNGRADED, reason[:300]
        self.scores = self.grades = self.score = self.late_penalty = None

    def to_json(self):
        """The entry of results.json (and the grading process's message): the fields that are set."""
        return {name: value for name, value in dataclasses.asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, entry):
        """The result an entry of results.json (or a grading process's message) describes; keys of no field
        (an older file's) are left out."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in entry.items() if key in known})
