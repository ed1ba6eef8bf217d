"""``grade-class`` answers bad input in one line saying what to fix, exit status 2, no traceback.

Every check here fails before anything is graded, so a course of one empty submission is enough.
"""
import shutil
import socket
import subprocess
import sys

import pytest

from autograde.grading import engine
from autograde.grading.cli import main
from autograde.grading.template import GradingError
from tests.conftest import REPO


@pytest.fixture
def course(tmp_path):
    """A course root with the assignment's source folder and one (empty) submission."""
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    (tmp_path / "source" / "rnn").mkdir(parents=True)
    (tmp_path / "submitted" / "alice" / "rnn").mkdir(parents=True)
    return tmp_path


def closed_port():
    """A local TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line_error(capsys, argv):
    """Run the command in this process; its stderr, asserted to be one line, and nothing on stdout."""
    with pytest.raises(SystemExit) as stopped:
        sys.exit(main(argv))
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("grade-class: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, says", [
    (["--memory", "lots"], "--memory: 'lots' is not a size: give a number of bytes with a unit, e.g. 2G"),
    (["--memory", "1.5X"], "'1.5X' is not a size"),
    (["--timeout", "soon"], "--timeout: 'soon' is not a whole number of at least 1"),
    (["--timeout", "-5"], "--timeout: '-5' is not a whole number of at least 1"),
    (["--jobs", "0"], "--jobs: '0' is not a whole number of at least 1"),
    (["--retries", "-1"], "--retries: '-1' is not a whole number of at least 0"),
    (["--student-timeout", "0"], "--student-timeout: '0' is not a whole number"),
    (["--scheduler", "head-node"], "'head-node' is not a Dask scheduler's address: give it as dask scheduler prints it"),
    (["--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_bad_values_are_one_line(capsys, course, argv, says):
    err = one_line_error(capsys, ["--root", str(course), *argv])
    assert says in err and err.rstrip().endswith("(see grade-class --help)")


def test_sizes_that_parse():
    from autograde.grading.cli import parse_bytes
    assert [parse_bytes(t) for t in ("2G", "512M", "2.5GiB", "1024", "0", "none")] == \
        [2 * 2**30, 512 * 2**20, int(2.5 * 2**30), 1024, 0, 0]


def test_unreachable_gradebooks(capsys, course):
    port = closed_port()
    err = one_line_error(capsys, ["--root", str(course), "--db", f"postgresql://me:secret@127.0.0.1:{port}/gradebook"])
    assert f"cannot open the gradebook postgresql://me:***@127.0.0.1:{port}/gradebook (--db)" in err
    assert "Connection refused" in err and "secret" not in err
    err = one_line_error(capsys, ["--root", str(course), "--db", f"sqlite:///{course}/missing/gradebook.db"])
    assert f"the folder {course}/missing does not exist" in err
    assert "is not a database URL" in one_line_error(capsys, ["--root", str(course), "--db", "gradebook.db"])
    assert "needs the database driver 'MySQLdb'" in one_line_error(capsys, ["--root", str(course), "--db",
                                                                             "mysql://me@db-host/gradebook"])
    # the URL of nbgrader_config.py is checked as well, and named as the one to fix
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = 'postgresql://me@127.0.0.1:{port}/gradebook'\n")
    assert "(c.CourseDirectory.db_url of nbgrader_config.py)" in one_line_error(capsys, ["--root", str(course)])


def test_unknown_assignment_and_missing_course(capsys, course, tmp_path_factory):
    err = one_line_error(capsys, ["--root", str(course), "lstm"])
    assert f"no assignment 'lstm' in {course}/source/ (this course's assignments: rnn)" in err
    err = one_line_error(capsys, ["--root", str(tmp_path_factory.mktemp("empty"))])
    assert "is not a course root: it has no nbgrader_config.py" in err


def test_unreachable_scheduler(monkeypatch):
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", "1s")
    address = f"tcp://127.0.0.1:{closed_port()}"
    with pytest.raises(GradingError, match=f"cannot reach the Dask scheduler at {address} .*start it there with"):
        engine.Engine(scheduler=address).start()


def test_the_command_itself(course):
    """The installed entry point, in its own process: status 2 and one line, as in-process."""
    done = subprocess.run([sys.executable, "-m", "autograde.grade_class", "--root", str(course), "--memory", "lots"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["grade-class: argument --memory: 'lots' is not a size: give a number of bytes "
                                        "with a unit, e.g. 2G or 512M, or 0 for no cap (see grade-class --help)"]
