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

import autograde.runtime.nbgrader_cli  # noqa: F401  (first: it leaves out a grammar nbformat never uses)
from autograde.grading.course import Course, write_feedback
from autograde.grading import GradingSettings, grade_class
from autograde.grading.engine import Engine
from autograde.grading.samples import sample_class


def main(root="."):
    course = Course(root)
    started = time.monotonic()
    # one process writes every student's feedback, each as soon as the student is in the gradebook, at
    # the lowest CPU priority: it takes only what grading leaves idle (forked first, before any thread)
    with course.feedback_writer(nice=19) as feedback:
        students = sample_class()
        jobs = min(len(os.sched_getaffinity(0)), len(students))
        engine = Engine(jobs=jobs)
        release(course, students, engine)
        print(f"3. grade-class rnn --students 'sample-*'  (nbgrader's autograde for {len(students)} students in "
              f"parallel, on a local Dask cluster of {jobs} worker processes; SQLite gradebook: gradebook.db)", flush=True)
        graded = time.monotonic()
        writing = []

        def begin_feedback(student, result):
            if result.graded:
                writing.append(feedback.submit(write_feedback, student))

        grade_class(course.root, "rnn", GradingSettings.from_config(course.root, students=["sample-*"]),
                    on_merged=begin_feedback, engine=engine)
        print(f"   graded in {time.monotonic() - graded:.0f} s")
        print("4. nbgrader generate_feedback rnn for each student  ->  feedback/<student>/rnn/*.html  (through "
              "nbgrader's API, in one process, begun for each student once graded)", flush=True)
        for done in writing:
            done.result()
    print(f"   all written {time.monotonic() - graded:.0f} s after grading began")
    pages = sorted(pathlib.Path(course.root, "feedback").glob("sample-*/rnn/*.html"))
    print(f"\nFeedback for students: {len(pages)} HTML files, e.g. {pages[0].relative_to(course.root)}")
    print(f"The demo took {time.monotonic() - started:.0f} s.")


def release(course, students, engine):
    """Steps 1 and 2, while the local Dask cluster starts (its workers import nbgrader)."""
    with concurrent.futures.ThreadPoolExecutor(1) as starter:
        starting = starter.submit(engine.start)
        try:
            print("1. nbgrader generate_assignment rnn  ->  release/rnn/", flush=True)
            course.generate(in_process=True)
            print(f"2. writing {len(students)} sample submissions into submitted/")
            for student, how in students:
                course.write_submission(student, **how)
                print(f"   {student}")
            starting.result()
        except BaseException:
            concurrent.futures.wait([starting])
            engine.close()
            raise


if __name__ == "__main__":
    main(*sys.argv[1:])
