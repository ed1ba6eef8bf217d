"""Grade a whole class with nbgrader, in parallel: ``python -m autograde.grade_class rnn``.

Run it in the course root after collecting submissions into nbgrader's
``submitted/<student>/<assignment>/`` layout (``nbgrader collect`` or
``nbgrader zip_collect``). nbgrader stays the engine: its autograde grades every
submission and the results land in the course gradebook, where formgrader,
``nbgrader generate_feedback`` and ``nbgrader export`` find them.

Design (why no "database is locked"): nbgrader's autograde opens the gradebook
many times per submission and commits after every grade cell, so several
``nbgrader autograde`` processes on one SQLite file race for its write lock
(nbgrader issue #174 still lists parallel autograde as a wish; the workaround
reported there is one gradebook per process, merged afterwards). Here each
worker process owns a scratch course with its own SQLite gradebook (a copy of a
template that holds the assignment); the parent merges each student's grades
into the course gradebook itself, one student per transaction, so the course
gradebook has exactly one writer whether it is SQLite or PostgreSQL, and no
grade depends on a database lock timeout or a retried write.

Robustness: every kernel runs under the per-cell timeout and a memory cap
(``autograde.sandbox``); a dead kernel, or a cell that ignores the interrupt at
its time limit, costs the cells it did not run; when nbgrader gives up on a
student the submission is graded once more (the cause may be the machine's)
before a notebook that breaks the schema is set aside and scored 0; an
unreadable notebook is scored as missing; a worker that dies or hangs is
replaced and its student recorded as ungraded with the reason. Submitted files
are only read (their hashes are checked before and after). An integrity scan
(``autograde.integrity``) flags suspicious code without changing any score.

Outputs: a table of scores on stdout, ``reports/<assignment>/scores.csv``,
``results.json`` (status, notes, flags per student) and the class report
``report.html`` (``autograde.report``). Re-grading some students (``--students``)
updates their entries and keeps everyone else's in these files.
"""
import argparse
import concurrent.futures
import csv
import datetime
import fnmatch
import hashlib
import json
import os
import pathlib
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which builds a grammar for
# about 5 s of CPU; nbformat never checks the IRI format it serves, so these processes go without it
sys.modules.setdefault("rfc3987_syntax", None)

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import OperationalError, SAWarning

from autograde import integrity
from autograde.course import Course
from autograde.sandbox import DEFAULT_MEMORY_LIMIT


class GradingError(RuntimeError):
    pass


class WorkerLost(RuntimeError):
    pass


# -- inputs ---------------------------------------------------------------------
def find_submissions(root, assignment, patterns=("*",)):
    """{student: submission folder} in nbgrader's submitted/<student>/<assignment>/ layout."""
    found = {}
    for folder in sorted(pathlib.Path(root, "submitted").glob(f"*/{assignment}")):
        student = folder.parent.name
        if folder.is_dir() and not student.startswith(".") and any(fnmatch.fnmatch(student, p) for p in patterns):
            found[student] = folder
    return found


def file_hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(pathlib.Path(folder).rglob("*")) if p.is_file()}


def parse_bytes(text):
    text = str(text).strip().upper().removesuffix("IB").removesuffix("B")
    if text in ("", "0", "NONE"):
        return 0
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1], 1)
    return int(float(text.rstrip("KMGTB") or 0) * scale) if scale != 1 else int(float(text))


def definitions(db_url, assignment):
    """The graded cells of an assignment in a gradebook: {(notebook, grade id, max points)}."""
    with Gradebook(db_url) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            return None
        return {(nb.name, cell.name, cell.max_score) for nb in found.notebooks for cell in nb.grade_cells}


def prepare_template(course, assignment, destination):
    """A scratch course whose SQLite gradebook holds the assignment, generated from the course's source
    (in this process: nbgrader is imported here anyway, and a new process would import it again)."""
    template = Course.copy_of(course.root, destination)
    with open(template.root / "nbgrader_config.py", "a") as config:
        config.write('\n# scratch copy for autograde.grade_class: its own SQLite gradebook\n'
                     'c.CourseDirectory.db_url = "sqlite:///gradebook.db"\n')
    config = template.config()
    config.CourseDirectory.root = str(template.root)
    config.CourseDirectory.db_url = template.db_url
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise GradingError(f"nbgrader generate_assignment failed in the scratch course:\n{result.get('log')}\n{result.get('error')}")
    return template


# -- workers ------------------------------------------------------------------------
class Worker:
    """A grading_worker process and the pipe to it; replaced when it dies or hangs.
    Started early (its imports take seconds), set up once the template course exists."""

    def __init__(self, index, work):
        self.index, self.work, self.settings, self.dead = index, pathlib.Path(work), None, False
        self.log = open(self.work / f"worker{index}.log", "a")
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
        self.proc = subprocess.Popen([sys.executable, "-m", "autograde.grading_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, env=env, start_new_session=True)

    def setup(self, settings):
        self.settings = dict(settings, dir=str(self.work / f"worker{self.index}"))
        self._send(self.settings)
        self._read(300)

    def _send(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _read(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise WorkerLost(f"no answer within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerLost(f"the worker process exited ({self.proc.poll()})")
        return json.loads(line)

    def grade(self, student, submission, timeout):
        out = self.work / "out" / student
        try:
            self._send({"student": student, "submission": str(submission), "out": str(out)})
            return self._read(timeout)
        except (WorkerLost, BrokenPipeError, ValueError) as exc:
            self.stop()
            try:
                self.start()
                self.setup(self.settings)
            except (WorkerLost, OSError):
                self.dead = True  # its thread stops taking students; the others go on
            return {"student": student, "status": "ungraded", "reason": f"grading stopped: {exc}"}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait()


# -- merging into the course gradebook --------------------------------------------------------
class Merger:
    """The only writer of the course gradebook: one connection, one transaction per student."""

    def __init__(self, db_url, assignment):
        self.db_url, self.assignment, self.gb = db_url, assignment, None

    def merge(self, answer, attempts=5):
        for attempt in range(attempts):
            try:
                if self.gb is None:
                    self.gb = Gradebook(self.db_url)
                with warnings.catch_warnings():
                    # nbgrader's add_submission trips an SQLAlchemy 2 autoflush warning (harmless; stock autograde too)
                    warnings.simplefilter("ignore", SAWarning)
                    _merge(self.gb, self.assignment, answer)
                return
            except Exception as exc:
                self.close(rollback=True)
                if not isinstance(exc, OperationalError) or attempt == attempts - 1:
                    raise
                time.sleep(0.5 * 2**attempt)  # the gradebook is busy (formgrader open on SQLite): wait, retry

    def close(self, rollback=False):
        if self.gb is not None:
            if rollback:
                self.gb.db.rollback()
            self.gb.close()
            self.gb = None


def _merge(gb, assignment, answer):
    student = answer["student"]
    gb.update_or_create_student(student)
    stamp = answer.get("timestamp")
    if stamp:
        gb.update_or_create_submission(assignment, student, timestamp=datetime.datetime.fromisoformat(stamp))
    else:
        gb.update_or_create_submission(assignment, student)
    for name, data in answer["notebooks"].items():
        nb = gb.find_submission_notebook(name, assignment, student)
        nb.late_submission_penalty = data["late_penalty"]
        for grade in nb.grades:
            if grade.name in data["grades"]:
                grade.auto_score = data["grades"][grade.name]
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
        for comment in nb.comments:
            if comment.name in data["comments"]:
                comment.auto_comment = data["comments"][comment.name]
    gb.db.commit()


def copy_autograded(root, assignment, student, folder):
    target = pathlib.Path(root, "autograded", student, assignment)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target)


# -- progress -----------------------------------------------------------------------------
class Progress:
    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.ungraded, self.stream = total, 0, 0, stream
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def update(self, answer):
        self.done += 1
        self.ungraded += answer["status"] != "graded"
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        width = 30
        bar = "#" * round(width * self.done / self.total) + "-" * (width - round(width * self.done / self.total))
        line = (f"[{bar}] {self.done}/{self.total} graded"
                f"{f', {self.ungraded} ungraded' if self.ungraded else ''}  {elapsed:4.0f} s, ~{eta:.0f} s left")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
        elif self.done == self.total or self.done % max(1, self.total // 10) == 0:
            self.stream.write(line + "\n")
        self.stream.flush()


# -- the command ----------------------------------------------------------------------------
def grade_class(root=".", assignment="rnn", students=("*",), jobs=None, timeout=None, memory=DEFAULT_MEMORY_LIMIT,
                db_url=None, workdir=None, report_dir=None, report=True, student_timeout=None, quiet=False):
    """Autograde every submission of ``assignment``; returns {student: result} (see results.json)."""
    started = time.monotonic()
    course = Course(root)
    db_url = db_url or course.db_url
    submissions = find_submissions(course.root, assignment, students)
    if not submissions:
        raise GradingError(f"no submissions in {course.root / 'submitted'}/<student>/{assignment}/")
    main_definitions = definitions(db_url, assignment)
    if main_definitions is None:
        raise GradingError(f"the gradebook has no assignment {assignment!r}: run `nbgrader generate_assignment {assignment}` first")
    jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(submissions)))
    own_workdir = workdir is None
    work = pathlib.Path(workdir or tempfile.mkdtemp(prefix="grade_class-"))
    report_dir = pathlib.Path(report_dir or course.root / "reports" / assignment)
    report_dir.mkdir(parents=True, exist_ok=True)
    workers = [Worker(i, work) for i in range(jobs)]  # their imports overlap with the template's generation
    try:
        template = prepare_template(course, assignment, work / "template")
        if definitions(template.db_url, assignment) != main_definitions:
            raise GradingError(f"the gradebook's {assignment!r} differs from source/{assignment}/: "
                               f"run `nbgrader generate_assignment {assignment} --force` first")
        release = template.root / "release" / assignment
        released = integrity.released_sources(release)
        shipped = {p.name for p in release.iterdir()}
        code_cells = sum(len([c for c in json.loads(p.read_text())["cells"] if c["cell_type"] == "code"])
                         for p in release.glob("*.ipynb"))
        cell_timeout = timeout or int(course.config().Execute.get("timeout", 120))
        student_timeout = student_timeout or 3 * cell_timeout * code_cells + 300  # up to 3 attempts (grading_worker.grade)

        results = {}
        for student, folder in submissions.items():
            flags = integrity.scan_submission(folder, released, shipped)
            results[student] = {"student": student, "hashes": file_hashes(folder),
                                "flags": [dict(vars(f), why=f.why) for f in flags]}

        settings = {"template": str(template.root), "assignment": assignment, "timeout": cell_timeout, "memory": memory}
        if not quiet:
            print(f"grading {len(submissions)} submissions of {assignment!r} with {jobs} workers "
                  f"(each cell {cell_timeout} s at most, each kernel {memory / 2**30:g} GiB at most)", file=sys.stderr)
        todo, answers = queue.Queue(), queue.Queue()
        for student in submissions:
            todo.put(student)
        progress = Progress(len(submissions), stream=open(os.devnull, "w") if quiet else sys.stderr)

        def drive(worker):
            try:
                worker.setup(settings)
            except WorkerLost as exc:
                log = (work / f"worker{worker.index}.log").read_text(errors="replace").strip().splitlines()
                start_errors.append(f"worker {worker.index} did not start ({exc}): {log[-1] if log else ''}")
                return
            try:
                while not worker.dead:
                    try:
                        student = todo.get_nowait()
                    except queue.Empty:
                        return
                    answers.put(worker.grade(student, submissions[student], student_timeout))
            finally:
                worker.stop()

        start_errors, merger = [], Merger(db_url, assignment)
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            running = [pool.submit(drive, worker) for worker in workers]
            received = 0
            while received < len(submissions) and not (all(f.done() for f in running) and answers.empty()):
                try:
                    answer = answers.get(timeout=1)
                except queue.Empty:
                    continue
                received += 1
                if answer["status"] == "graded":  # merged here, one student at a time, while workers grade on
                    try:
                        merger.merge(answer)
                        copy_autograded(course.root, assignment, answer["student"], answer["autograded"])
                    except Exception as exc:
                        answer.update(status="ungraded", reason=f"merging into the gradebook failed: {exc}"[:300])
                    shutil.rmtree(answer.pop("autograded"), ignore_errors=True)
                results[answer["student"]].update(answer)
                progress.update(answer)
            for future in running:
                future.result()
        merger.close()
        for student, result in results.items():
            if "status" not in result:  # only when no worker could start
                result.update(status="ungraded", reason="; ".join(start_errors)[:300] or "not graded")

        for student, folder in submissions.items():
            after = file_hashes(folder)
            results[student]["unmodified"] = after == results[student]["hashes"]
            if not results[student]["unmodified"]:  # never expected: grading works on copies
                results[student].setdefault("notes", []).append("THE SUBMITTED FILES CHANGED WHILE GRADING")
        # the class files cover the whole class: a re-grade of some students keeps the others' entries
        everyone = {**earlier_results(report_dir / "results.json", course.root, assignment), **results}
        add_scores(db_url, assignment, everyone)
        (report_dir / "results.json").write_text(json.dumps(everyone, indent=1, sort_keys=True, default=str))
        write_csv(report_dir / "scores.csv", everyone)
        if report:
            from autograde.report import build_report
            build_report(course.root, assignment, everyone, report_dir / "report.html")
        if not quiet:
            print(score_table(results))
            summarize(results, report_dir, report, time.monotonic() - started)
        return results
    finally:
        for worker in workers:
            worker.stop()
        if own_workdir:
            shutil.rmtree(work, ignore_errors=True)


def earlier_results(path, root, assignment):
    """The entries of an earlier results.json whose students still have a submission."""
    try:
        earlier = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return {student: r for student, r in earlier.items()
            if isinstance(r, dict) and pathlib.Path(root, "submitted", student, assignment).is_dir()}


def add_scores(db_url, assignment, results):
    """Each student's points per notebook and total, read back from the course gradebook."""
    with Gradebook(db_url) as gb:
        max_by_notebook = {nb.name: nb.max_score for nb in gb.find_assignment(assignment).notebooks}
        for student, result in results.items():
            result["max_scores"] = max_by_notebook
            result["max_score"] = sum(max_by_notebook.values())
            if result.get("status") != "graded":
                continue
            submission = gb.find_submission(assignment, student)
            result["scores"] = {nb.name: nb.score for nb in submission.notebooks}
            result["grades"] = {nb.name: {g.name: [g.score, g.max_score] for g in nb.grades}
                                for nb in submission.notebooks}
            result["score"] = sum(result["scores"].values())


def write_csv(path, results):
    notebooks = sorted(next(iter(results.values())).get("max_scores", {}))
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["student", "status"] + notebooks + ["total", "max", "flags", "notes"])
        for student, r in sorted(results.items()):
            graded = r.get("status") == "graded"
            out.writerow([student, r.get("status")] + [f"{r['scores'].get(n, 0):g}" if graded else "" for n in notebooks]
                         + [f"{r['score']:g}" if graded else "", f"{r.get('max_score', 0):g}", len(r["flags"]),
                            "; ".join(r.get("notes", []) + ([r["reason"]] if r.get("reason") else []))])


def score_table(results):
    notebooks = sorted(next(iter(results.values())).get("max_scores", {}))
    header = ["student"] + [n.split("_")[0] for n in notebooks] + ["total", "flags", "status"]
    rows = []
    for student, r in sorted(results.items()):
        graded = r.get("status") == "graded"
        cells = [f"{r['scores'].get(n, 0):g}/{r['max_scores'][n]:g}" if graded else "-" for n in notebooks]
        rows.append([student] + cells + [f"{r['score']:g}/{r['max_score']:g}" if graded else "-",
                                         str(len(r["flags"]) or ""), "graded" if graded else f"UNGRADED: {r.get('reason')}"])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header) - 1)]
    line = lambda row: "  ".join([c.ljust(w) for c, w in zip(row, widths)] + [row[-1]])
    return "\n".join([line(header), line(["-" * w for w in widths] + ["-" * 6])] + [line(r) for r in rows])


def summarize(results, report_dir, report, elapsed):
    graded = [r for r in results.values() if r.get("status") == "graded"]
    flagged = [s for s, r in results.items() if r["flags"]]
    print(f"\n{len(graded)} graded, {len(results) - len(graded)} ungraded, {len(flagged)} flagged, in {elapsed:.0f} s")
    for student, r in sorted(results.items()):
        for note in r.get("notes", []):
            print(f"  note {student}: {note}")
    print(f"scores: {report_dir / 'scores.csv'}")
    if report:
        print(f"class report: {report_dir / 'report.html'}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="grade-class", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", default="rnn")
    parser.add_argument("--root", default=".", help="the course root (holds nbgrader_config.py); default: here")
    parser.add_argument("--students", nargs="+", default=["*"], metavar="GLOB", help="student ids to grade (default: all)")
    parser.add_argument("-j", "--jobs", type=int, help="parallel workers (default: one per core)")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: Execute.timeout of nbgrader_config.py)")
    parser.add_argument("--memory", default=f"{DEFAULT_MEMORY_LIMIT // 2**30}G",
                        help="address-space cap of each kernel, e.g. 2G; 0 for none (default: %(default)s)")
    parser.add_argument("--db", help="gradebook URL (default: the course's CourseDirectory.db_url), "
                                     "e.g. postgresql://user:password@host/gradebook")
    parser.add_argument("--report-dir", help="where scores.csv, results.json and report.html go "
                                             "(default: reports/<assignment>/)")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML class report")
    parser.add_argument("--student-timeout", type=int, help="seconds one submission may take in all (default: from --timeout)")
    args = parser.parse_args(argv)
    try:
        grade_class(args.root, args.assignment, args.students, args.jobs, args.timeout, parse_bytes(args.memory),
                    args.db, None, args.report_dir, not args.no_report, args.student_timeout)
    except (GradingError, FileNotFoundError) as exc:
        print(f"grade-class: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
