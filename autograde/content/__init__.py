"""The course's content on the grader's side: the solution, the hidden checks and the mistake catalogue.

Nothing here knows about nbgrader's runtime or kernels: a check is a function of the student's
function, which it calls (``checking``), compares with ``solution`` and explains with
``mistakes``. ``notebooks`` reads, writes and authors the course's notebooks.
"""
