"""``python -m autograde.grade_class rnn``: the ``grade-class`` command (see ``autograde.grading``)."""
import sys

from autograde.grading import GradingError, GradingSettings, Interrupted, StudentResult, grade_class, main

__all__ = ["GradingError", "GradingSettings", "Interrupted", "StudentResult", "grade_class", "main"]

if __name__ == "__main__":
    sys.exit(main())
