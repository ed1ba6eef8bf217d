"""nbgrader configuration of the course. Paths are relative to this folder (the course root)."""
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-from-scratch"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What a student sees in an answer cell of the release.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every cell of a submission gets at most this long; an infinite loop costs that cell, not the class.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# Autograding: nbgrader's own steps, with autograde.execute.GradedExecute in place of Execute. It runs
# each test cell's hidden check before its visible asserts and lets only the hidden check decide the
# cell's points (a warning or a comparison with the student's own earlier parts costs nothing), in
# kernels with a memory cap (autograde.sandbox; c.LimitedKernelManager.memory_limit, in bytes).
# Sanitizing a submission before it runs: autograde.repair.RestoreCellMetadata first makes every cell's
# nbgrader metadata that of the released cell (a duplicated or renamed test cell, or an answer cell marked
# as graded, costs only what it touches instead of the whole notebook), and nbgrader puts back a test cell
# the student renamed or deleted. autograde.repair.CheckCellMetadata (here and below) is nbgrader's
# CheckCellMetadata with the same verdicts, its JSON schema checked once instead of once per cell.
# autograde.repair.DropOversized runs before them: a notebook is graded on its cells' sources, so an
# attachment, stored output or metadata entry of the submitted file over item_bytes_limit, or past
# notebook_bytes_limit for them all, is dropped with a note at the top of the notebook (a 160 MB pasted
# screenshot is not copied into the autograded notebook and the feedback page; the notebook is graded).
c.DropOversized.item_bytes_limit = 5 * 2**20
c.DropOversized.notebook_bytes_limit = 20 * 2**20
c.Autograde.sanitize_preprocessors = [
    "autograde.repair.DropOversized",
    "autograde.repair.RestoreCellMetadata",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograde.repair.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True

# What grading displays is capped as it arrives (autograde.sandbox.LimitedExecute): printed text per cell
# (output_limit, characters), each image, HTML, JSON or other display, error or widget state
# (output_bytes_limit), and all the outputs and widget state of one autograded notebook together
# (notebook_bytes_limit); what is over a cap is replaced by a note saying what was cut and how big it was.
c.LimitedExecute.output_limit = 100_000
c.LimitedExecute.output_bytes_limit = 5 * 2**20
c.LimitedExecute.notebook_bytes_limit = 20 * 2**20

c.Autograde.autograde_preprocessors = [
    "autograde.execute.GradedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "autograde.repair.CheckCellMetadata",
]


# Feedback for students (`nbgrader generate_feedback`): nbgrader's own preprocessors, then
# autograde.feedback.RedactHiddenTests, which removes hidden-test source and tracebacks that
# could quote it, keeping each check's name, points and message.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograde.feedback.RedactHiddenTests",
]
# the pages themselves: nbconvert's HTML exporter without its second parse of every page
c.GenerateFeedback.exporter_class = "autograde.feedback.FeedbackExporter"
