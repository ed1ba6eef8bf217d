"""Instructor side of the course, never shipped to students. Three layers, each importing only
the ones before it:

* ``autograde.content``: what is graded and how it is judged: the reference solution, the
  hidden checks, the mistake catalogue, reading and writing the course's notebooks;
* ``autograde.runtime``: what runs under nbgrader: the kernels' sandbox and limits, the judge
  that runs hidden checks on the student's functions, and nbgrader's plugins (sanitizing,
  feedback, export);
* ``autograde.grading``: a whole class graded on Dask, the course's commands and the report.

``autograde.demo`` and ``autograde.grade_class`` are the programs on top.
"""
