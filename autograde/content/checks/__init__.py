"""Hidden checks, one module per notebook. Each hidden test cell calls one function here
with the student's function, e.g. ``nb01.rnn_step_forward_values(rnn_step_forward)``."""
