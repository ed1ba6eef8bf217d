"""Step 6 of class grading: the class files, ``reports/<assignment>/``.

``scores.csv`` (one row per student), ``results.json`` (status, notes, integrity flags,
grades per student) and ``report.html`` (``autograde.grading.report``), plus the table of
scores printed at the end. They cover the whole class: re-grading some students
(``--students``) replaces their entries and keeps everyone else's.
"""
import csv
import io
import json
import os
import pathlib
import time
import uuid

from autograde.grading.result import StudentResult


def earlier_results(path, root, assignment):
    """{student: StudentResult} of an earlier results.json, for the students who still have a submission."""
    try:
        earlier = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(earlier, dict):
        return {}
    return {student: StudentResult.from_json({**r, "student": student}) for student, r in earlier.items()
            if isinstance(r, dict) and pathlib.Path(root, "submitted", student, assignment).is_dir()}


def _notebooks(results):
    first = next(iter(results.values()), None)
    return sorted(first.max_scores or {}) if first else []


def _replace(path, text):
    """Write ``text`` to ``path`` whole or not at all (a run killed mid-write leaves the previous file)."""
    path = pathlib.Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def write_results(path, results):
    """results.json: {student: StudentResult.to_json()}."""
    _replace(path, json.dumps({student: r.to_json() for student, r in results.items()}, indent=1, sort_keys=True,
                              default=str))


def write_csv(path, results):
    notebooks = _notebooks(results)
    handle = io.StringIO(newline="")
    out = csv.writer(handle)
    out.writerow(["student", "status"] + notebooks + ["total", "late penalty", "max", "flags", "notes"])
    for student, r in sorted(results.items()):
        out.writerow([student, r.status] + [f"{r.scores.get(n, 0):g}" if r.graded else "" for n in notebooks]
                     + [f"{r.score:g}" if r.graded else "", f"{r.late_penalty or 0:g}" if r.graded else "",
                        f"{r.max_score or 0:g}", len(r.flags), "; ".join(r.notes + ([r.reason] if r.reason else []))])
    _replace(path, handle.getvalue())


class Run:
    """The class files while a run goes on, and what a later run may keep of a run that was stopped.

    ``run.json`` in the report folder says which run wrote the class files, for which course
    (``digest``: ``template.fingerprint`` of the configuration, source, release and grader code) and
    whether it completed. Each
    student's entry is written to ``results.json`` and ``scores.csv`` as soon as the student is merged
    (rewriting both files, cheap next to grading a student), so a run that is killed, or stopped with
    Ctrl-C, leaves its finished students in the class files. The next run of the same course keeps
    them (``resumable``) and grades only the others, unless told to start over.
    """

    def __init__(self, report_dir, digest):
        self.folder, self.digest = pathlib.Path(report_dir), digest
        self.path = self.folder / "run.json"
        self.id = uuid.uuid4().hex[:12]

    def previous(self):
        try:
            run = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return run if isinstance(run, dict) else None

    def resumable(self, earlier, hashes):
        """{student: entry} of ``earlier`` that a stopped run of this course graded, on the same files."""
        run = self.previous()
        if not run or run.get("complete") or run.get("digest") != self.digest:
            return {}
        self.id = run.get("id", self.id)  # the same run, continued
        return {student: result for student, result in earlier.items()
                if result.run == self.id and result.graded and student in hashes and result.hashes == hashes[student]}

    def begin(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        _replace(self.path, json.dumps({"id": self.id, "digest": self.digest, "complete": False,
                                        "started": time.strftime("%Y-%m-%d %H:%M:%S")}))

    def complete(self):
        run = self.previous() or {"id": self.id, "digest": self.digest}
        _replace(self.path, json.dumps({**run, "complete": True, "finished": time.strftime("%Y-%m-%d %H:%M:%S")}))


def score_table(results):
    notebooks = _notebooks(results)
    header = ["student"] + [n.split("_")[0] for n in notebooks] + ["total", "flags", "status"]
    rows = []
    for student, r in sorted(results.items()):
        cells = [f"{r.scores.get(n, 0):g}/{r.max_scores[n]:g}" if r.graded else "-" for n in notebooks]
        rows.append([student] + cells + [f"{r.score:g}/{r.max_score:g}" if r.graded else "-", str(len(r.flags) or ""),
                                         "graded" if r.graded else f"UNGRADED: {r.reason}"])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header) - 1)]
    line = lambda row: "  ".join([c.ljust(w) for c, w in zip(row, widths)] + [row[-1]])  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths] + ["-" * 6])] + [line(r) for r in rows])


def summary(results, report_dir, report, elapsed):
    graded = [r for r in results.values() if r.graded]
    flagged = [s for s, r in results.items() if r.flags]
    lines = [f"\n{len(graded)} graded, {len(results) - len(graded)} ungraded, {len(flagged)} flagged, in {elapsed:.0f} s"]
    for student, r in sorted(results.items()):
        lines += [f"  note {student}: {note}" for note in r.notes]
    lines.append(f"scores: {pathlib.Path(report_dir) / 'scores.csv'}")
    if report:
        lines.append(f"class report: {pathlib.Path(report_dir) / 'report.html'}")
    return "\n".join(lines)
