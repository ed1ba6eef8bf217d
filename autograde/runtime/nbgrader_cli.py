"""``python -m autograde.runtime.nbgrader_cli ARGS``: nbgrader's command line, faster to start and to make a gradebook.

jsonschema (under nbformat) imports ``rfc3987_syntax`` when it is installed (jupyter-events asks
for it), and that module builds a grammar at import, seconds of CPU in every process that
reads a notebook; nbformat never checks the IRI formats it serves. The processes this project
starts (``autograde.grading.course.Course.nbgrader``, the grading processes of ``grade-class``) go
without it.

When nbgrader creates a gradebook, it asks the ``alembic`` executable for the newest revision
of its migration scripts, to stamp the new database: a second Python process that imports
nbgrader again, for seconds. ``alembic_head`` reads the same revision from the same scripts in
this process; ``stamp_in_process()`` makes nbgrader use it (here, and for grade-class's
template course). Everything else is nbgrader's own ``main``. Both rely on what jsonschema and nbgrader
do (``autograde.runtime.pinned``).
"""
import sys

sys.modules.setdefault("rfc3987_syntax", None)  # before anything imports jsonschema


def alembic_head():
    """The head revision of nbgrader's migration scripts: what `alembic heads` prints first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def stamp_in_process():
    """Make nbgrader stamp new gradebooks with ``alembic_head`` instead of running `alembic heads`."""
    import nbgrader.api
    nbgrader.api.get_alembic_version = alembic_head


def main():
    from nbgrader.apps.nbgraderapp import main as nbgrader_main
    stamp_in_process()
    nbgrader_main()


if __name__ == "__main__":
    main()
