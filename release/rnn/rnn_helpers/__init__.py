"""Helpers shared by the notebooks of this assignment.

You do not need to edit these files. They hold the plumbing that every notebook uses, so that
each notebook can stay about its own idea. ``from rnn_helpers import NAME`` finds every name
below; a helper that needs a function you write takes yours as an argument: nothing here holds
the answer to an exercise.

loading.py: the corpus, and your functions from earlier notebooks
    NOTEBOOK_FOLDER            the notebooks' folder, where this package sits
    load_names                 the names corpus (names.txt), a list of lower-case names
    load_functions             your functions from an earlier notebook's saved file (its answer cells, never its tests)
    is_written                 False while a function is still the release's stub
    parts_written              whether a function's visible checks can run: its earlier parts are written
    functions_ready            whether every given function is written (a note names those that are not)
    changed_since_loaded_note  what load_functions says when a notebook changed since it was last loaded
numerics.py: checking your work numerically
    rel_error                  the largest relative error between two arrays
    numerical_gradient         centred finite differences of a function at an array
figures.py: what the interactive figures share
    LiveFigure                 one matplotlib figure in an ipywidgets.Image, redrawn in place
nb01_cell_forward.py
    draw_unrolled_rnn          the network unrolled in time
nb02_batched_softmax.py
    plot_exp_range             where exp(x) is finite in float64
nb03_label_shift.py
    BOUNDARY_MARK              how the boundary token "\\n" is shown
    decode                     ids as a string of characters
    print_batch                a batch's arrays printed column by column
    plot_char_grid             an (N, T) array of ids as a grid of characters
nb04_cross_entropy.py
    plot_learning_rate_sweep   final loss against the learning rate, per scaling of the gradient
nb05_bptt.py
    draw_bptt_junction         the backward pass unrolled: two gradients meet at every h_t
    bptt_last_step_apart       BPTT with the last step done by your rnn_step_backward alone
    step_backward_is_right     whether your rnn_step_backward matches numerical gradients
nb06_vanishing_exploding.py: the sliders
    ImpulseExplorer            the w slider over your impulse_response
    GradientNormExplorer       the spectral-radius slider over your hidden_gradient_norms
    gradient_flow_setup        the weights and inputs of that slider, and of 08's comparison with the LSTM
    impulse_explorer           ImpulseExplorer, or its first picture while nbgrader grades
    gradient_norm_explorer     GradientNormExplorer, or its first picture while nbgrader grades
nb06_recall_task.py: learning fails on long lags
    lag_task_batch             a batch of the recall task: (inputs, targets, mask)
    lag_task_ready             whether the functions the lag experiments call are written
    train_on_lag               a tanh RNN trained on the recall task at one lag, with your functions
    lag_sweep                  train_on_lag for every lag, clipping threshold and seed
    lag_run_table              every run of a sweep as text
    plot_lag_accuracy          test accuracy against the lag
    plot_clipping_rescue       loss and gradient norm of a run without and with clipping
    LagExplorer                a slider over the lags of a sweep
    lag_explorer               LagExplorer, or its first picture while nbgrader grades
nb07_char_rnn.py
    TrainingMonitor            a progress line and a live loss curve for a training loop
    softmax_works_on_a_vector  whether your softmax handles a single vector of logits
nb08_lstm.py: the cell, and your parts' readiness
    draw_lstm_cell             the LSTM cell in the course's row form
    lstm_parts_ready           whether the visible checks of an LSTM function can rely on your earlier ones
nb08_lstm_diagnosis.py
    lstm_step_backward_diagnosis  the mistake in your lstm_step_backward, as a sentence
    lstm_backward_diagnosis       the mistake in your lstm_backward, as a sentence
nb08_lstm_gradient_flow.py: why gating fixes vanishing gradients
    lstm_hidden_gradient_norms ||dL/dh_t|| through your LSTM
    LstmGradientExplorer       the forget-bias slider: your LSTM next to your vanilla RNN
    forget_bias_vector         an LSTM bias b (4H,), zero except the forget gate's block
    lstm_gradient_explorer     LstmGradientExplorer, or its first picture while nbgrader grades
nb08_lstm_recall.py: the recall task learned by your LSTM
    lstm_loss_and_gradients    your loss_and_gradients of 05, running your LSTM
    lstm_lag_sweep             your LSTM on the recall task for every lag, forget bias and seed
    lag_accuracy_table         test accuracies as text, one row per model
    lag_steps_table            steps trained as text, one row per model
    plot_lag_comparison        test accuracy against the lag, one curve per model
"""
from .loading import (NOTEBOOK_FOLDER, changed_since_loaded_note, functions_ready, is_written, load_functions,
                      load_names, parts_written)
from .numerics import numerical_gradient, rel_error
from .figures import LiveFigure
from .nb01_cell_forward import draw_unrolled_rnn
from .nb02_batched_softmax import plot_exp_range
from .nb03_label_shift import BOUNDARY_MARK, decode, plot_char_grid, print_batch
from .nb04_cross_entropy import plot_learning_rate_sweep
from .nb05_bptt import bptt_last_step_apart, draw_bptt_junction, step_backward_is_right
from .nb06_vanishing_exploding import (GradientNormExplorer, ImpulseExplorer, gradient_flow_setup, gradient_norm_explorer,
                                       impulse_explorer)
from .nb06_recall_task import (LagExplorer, lag_explorer, lag_run_table, lag_sweep, lag_task_batch, lag_task_ready,
                               plot_clipping_rescue, plot_lag_accuracy, train_on_lag)
from .nb07_char_rnn import TrainingMonitor, softmax_works_on_a_vector
from .nb08_lstm import draw_lstm_cell, lstm_parts_ready
from .nb08_lstm_diagnosis import lstm_backward_diagnosis, lstm_step_backward_diagnosis
from .nb08_lstm_gradient_flow import (LstmGradientExplorer, forget_bias_vector, lstm_gradient_explorer,
                                      lstm_hidden_gradient_norms)
from .nb08_lstm_recall import (lag_accuracy_table, lag_steps_table, lstm_lag_sweep, lstm_loss_and_gradients,
                               plot_lag_comparison)
