"""What runs under nbgrader while a submission is graded (``nbgrader_config.py`` names these classes).

* ``kernels``: the kernel's limits (``limits``), its bubblewrap sandbox (``sandbox``), the warm
  parent that forks kernels inside it (``warm_parent``), and the audit hook that records what
  the submission tried (``audit_hook``);
* ``judge``: the Execute preprocessor (``execute``) that runs each hidden check in the grader on
  the student's functions, called in the kernel (``remote`` in the grader, ``probe`` in the
  kernel, over ``wire``);
* ``plugins``: nbgrader's other steps: sanitizing a submission (``repair``), nbgrader's file copy
  (``nbgrader_files``), feedback pages (``feedback``), the grade export (``export``);
* ``nbgrader_cli``: nbgrader's command line, faster to start;
* ``pinned``: the private and undocumented parts of the pinned libraries that this relies on, and why
  (``tests/test_pinned_libraries.py`` checks each).
"""
