"""Instructor side of the course: the solution module, the hidden checks, the mistake
catalogue, sample submissions and the grading commands. Never shipped to students."""
