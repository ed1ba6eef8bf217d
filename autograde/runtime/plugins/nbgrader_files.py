"""nbgrader's copy of a submission's files, regular files only.

Before it grades a submission, nbgrader copies the student's files other than notebooks into the
autograded folder: ``nbgrader.utils.find_all_files`` lists them, ``shutil.copy`` copies each. That
copy follows symbolic links (a file linked to the course's source notebook would arrive with the
instructor's solution in it), and stops the whole submission at a named pipe (``shutil`` refuses to
read one). The course's ``nbgrader_config.py`` imports this module, which makes nbgrader's listing
leave out everything that is not a regular file: links, pipes, sockets and devices are never read.
(Notebooks are read by nbgrader itself; ``autograde.runtime.plugins.repair.RefuseLinks`` grades a linked one as empty.)

This replaces a function of nbgrader's (in ``nbgrader.utils`` and where ``nbgrader.converters.base``
imported it: ``autograde.runtime.pinned``, "file copy"); ``tests/test_pinned_libraries.py`` fails if the
pinned nbgrader stops copying through it.
"""
import os
import stat

from nbgrader import utils
from nbgrader.converters import base

_nbgraders_find_all_files = utils.find_all_files


def regular_files(path, exclude=None):
    """nbgrader's ``find_all_files(path, exclude)``, without what is not a regular file."""
    found = []
    for filename in _nbgraders_find_all_files(path, exclude):
        try:
            if stat.S_ISREG(os.lstat(filename).st_mode):
                found.append(filename)
        except OSError:
            pass
    return found


utils.find_all_files = base.find_all_files = regular_files
