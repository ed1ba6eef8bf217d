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
from autograde.runtime.kernels.sandbox import SandboxedKernelManager


class GradeClass(Configurable):
    """The settings of ``grade-class`` that stock nbgrader has no use for (``c.GradeClass`` in nbgrader_config.py)."""

    student_time_limit = Integer(20, help="Minutes a grading process may take for one student (all its notebooks, "
                                          "nbgrader's own steps and a second attempt when nbgrader fails); past "
                                          "it, the process and its kernels are killed and the student listed as "
                                          "ungraded with the reason.").tag(config=True)


# (field, configurable class, trait): where each limit is set in nbgrader_config.py. The classes are those that
# grading runs (its Execute step and kernel manager), so a value set on any class they derive from counts, as
# it does in nbgrader, and a run's override, written in the class's own section, wins over it.
LIMITS = (
    ("cell_timeout", GradedExecute, "timeout"),                              # seconds per cell
    ("memory_limit", SandboxedKernelManager, "memory_limit"),                # bytes of address space per kernel; 0: none
    ("submission_time_limit", GradedExecute, "submission_time_limit"),       # seconds for a submission's notebooks
    ("output_limit", GradedExecute, "output_limit"),                         # characters of printed text per cell
    ("output_bytes_limit", GradedExecute, "output_bytes_limit"),             # bytes of one display
    ("notebook_bytes_limit", GradedExecute, "notebook_bytes_limit"),         # bytes of a notebook's outputs
    ("max_processes", SandboxedKernelManager, "max_processes"),              # processes of a kernel's sandbox
    ("student_time_limit", GradeClass, "student_time_limit"),                # minutes per grading process
)


def configured(config, configurable, trait):
    """The value of ``configurable``'s ``trait`` under ``config``, as traitlets resolves it: the section of the
    most derived class in its MRO that sets it, else the trait's default."""
    for cls in configurable.__mro__:
        section = getattr(cls, "__name__", None)
        if section in config and trait in config[section]:
            return config[section][trait]
    return configurable.class_traits()[trait].default_value


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
            limits[field] = int(configured(config, configurable, trait) or 0)
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
