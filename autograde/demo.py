"""The instructor demo: release the assignment, grade a sample class with grade-class, print the grades.

Run from the course root (``python -m autograde.demo``; the README's first command
sets up the environment and runs this). Safe to run twice: it rewrites only the
sample students' folders and grades them again.
"""
import concurrent.futures
import os
import pathlib
import sys
import time

from autograde.course import Course
from autograde.grading import grade_class
from autograde.samples import sample_class


def main(root="."):
    course = Course(root)
    started = time.monotonic()
    print("1. nbgrader generate_assignment rnn  ->  release/rnn/", flush=True)
    course.generate()
    students = sample_class()
    print(f"2. writing {len(students)} sample submissions into submitted/")
    for student, how in students:
        course.write_submission(student, **how)
        print(f"   {student}")
    cores = len(os.sched_getaffinity(0))
    print(f"3. grade-class rnn --students 'sample-*'  (nbgrader's autograde for {len(students)} students in parallel, "
          f"on a local Dask cluster of {min(cores, len(students))} worker processes; SQLite gradebook: gradebook.db)",
          flush=True)
    graded = time.monotonic()
    grade_class(course.root, students=["sample-*"])
    print(f"   graded in {time.monotonic() - graded:.0f} s")
    print("4. nbgrader generate_feedback rnn  ->  feedback/<student>/rnn/*.html", flush=True)
    feedback_started = time.monotonic()
    # nbgrader writes feedback one notebook after another (about a second each, most of it nbconvert's
    # HTML); one nbgrader process per core, each for some of the students
    with concurrent.futures.ThreadPoolExecutor(cores) as pool:
        list(pool.map(course.feedback, [student for student, _ in students]))
    print(f"   written in {time.monotonic() - feedback_started:.0f} s")
    feedback = sorted(pathlib.Path(course.root, "feedback").glob("sample-*/rnn/*.html"))
    print(f"\nFeedback for students: {len(feedback)} HTML files, e.g. {feedback[0].relative_to(course.root)}")
    print(f"The demo took {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main(*sys.argv[1:])
