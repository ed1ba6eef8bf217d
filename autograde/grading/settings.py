"""What a ``grade-class`` run is told: ``GradingSettings``, read from the course's ``nbgrader_config.py``.

Every limit a submission is graded under is read from the course's config, the file stock
``nbgrader autograde`` reads, so both grade one submission under the same limits; where the
config does not set one, the value is the default of the trait that enforces it (one default,
in ``autograde/runtime``). The one limit of ``grade-class`` alone, the time a grading process
may take for one student, is ``c.GradeClass.student_time_limit`` (minutes). Command-line flags
override a value for one run (``GradingSettings.from_config(root, memory_limit=..., ...)``).
"""
import dataclasses
import pathlib

from traitlets import Integer
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader

from autograde.runtime.judge.execute import GradedExecute
from autograde.runtime.kernels.limits import LimitedExecute, LimitedKernelManager
from autograde.runtime.kernels.sandbox import SandboxedKernelManager
from nbgrader.preprocessors import Execute


class GradeClass(Configurable):
    """The settings of ``grade-class`` that stock nbgrader has no use for (``c.GradeClass`` in nbgrader_config.py)."""

    student_time_limit = Integer(20, help="Minutes a grading process may take for one student (all its notebooks, "
                                          "nbgrader's own steps and a second attempt when nbgrader fails); past "
                                          "it, the process and its kernels are killed and the student listed as "
                                          "ungraded with the reason.").tag(config=True)


# (field, configurable class, trait): where each limit is set in nbgrader_config.py
LIMITS = (
    ("cell_timeout", Execute, "timeout"),                                  # seconds per cell
    ("memory_limit", LimitedKernelManager, "memory_limit"),                # bytes of address space per kernel; 0: none
    ("submission_time_limit", GradedExecute, "submission_time_limit"),     # seconds for a submission's notebooks
    ("output_limit", LimitedExecute, "output_limit"),                      # characters of printed text per cell
    ("output_bytes_limit", LimitedExecute, "output_bytes_limit"),          # bytes of one display
    ("notebook_bytes_limit", LimitedExecute, "notebook_bytes_limit"),      # bytes of a notebook's outputs
    ("max_processes", SandboxedKernelManager, "max_processes"),            # processes of a kernel's sandbox
    ("student_time_limit", GradeClass, "student_time_limit"),              # minutes per grading process
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GradingSettings:
    """One run of ``grade-class``: which students, where they are graded, where the results go, and the limits."""

    students: tuple = ("*",)        # shell patterns of student ids
    jobs: int = None                # worker processes of the local cluster; None: one per core
    scheduler: str = None           # address of an existing Dask scheduler; None: a local cluster
    retries: int = 2                # times a student is graded again after its worker died
    db_url: str = None              # the course gradebook; None: c.CourseDirectory.db_url of the config
    report_dir: pathlib.Path = None  # None: reports/<assignment>/ of the course
    report: bool = True             # write report.html
    quiet: bool = False             # print nothing but errors
    workdir: pathlib.Path = None    # scratch folder of the command; None: a temporary one, removed at the end
    restart: bool = False           # grade everyone again, even after a run that was stopped
    cell_timeout: int
    memory_limit: int
    submission_time_limit: int
    output_limit: int
    output_bytes_limit: int
    notebook_bytes_limit: int
    max_processes: int
    student_time_limit: int

    @classmethod
    def from_config(cls, course_root, **overrides):
        """The settings of the course at ``course_root``: its limits from its ``nbgrader_config.py``, anything in
        ``overrides`` (a field's name; None leaves the config's value) in their place."""
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
        limits = {}
        for field, configurable, trait in LIMITS:
            section = config[configurable.__name__] if configurable.__name__ in config else {}
            value = section[trait] if trait in section else configurable.class_traits()[trait].default_value
            limits[field] = int(value or 0)
        given = {name: value for name, value in overrides.items() if value is not None}
        if "students" in given:
            given["students"] = tuple(given["students"])
        return cls(**{**limits, **given})

    def student_seconds(self):
        """The time a grading process may take for one student, in seconds."""
        return 60 * self.student_time_limit

    def kernel_limits(self):
        """The limits a grading process sets in the course's config: {(section, trait): value}."""
        return {(configurable.__name__, trait): getattr(self, field) for field, configurable, trait in LIMITS
                if configurable is not GradeClass}
