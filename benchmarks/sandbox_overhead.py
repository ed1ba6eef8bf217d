"""What the grading sandbox and the trusted judge cost: stock `nbgrader autograde` of the same
submissions in three ways, alternating, on a scratch copy of the course (notebooks 01, 05 and
07, solution submissions):

* "course": the course's configuration (sandboxed kernels, hidden checks judged in the grader's
  process, calling the student's functions in the kernel: autograde.runtime.judge.remote);
* "judge in kernel": the hidden checks run inside the sandboxed kernel
  (`--GradedExecute.judge_in_grader=False`), as before the trusted judge;
* "unsandboxed": that, without the sandbox (`--SandboxedKernelManager.sandbox=False`);
* "warm": the course's configuration with kernels forked from a warm parent in the student's
  sandbox (`--SandboxedKernelManager.warm_start=True`, what grade-class turns on).

    python benchmarks/sandbox_overhead.py [--students 4] [--rounds 2]

Prints seconds per graded notebook for each, the trusted judge's ratio (course / judge in kernel)
the sandbox's (judge in kernel / unsandboxed) and the warm parent's (warm / course).
"""
import argparse
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from autograde.grading.course import Course  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ("01_cell_forward", "05_bptt", "07_char_rnn")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4, help="submissions graded per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each kind, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = Course.copy_of(REPO, pathlib.Path(tmp) / "course")
        course.generate()
        for i in range(args.students):
            course.write_submission(f"s{i:02d}")
            autograded = course.folder("autograded", f"s{i:02d}")  # what 05 loads from 01-04
            autograded.mkdir(parents=True)
            for path in course.folder("submitted", f"s{i:02d}").glob("*.ipynb"):
                if path.stem not in NOTEBOOKS:
                    (autograded / path.name).write_bytes(path.read_bytes())
        pattern = "0[157]_*"
        in_kernel = ["--GradedExecute.judge_in_grader=False"]
        kinds = (("course", []), ("judge in kernel", in_kernel),
                 ("unsandboxed", in_kernel + ["--SandboxedKernelManager.sandbox=False"]),
                 ("warm", ["--SandboxedKernelManager.warm_start=True"]))
        seconds = {kind: [] for kind, _ in kinds}
        for _ in range(args.rounds):
            for kind, extra in kinds:
                start = time.perf_counter()
                course.nbgrader("autograde", "rnn", "--force", "--student=s*", f"--notebook={pattern}", *extra)
                seconds[kind].append((time.perf_counter() - start) / (args.students * len(NOTEBOOKS)))
        best = {kind: min(values) for kind, values in seconds.items()}
        for kind, value in best.items():
            print(f"{kind:16s} {value:.2f} s per graded notebook (best of {args.rounds})")
        print(f"ratio sandbox (judge in kernel / unsandboxed): {best['judge in kernel'] / best['unsandboxed']:.2f}")
        print(f"ratio trusted judge (course / judge in kernel): {best['course'] / best['judge in kernel']:.2f}")
        print(f"ratio warm parent (warm / course): {best['warm'] / best['course']:.2f}")


if __name__ == "__main__":
    main()
