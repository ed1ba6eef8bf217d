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
c.Autograde.sanitize_preprocessors = [
    "autograde.repair.RestoreCellMetadata",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograde.repair.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True

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

# Grades out (`nbgrader export`): nbgrader's grades.csv and, beside it, canvas_grades.csv for Canvas's
# gradebook import (autograde.export.CanvasExport: one column per notebook, or "total" for one per
# assignment; the student id in Canvas's SIS Login ID column). nbgrader's file alone:
# `nbgrader export --exporter=nbgrader.plugins.CsvExportPlugin`.
c.ExportApp.plugin_class = "autograde.export.CanvasExport"
c.CanvasExport.columns = "notebooks"
c.CanvasExport.student_id_column = "SIS Login ID"
