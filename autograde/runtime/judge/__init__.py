"""Hidden checks judged in the grader on what the student's kernel returns."""
