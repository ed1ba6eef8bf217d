"""The sample class of the demo: what a completed, a blank and a mistaken submission look like."""
from autograde.content import mistakes

# Catalogue entries the demo shows as typical mistakes (one student each).
DEMO_MISTAKES = ["rnn_step_forward_whh_transposed", "softmax_over_batch_axis", "shift_labels_batch_axis",
                 "rnn_backward_junction_missing"]


def replace_for(entry):
    """The answer-cell override that injects a catalogue entry into a submission."""
    return {entry.notebook: {entry.function: entry.source()}}


def sample_class():
    """[(student id, keyword arguments of Course.write_submission)] for the demo."""
    students = [("sample-solution", {}), ("sample-blank", {"blank": True})]
    for mistake_id in DEMO_MISTAKES:
        entry = mistakes.get(mistake_id)
        students.append((f"sample-{mistake_id.replace('_', '-')}", {"replace": replace_for(entry)}))
    return students
