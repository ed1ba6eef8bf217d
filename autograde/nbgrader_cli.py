"""``python -m autograde.nbgrader_cli ARGS``: nbgrader's command line, 2.5 s faster to start.

jsonschema (under nbformat) imports ``rfc3987_syntax`` when it is installed (jupyter-events asks
for it), and that module builds a grammar at import, about 2.5 s of CPU in every process that
reads a notebook; nbformat never checks the IRI formats it serves. The processes this project
starts (``autograde.course.Course.nbgrader``, the grading processes of ``grade-class``) go
without it; everything else is nbgrader's own ``main``.
"""
import sys

sys.modules.setdefault("rfc3987_syntax", None)  # before anything imports jsonschema


def main():
    from nbgrader.apps.nbgraderapp import main as nbgrader_main
    nbgrader_main()


if __name__ == "__main__":
    main()
