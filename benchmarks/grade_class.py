"""Benchmark: stock serial `nbgrader autograde` against `python -m autograde.grade_class`.

Builds one scratch course with N synthetic submissions (solution, blank, and catalogue
mistakes in turn), copies it, grades one copy with `nbgrader autograde rnn` (one
process, one student after another) and the other with the class-grading command,
checks that both gradebooks hold identical scores, and prints the wall-clock times
and their ratio.

    python benchmarks/grade_class.py                 # 40 submissions, every notebook, one worker per core
    python benchmarks/grade_class.py -n 10 --notebooks 1 --jobs 2
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

from autograde import mistakes, notebooks  # noqa: E402
from autograde.course import Course  # noqa: E402
from autograde.samples import replace_for  # noqa: E402


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


def scores(course):
    with Gradebook(course.db_url) as gb:
        return sorted((s.id, nb.name, g.name, g.auto_score) for s in gb.students for sub in s.submissions
                      for nb in sub.notebooks for g in nb.grades)


def timed(fn):
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=40, help="submissions (default 40)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="workers (default: cores)")
    parser.add_argument("--notebooks", type=int, default=0, help="grade only the first K notebooks (default: all)")
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-grade-class-"))
    try:
        serial = build(work / "serial", args.n, args.notebooks)
        parallel = Course(shutil.copytree(serial.root, work / "parallel"))
        print(f"{args.n} submissions x {len(serial.notebook_names())} notebooks, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        t_serial = timed(lambda: serial.nbgrader("autograde", "rnn", "--force"))
        print(f"nbgrader autograde rnn (serial):        {t_serial:7.1f} s")
        command = [sys.executable, "-m", "autograde.grade_class", "rnn", "--jobs", str(args.jobs), "--no-report"]
        env = dict(os.environ, PATH=os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ["PATH"]]))
        t_parallel = timed(lambda: subprocess.run(command, cwd=parallel.root, env=env, check=True,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        print(f"python -m autograde.grade_class ({args.jobs} jobs): {t_parallel:7.1f} s")
        same = scores(serial) == scores(parallel)
        print(f"identical scores: {same} ({len(scores(serial))} grades)")
        print(f"speed-up: {t_serial / t_parallel:.2f}x (load average now {os.getloadavg()[0]:.1f})")
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
