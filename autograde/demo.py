"""The instructor demo: release the assignment, grade a sample class, print the grades.

Run from the course root (``python -m autograde.demo``; the README's first command
sets up the environment and runs this). Safe to run twice: it rewrites only the
sample students' folders and regrades them with --force.
"""
import pathlib
import sys
import time

from autograde.course import Course
from autograde.samples import sample_class


def score_table(course, students):
    """Rows of 'student | score per notebook | total' from the gradebook."""
    names = course.notebook_names()
    header = ["student"] + [n.split("_")[0] for n in names] + ["total"]
    rows = []
    for student in students:
        per_notebook = course.scores(student)
        cells = []
        total = total_max = 0.0
        for name in names:
            score = sum(s for s, _ in per_notebook[name].values())
            most = sum(m for _, m in per_notebook[name].values())
            cells.append(f"{score:g}/{most:g}")
            total, total_max = total + score, total_max + most
        rows.append([student] + cells + [f"{total:g}/{total_max:g}"])
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main(root="."):
    course = Course(root)
    started = time.monotonic()
    print("1. nbgrader generate_assignment rnn  ->  release/rnn/")
    course.generate()
    students = sample_class()
    print(f"2. writing {len(students)} sample submissions into submitted/")
    for student, how in students:
        course.write_submission(student, **how)
        print(f"   {student}")
    print("3. nbgrader autograde rnn (SQLite gradebook: gradebook.db)")
    course.autograde("sample-*")
    print("4. nbgrader generate_feedback rnn  ->  feedback/<student>/rnn/*.html")
    course.feedback("sample-*")
    print(f"\nScores (points per notebook), {time.monotonic() - started:.0f} s:\n")
    print(score_table(course, [s for s, _ in students]))
    feedback = sorted(pathlib.Path(course.root, "feedback").glob("sample-*/rnn/*.html"))
    print(f"\nFeedback for students: {len(feedback)} HTML files, e.g. {feedback[0].relative_to(course.root)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
