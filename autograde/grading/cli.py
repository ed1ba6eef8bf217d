"""The ``grade-class`` command: the class-grading pipeline from submissions to the report."""
import argparse
import concurrent.futures
import contextlib
import importlib
import os
import pathlib
import re
import shutil
import signal
import sys
import tempfile
import time

import autograde.runtime.nbgrader_cli  # noqa: E402,F401  (first: it leaves out a grammar nbformat never uses)
from tqdm import tqdm  # noqa: E402

from autograde.grading.course import Course  # noqa: E402
from autograde.grading import integrity, outputs, submissions, template  # noqa: E402
from autograde.grading.engine import Engine  # noqa: E402
from autograde.grading.merge import Merger, add_scores, write_autograded  # noqa: E402
from autograde.grading.result import StudentResult  # noqa: E402
from autograde.grading.settings import GradingSettings  # noqa: E402
from autograde.grading.template import GradingError  # noqa: E402

INTERRUPTED = 130                  # the exit status of a command stopped by Ctrl-C


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during grading; ``results`` holds the students merged before it."""

    def __init__(self, results):
        super().__init__()
        self.results = results


def scan_class(found, release):
    """Steps 1-2: read each submission and scan it; {student: (Submission, StudentResult of what was read)}."""
    released = integrity.released_sources(release)
    shipped = integrity.shipped_files(release)
    read = {}
    for student, folder in found.items():
        submission = submissions.read_submission(student, folder)
        flags, note = integrity.scan(submission.files, released, shipped)
        read[student] = (submission, StudentResult(student=student, hashes=submission.hashes(), flags=flags,
                                                   notes=list(submission.notes) + ([note] if note else [])))
    return read


def grade_class(root=".", assignment="rnn", settings=None, *, on_merged=None, engine=None):
    """Autograde every submission of ``assignment`` in the course at ``root``; returns {student: StudentResult}
    (as in results.json).

    ``settings``: a GradingSettings, by default ``GradingSettings.from_config(root)`` (every limit from the
    course's nbgrader_config.py). Each student is written to the class files as soon as it is merged. When
    the previous run of the same course was stopped (killed, Ctrl-C), the students it finished on the same
    files are kept and only the others graded, unless ``settings.restart``. On Ctrl-C, raises
    ``Interrupted`` after the students merged so far are written to the class files.
    ``on_merged(student, result)``, if given, is called in this thread as soon as a student is in the
    gradebook and the class files (the demo starts that student's feedback then). ``engine``: an ``Engine``
    to grade on instead of one made from the settings' scheduler, jobs and retries, perhaps started
    already; it is closed at the end all the same."""
    started = time.monotonic()
    _alembic_on_path()
    course = Course(root)
    settings = settings or GradingSettings.from_config(course.root)
    found = submissions.find_submissions(course.root, assignment, settings.students)
    if not found or not (course.root / "source" / assignment).is_dir():
        raise GradingError(_nothing_to_grade(course.root, assignment, found))
    db_url = settings.db_url or course.db_url
    check_gradebook(db_url, "--db" if settings.db_url else "c.CourseDirectory.db_url of nbgrader_config.py")
    jobs = max(1, min(settings.jobs or len(os.sched_getaffinity(0)), len(found)))
    work = pathlib.Path(settings.workdir or tempfile.mkdtemp(prefix="grade_class-"))
    report_dir = pathlib.Path(settings.report_dir or course.root / "reports" / assignment)
    engine = engine or Engine(scheduler=settings.scheduler, jobs=jobs, retries=settings.retries)
    results, read, merger = {}, {}, Merger(db_url, assignment)
    read_back = set()  # the students whose scores were read back from the gradebook after their merge
    background = concurrent.futures.ThreadPoolExecutor(1)
    starting = background.submit(engine.start)  # the cluster starts while the template is generated
    if settings.report:  # matplotlib, for the report's charts: imported while the class is graded, not after
        background.submit(importlib.import_module, "autograde.grading.report")
    try:
        scratch = template.prepare_template(course, assignment, work / "template", db_url=db_url)
        release = scratch.root / "release" / assignment
        read = scan_class(found, release)
        archive, digest = template.pack(scratch)
        extensions = template.extensions(db_url, assignment, found)
        run = outputs.Run(report_dir, template.fingerprint(course.root, assignment))
        kept = {} if settings.restart else run.resumable(
            outputs.earlier_results(report_dir / "results.json", course.root, assignment),
            {student: result.hashes for student, (_, result) in read.items()})
        results.update(kept)
        run.begin()
        starting.result()
        if not settings.quiet:
            where = f"the Dask cluster at {settings.scheduler}" if settings.scheduler else "a local Dask cluster"
            memory = f"{settings.memory_limit / 2**30:g} GiB" if settings.memory_limit else "unlimited memory"
            print(f"grading {len(found)} submissions of {assignment!r} on {where} of {engine.workers()} workers "
                  f"(each cell {settings.cell_timeout} s at most, each kernel {memory}, each student's notebooks "
                  f"{settings.submission_time_limit / 60:g} minutes in all, each student's grading "
                  f"{settings.student_time_limit} minutes)", file=sys.stderr)
            if kept:
                print(f"continuing the run that stopped before it finished: {len(kept)} students it graded on the "
                      f"same files are kept (--restart grades them again)", file=sys.stderr)
        tasks = [(student, sub.files, extensions.get(student)) for student, (sub, _) in read.items()
                 if student not in kept]
        with tqdm(total=len(tasks), unit="student", disable=settings.quiet, file=sys.stderr, dynamic_ncols=True) as bar, \
                CtrlC() as ctrl_c:
            for student, graded, autograded in engine.grade(archive, digest, assignment, settings, tasks):
                with ctrl_c.deferred():  # a student is merged whole, or not at all
                    results[student] = merged(course.root, assignment, merger, read[student][1], graded, autograded)
                    results[student].run = run.id
                    # into the class files too, so that a killed run loses no one
                    write_progress(course, assignment, db_url, report_dir, results, student)
                    read_back.add(student)
                if on_merged is not None:
                    on_merged(student, results[student])
                bar.update()
                ungraded = sum(not r.graded for r in results.values())
                if ungraded:
                    bar.set_postfix(ungraded=ungraded)
        merger.close()
    except KeyboardInterrupt:
        merger.close(rollback=True)
        engine.close()
        with contextlib.suppress(Exception):  # interrupted before the gradebook had the assignment, say
            finish(course, assignment, db_url, report_dir, read, results, read_back, report=False)
        raise Interrupted(results) from None
    finally:
        if not starting.cancel():
            concurrent.futures.wait([starting])  # never leave a cluster that was still starting
        background.shutdown()
        engine.close()
        if settings.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    finish(course, assignment, db_url, report_dir, read, results, read_back, report=settings.report)
    run.complete()
    if not settings.quiet:
        print(outputs.score_table(results))
        print(outputs.summary(results, report_dir, settings.report, time.monotonic() - started))
    return results


def _nothing_to_grade(root, assignment, found):
    """Why there is nothing to grade, in one line: no such assignment, or no submissions of it."""
    known = sorted(p.name for p in (root / "source").glob("*") if p.is_dir())
    if known and assignment not in known:
        return f"no assignment {assignment!r} in {root / 'source'}/ (this course's assignments: {', '.join(known)})"
    if not found:
        return f"no submissions in {root / 'submitted'}/<student>/{assignment}/"
    return f"no source of {assignment!r}: {root / 'source' / assignment}/ does not exist"


def check_gradebook(db_url, where):
    """Raise GradingError, in one line naming ``where`` the URL came from, when the gradebook cannot be opened:
    not a database URL, no driver, an SQLite file in a folder that is missing, a server that does not answer."""
    import sqlalchemy
    from sqlalchemy.engine import make_url
    example = "e.g. sqlite:///gradebook.db or postgresql://user:password@host/gradebook"
    try:
        url = make_url(db_url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise GradingError(f"{db_url!r} ({where}) is not a database URL; give one such as {example[5:]}") from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":  # opening would create the file: check its folder instead
        if url.database and url.database != ":memory:":
            folder = pathlib.Path(url.database).absolute().parent
            if not folder.is_dir() or not os.access(folder, os.W_OK):
                raise GradingError(f"the gradebook {shown} ({where}) cannot be written: the folder {folder} "
                                   f"{'is not writable' if folder.is_dir() else 'does not exist'}")
        return
    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 10}
                                          if url.get_backend_name() == "postgresql" else {})
        with engine.connect():
            pass
        engine.dispose()
    except ImportError as exc:
        raise GradingError(f"the gradebook {shown} ({where}) needs the database driver {exc.name!r}, which is not "
                           f"installed; install it, or give another URL, {example}") from None
    except Exception as exc:  # the server's own words, first line: refused, unknown host, wrong password
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise GradingError(f"cannot open the gradebook {shown} ({where}): {reason}; check the URL and that the "
                           f"database server is running") from None


def _alembic_on_path():
    """nbgrader runs the `alembic` executable of its own environment, found on PATH."""
    here = str(pathlib.Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([here, os.environ.get("PATH", "")])


def merged(root, assignment, merger, read, graded, autograded):
    """Step 5 for one student: into the gradebook (one transaction) and autograded/; ``read`` (what was read
    from the submission) and ``graded`` (the grading process's result) as one StudentResult."""
    graded.notes = read.notes + graded.notes
    graded.flags = read.flags + integrity.sandbox_flags(autograded)
    graded.hashes = read.hashes
    if graded.graded:
        try:
            merger.merge(graded)
            write_autograded(root, assignment, graded.student, autograded)
        except Exception as exc:
            graded.ungrade(f"merging into the gradebook failed: {exc}")
    return graded


class CtrlC:
    """Ctrl-C raises KeyboardInterrupt at once, except inside ``deferred()``, where it waits for the block's end."""

    def __init__(self):
        self.critical, self.pending, self.previous = False, False, None

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C cannot reach this run anyway
            self.previous = None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum, frame):
        if self.critical:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self):
        self.critical = True
        try:
            yield
        finally:
            self.critical = False
        if self.pending:
            raise KeyboardInterrupt


def write_progress(course, assignment, db_url, report_dir, results, student):
    """results.json and scores.csv with the students merged so far, ``student`` the latest."""
    add_scores(db_url, assignment, {student: results[student]})
    everyone = {**outputs.earlier_results(report_dir / "results.json", course.root, assignment), **results}
    outputs.write_results(report_dir / "results.json", everyone)
    outputs.write_csv(report_dir / "scores.csv", everyone)


def finish(course, assignment, db_url, report_dir, read, results, read_back=(), report=True):
    """Step 6: check the submissions are unchanged, then write scores.csv, results.json, report.html
    for the whole class (earlier entries of students not graded in this run are kept, once checked
    against the gradebook; the students in ``read_back`` were read from it right after their merge)."""
    for student, result in results.items():
        result.unmodified = submissions.unchanged(read[student][0])
        if not result.unmodified:  # never expected: grading works on copies
            result.notes.append("THE SUBMITTED FILES CHANGED WHILE GRADING")
    report_dir.mkdir(parents=True, exist_ok=True)
    everyone = {**outputs.earlier_results(report_dir / "results.json", course.root, assignment), **results}
    if not everyone:
        return
    add_scores(db_url, assignment, {s: result for s, result in everyone.items() if s not in read_back})
    outputs.write_results(report_dir / "results.json", everyone)
    outputs.write_csv(report_dir / "scores.csv", everyone)
    if report:
        from autograde.grading.report import build_report
        build_report(course.root, assignment, everyone, report_dir / "report.html")


def parse_bytes(text):
    """'4G', '512M', '2.5GiB', '0' -> bytes; ValueError for anything else (a negative size, 'lots')."""
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?", str(text).strip().upper())
    if str(text).strip().upper() == "NONE":
        return 0
    if not match:
        raise ValueError(f"{text!r} is not a size")
    number, unit = match.groups()
    return int(float(number) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[unit])


def _size(text):
    try:
        return parse_bytes(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: give a number of bytes with a unit, "
                                         f"e.g. 2G or 512M, or 0 for no cap") from None


def _count(least):
    """An argparse type: a whole number at least ``least``."""
    def count(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {least}")
        return value
    return count


def _scheduler(text):
    """A Dask scheduler's address, e.g. tcp://head-node:8786 (a bare host:port means tcp)."""
    if not re.fullmatch(r"(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Dask scheduler's address: give it as dask scheduler "
                                         f"prints it, e.g. tcp://head-node:8786")
    return text


class OneLineParser(argparse.ArgumentParser):
    """A bad argument is one line on stderr (what to fix), exit status 2, without the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


DESCRIPTION = """Autograde every submitted/<student>/<assignment>/ of an nbgrader course with nbgrader itself,
in parallel on Dask: a local cluster of one worker process per core by default, or an existing
Dask cluster (--scheduler). The command merges each student into the course gradebook, one
transaction per student, and writes reports/<assignment>/: scores.csv, results.json, report.html."""

EPILOG = """examples:
  grade-class rnn                                   # this machine, one worker per core
  grade-class rnn --jobs 4 --timeout 60 --memory 2G --students 'a*' 'b*'
  grade-class rnn --scheduler tcp://head-node:8786  # an existing cluster, started with:
      DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0 dask scheduler --port 8786   #   on one machine
      dask worker tcp://head-node:8786 --nworkers 8 --nthreads 1   # on each grading machine

Ctrl-C stops promptly: the students merged so far stay in the gradebook and the class files;
the others are absent (exit status 130). Each student is written to the class files as soon as it
is merged, so the next run after a stop (Ctrl-C, or the command killed) grades only the students
left, on the same files (--restart: everyone)."""


def parser():
    p = OneLineParser(prog="grade-class", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", nargs="?", default="rnn", help="the assignment to grade (default: %(default)s)")
    p.add_argument("--root", default=".", help="the course root, which holds nbgrader_config.py (default: here)")
    p.add_argument("--students", nargs="+", metavar="GLOB",
                   help="grade only these student ids (shell patterns; default: everyone)")
    p.add_argument("-j", "--jobs", type=_count(1),
                   help="worker processes of the local cluster (default: one per core; ignored with --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", type=_scheduler,
                   help="grade on an existing Dask cluster, e.g. tcp://host:8786, instead of a local one")
    p.add_argument("--retries", type=_count(0),
                   help="times a student is graded again after its worker died (local cluster; default: "
                        f"{GradingSettings.retries})")
    p.add_argument("--timeout", type=_count(1), help="seconds per cell (default: Execute.timeout of nbgrader_config.py)")
    p.add_argument("--student-timeout", type=_count(1), metavar="MINUTES",
                   help="minutes after which a student's grading process is stopped, if it has not ended by "
                        "itself (default: GradeClass.student_time_limit of nbgrader_config.py)")
    p.add_argument("--memory", type=_size, help="address-space cap of each kernel, e.g. 2G; 0 for none (default: "
                                                "LimitedKernelManager.memory_limit of nbgrader_config.py)")
    p.add_argument("--db", metavar="URL", help="the course gradebook (default: CourseDirectory.db_url of "
                                               "nbgrader_config.py), e.g. postgresql://user:password@host/gradebook")
    p.add_argument("--report-dir", help="where scores.csv, results.json and report.html go (default: reports/<assignment>/)")
    p.add_argument("--no-report", action="store_true", help="skip the HTML class report")
    p.add_argument("--restart", action="store_true",
                   help="grade every student again, even those a stopped run of this course had finished "
                        "(by default a run continues the previous one when that one was stopped)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (no progress bar, no table)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        settings = GradingSettings.from_config(
            Course(args.root).root, students=args.students, jobs=args.jobs, scheduler=args.scheduler,
            retries=args.retries, cell_timeout=args.timeout, memory_limit=args.memory, db_url=args.db,
            report_dir=args.report_dir, report=not args.no_report, student_time_limit=args.student_timeout,
            quiet=args.quiet, restart=args.restart)
        grade_class(args.root, args.assignment, settings)
    except Interrupted as stop:
        print(f"\ngrade-class: interrupted; {len(stop.results)} students graded and merged are in the gradebook "
              f"and the class files, the others are not", file=sys.stderr)
        return INTERRUPTED
    except (GradingError, FileNotFoundError, OSError) as exc:
        print(f"grade-class: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
