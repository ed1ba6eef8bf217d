"""autograde.runtime.nbgrader_cli: nbgrader's command line, stamping new gradebooks without an `alembic` process."""
import pathlib
import sqlite3
import subprocess
import sys

import pytest
from nbgrader.dbutil import _temp_alembic_ini

from autograde.grading.course import Course
from autograde.runtime.nbgrader_cli import alembic_head
from tests.conftest import REPO


@pytest.mark.slow  # an `alembic` process, and nbgrader generate_assignment
def test_new_gradebooks_are_stamped_with_the_revision_alembic_prints(tmp_path):
    # nbgrader's own way: `alembic heads` on its migration scripts, in a process of its own
    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'unused.db'}") as ini:
        printed = subprocess.run([str(pathlib.Path(sys.executable).parent / "alembic"), "-c", ini, "heads"],
                                 check=True, capture_output=True, text=True).stdout
    assert alembic_head() == printed.split()[0]
    course = Course.copy_of(REPO, tmp_path / "course")
    course.generate()  # nbgrader generate_assignment through autograde.runtime.nbgrader_cli: a new gradebook
    with sqlite3.connect(tmp_path / "course" / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(printed.split()[0],)]
