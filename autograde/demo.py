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

import autograde.nbgrader_cli  # noqa: F401  (first: it leaves out a grammar nbformat never uses, 2.5 s)
from autograde.course import Course
from autograde.grading import grade_class
from autograde.grading.engine import Engine
from autograde.samples import sample_class


def main(root="."):
    course = Course(root)
    started = time.monotonic()
    students = sample_class()
    cores = len(os.sched_getaffinity(0))
    # the local Dask cluster starts (its workers import nbgrader) while the release is generated
    engine = Engine(jobs=min(cores, len(students)))
    with concurrent.futures.ThreadPoolExecutor(1) as starter:
        starting = starter.submit(engine.start)
        try:
            print("1. nbgrader generate_assignment rnn  ->  release/rnn/", flush=True)
            course.generate()
            print(f"2. writing {len(students)} sample submissions into submitted/")
            for student, how in students:
                course.write_submission(student, **how)
                print(f"   {student}")
            starting.result()
        except BaseException:
            concurrent.futures.wait([starting])
            engine.close()
            raise
    print(f"3. grade-class rnn --students 'sample-*'  (nbgrader's autograde for {len(students)} students in parallel, "
          f"on a local Dask cluster of {min(cores, len(students))} worker processes; SQLite gradebook: gradebook.db)",
          flush=True)
    graded = time.monotonic()
    # each student's feedback (nbgrader generate_feedback: 2 s to start, then a quarter of a second a
    # notebook) is begun as soon as the student is in the gradebook, at the lowest CPU priority: it
    # takes only what grading leaves idle (while the last students are graded, the class report)
    with concurrent.futures.ThreadPoolExecutor(cores) as pool:
        writing = []

        def write_feedback(student, entry):
            if entry.get("status") == "graded":
                writing.append(pool.submit(course.feedback, student, nice=19))

        grade_class(course.root, students=["sample-*"], on_merged=write_feedback, engine=engine)
        print(f"   graded in {time.monotonic() - graded:.0f} s")
        print("4. nbgrader generate_feedback rnn --student=<each>  ->  feedback/<student>/rnn/*.html  "
              "(begun for each student once graded)", flush=True)
        for done in writing:
            done.result()
    print(f"   all written {time.monotonic() - graded:.0f} s after grading began")
    feedback = sorted(pathlib.Path(course.root, "feedback").glob("sample-*/rnn/*.html"))
    print(f"\nFeedback for students: {len(feedback)} HTML files, e.g. {feedback[0].relative_to(course.root)}")
    print(f"The demo took {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main(*sys.argv[1:])
