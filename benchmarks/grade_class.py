"""Benchmark: stock serial `nbgrader autograde` against `grade-class` on Dask, and its scaling.

Builds one scratch course with N synthetic submissions (solution, blank, and catalogue
mistakes in turn) and grades copies of it:

1. stock serial `nbgrader autograde rnn` (one process, one student after another);
2. `grade-class rnn --jobs J` (a local Dask cluster of J worker processes; default: cores);
3. `grade-class rnn --jobs 1` and `--jobs 2` on the first M submissions (`--scaling-n`):
   the scaling of the local cluster from 1 to 2 workers, as time(1) / (2 * time(2)).

Each grade-class run starts with an empty template cache (it generates the template, as a
first run does) and its own wall clock includes starting the cluster. It checks that every
gradebook holds the same grades as the serial one, and prints the times, the ratio against
stock serial (goal: at least 2.5 on 2 cores for 40 submissions) and the scaling efficiency.
`benchmarks/profile_grading.py` gives the table of where one student's time goes.

    python benchmarks/grade_class.py                        # 40 submissions, every notebook
    python benchmarks/grade_class.py -n 10 --notebooks 2 --scaling-n 6
"""
import argparse
import itertools
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nbgrader.api import Gradebook  # noqa: E402

from autograde.content import mistakes, notebooks  # noqa: E402
from autograde.grading.course import Course  # noqa: E402
from autograde.grading.samples import replace_for  # noqa: E402


def build(root, n, keep_notebooks):
    course = Course.copy_of(REPO, root)
    for path in notebooks.notebook_paths(course.folder("source"))[keep_notebooks:] if keep_notebooks else []:
        path.unlink()
    course.generate()
    names = set(course.notebook_names())
    kinds = itertools.cycle([{}, {"blank": True}] + [{"replace": replace_for(m)} for m in mistakes.all_mistakes()
                                                    if m.notebook in names])
    for i in range(n):
        course.write_submission(f"student{i:03d}", **next(kinds))
    return course


def copy(course, destination, first=None):
    """A copy of the course (its gradebook included), keeping only the first ``first`` students."""
    root = pathlib.Path(shutil.copytree(course.root, destination))
    if first is not None:
        for folder in sorted((root / "submitted").iterdir())[first:]:
            shutil.rmtree(folder)
    return Course(root)


def scores(course):
    with Gradebook(course.db_url) as gb:
        return sorted((s.id, nb.name, g.name, g.auto_score) for s in gb.students for sub in s.submissions
                      for nb in sub.notebooks for g in nb.grades)


def environment():
    return dict(os.environ, PATH=os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ["PATH"]]))


def stock_serial(course):
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "rnn", "--force"], cwd=course.root,
                   env=environment(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def grade_class(course, jobs, cache):
    """Wall-clock seconds of `grade-class rnn --jobs J` in the course root, with an empty template cache."""
    shutil.rmtree(cache, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "autograde.grade_class", "rnn", "--jobs", str(jobs), "--no-report", "-q"],
                   cwd=course.root, env=dict(environment(), AUTOGRADE_TEMPLATE_CACHE=str(cache)), check=True)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=40, help="submissions (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="workers (default: cores)")
    parser.add_argument("--notebooks", type=int, default=0, help="grade only the first K notebooks (default: all)")
    parser.add_argument("--scaling-n", type=int, default=12,
                        help="submissions of the 1-to-2-worker scaling runs (default: %(default)s; 0 skips them)")
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-grade-class-"))
    try:
        base = build(work / "base", args.n, args.notebooks)
        serial, parallel = copy(base, work / "serial"), copy(base, work / "parallel")
        print(f"{args.n} submissions x {len(base.notebook_names())} notebooks, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        t_serial = stock_serial(serial)
        print(f"nbgrader autograde rnn (stock, serial):  {t_serial:7.1f} s", flush=True)
        t_parallel = grade_class(parallel, args.jobs, work / "cache")
        print(f"grade-class rnn --jobs {args.jobs}:             {t_parallel:7.1f} s", flush=True)
        reference = scores(serial)
        same = scores(parallel) == reference
        print(f"identical grades: {same} ({len(reference)} grades)")
        ok = same
        if args.scaling_n:
            small = {jobs: copy(base, work / f"scaling{jobs}", first=args.scaling_n) for jobs in (1, 2)}
            times = {jobs: grade_class(course, jobs, work / "cache") for jobs, course in small.items()}
            expected = [row for row in reference if int(row[0].removeprefix("student")) < args.scaling_n]
            ok = ok and all(scores(course) == expected for course in small.values())
            print(f"scaling on {args.scaling_n} submissions: 1 worker {times[1]:.1f} s, 2 workers {times[2]:.1f} s: "
                  f"speed-up {times[1] / times[2]:.2f}, efficiency {times[1] / (2 * times[2]):.2f}")
        print(f"ratio against stock serial nbgrader: {t_serial / t_parallel:.2f}x "
              f"(load average now {os.getloadavg()[0]:.1f})")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
