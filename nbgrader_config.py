"""nbgrader configuration of the course. Paths are relative to this folder (the course root)."""
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

# nbgrader copies a submission's files following symbolic links, and stops at a named pipe: with this,
# it copies regular files only (autograde/runtime/plugins/nbgrader_files.py). Without the course's package (a student's
# own machine), nothing is graded here anyway.
try:
    import autograde.runtime.plugins.nbgrader_files  # noqa: F401
except ImportError:
    pass

c.CourseDirectory.course_id = "rnn-from-scratch"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What a student sees in an answer cell of the release.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every cell of a submission gets at most this long; an infinite loop costs that cell, not the class.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# ... and all the notebooks of one submission this long in all (10 minutes; a correct one takes well under
# one): past it, the cells not yet run score 0. A function that ran past a cell's limit once fails its later
# calls at once. Used by `nbgrader autograde` and grade-class alike.
c.GradedExecute.submission_time_limit = 600
# grade-class only: a student's grading process (the notebooks, nbgrader's own steps, a second attempt when
# nbgrader fails) still running after this many minutes is killed with its kernels, the student listed as
# ungraded with the reason (autograde.grading.settings.GradeClass).
c.GradeClass.student_time_limit = 20

# What a grading kernel (autograde.runtime.kernels.sandbox.SandboxedKernelManager) may use: memory (the address space of the
# kernel, which the tmpfs below count against: 4 GiB in all), its writable /tmp, copy of its notebook
# folder and /dev/shm (tmpfs in the host's memory: 512 MiB in all), CPU time, file size, processes.
c.LimitedKernelManager.memory_limit = 4 * 2**30
c.SandboxedKernelManager.tmp_size = 256 * 2**20
c.SandboxedKernelManager.folder_size = 224 * 2**20
c.SandboxedKernelManager.shm_size = 32 * 2**20
c.SandboxedKernelManager.cpu_seconds = 600
c.SandboxedKernelManager.file_size = 100 * 2**20
c.SandboxedKernelManager.max_processes = 512
# A kernel sees only the system's libraries, the Python environment and its own folder; a course whose
# notebooks read a data folder outside their own names it here (read-only), e.g. ["/srv/data/names"].
c.SandboxedKernelManager.read_only_paths = []
# The grader reads at most this much of one reply from a kernel (a function's output), and runs under its
# own memory cap, so that no submission can exhaust the grading host.
c.GradedExecute.reply_limit = 64 * 2**20
c.GradedExecute.grader_memory_limit = 8 * 2**30

# Autograding: nbgrader's own steps, with autograde.runtime.judge.execute.GradedExecute in place of Execute. It runs
# each test cell's hidden check before its visible asserts and lets only the hidden check decide the
# cell's points (a warning or a comparison with the student's own earlier parts costs nothing), in
# kernels with a memory cap (autograde.runtime.kernels.limits; c.LimitedKernelManager.memory_limit, in bytes).
# Sanitizing a submission before it runs: autograde.runtime.plugins.repair.RestoreCellMetadata first makes every cell's
# nbgrader metadata that of the released cell (a duplicated or renamed test cell, or an answer cell marked
# as graded, costs only what it touches instead of the whole notebook), and nbgrader puts back a test cell
# the student renamed or deleted. autograde.runtime.plugins.repair.CheckCellMetadata (here and below) is nbgrader's
# CheckCellMetadata with the same verdicts, its JSON schema checked once instead of once per cell.
# autograde.runtime.plugins.repair.DropOversized runs before them: a notebook is graded on its cells' sources, so an
# attachment, stored output or metadata entry of the submitted file over item_bytes_limit, or past
# notebook_bytes_limit for them all, is dropped with a note at the top of the notebook (a 160 MB pasted
# screenshot is not copied into the autograded notebook and the feedback page; the notebook is graded).
c.DropOversized.item_bytes_limit = 5 * 2**20
c.DropOversized.notebook_bytes_limit = 20 * 2**20
c.Autograde.sanitize_preprocessors = [
    "autograde.runtime.plugins.repair.RefuseLinks",  # a notebook submitted as a symbolic link is graded as empty
    "autograde.runtime.plugins.repair.DropOversized",
    "autograde.runtime.plugins.repair.RestoreCellMetadata",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograde.runtime.plugins.repair.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True

# What grading displays is capped as it arrives (autograde.runtime.kernels.limits.LimitedExecute): printed text per cell
# (output_limit, characters), each image, HTML, JSON or other display, error or widget state
# (output_bytes_limit), and all the outputs and widget state of one autograded notebook together
# (notebook_bytes_limit); what is over a cap is replaced by a note saying what was cut and how big it was.
c.LimitedExecute.output_limit = 100_000
c.LimitedExecute.output_bytes_limit = 5 * 2**20
c.LimitedExecute.notebook_bytes_limit = 20 * 2**20

c.Autograde.autograde_preprocessors = [
    "autograde.runtime.judge.execute.GradedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "autograde.runtime.plugins.repair.CheckCellMetadata",
]


# Feedback for students (`nbgrader generate_feedback`): nbgrader's own preprocessors, then
# autograde.runtime.plugins.feedback.RedactHiddenTests, which removes hidden-test source and tracebacks that
# could quote it, keeping each check's name, points and message.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograde.runtime.plugins.feedback.RedactHiddenTests",
]
# the pages themselves: nbconvert's HTML exporter without its second parse of every page
c.GenerateFeedback.exporter_class = "autograde.runtime.plugins.feedback.FeedbackExporter"

# Grades out (`nbgrader export`): nbgrader's grades.csv and, beside it, canvas_grades.csv for Canvas's
# gradebook import (autograde.runtime.plugins.export.CanvasExport: one column per notebook, or "total" for one per
# assignment; the student id in Canvas's SIS Login ID column). nbgrader's file alone:
# `nbgrader export --exporter=nbgrader.plugins.CsvExportPlugin`.
c.ExportApp.plugin_class = "autograde.runtime.plugins.export.CanvasExport"
c.CanvasExport.columns = "notebooks"
c.CanvasExport.student_id_column = "SIS Login ID"
