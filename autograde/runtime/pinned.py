"""Private parts of libraries we rely on: every place ``autograde`` overrides, replaces or reads something of
a pinned library that is private (a leading underscore) or undocumented. One entry each: the library, the
name, what we assume of it, why we need it. ``tests/test_pinned_libraries.py`` has a test per entry, named
after it, that fails when an upgrade stops behaving as assumed (run it after changing a pin).

jupyter_client
--------------
launch
    ``KernelManager._async_pre_start_kernel(**kw)`` and ``_async_launch_kernel(kernel_cmd, **kw)``
    (overridden by ``kernels.limits.LimitedKernelManager`` and ``kernels.sandbox.SandboxedKernelManager``).
    Assumed: ``start_kernel`` calls both by these names, with the caller's ``cwd`` and ``env`` in ``kw``, and
    the local provisioner passes ``kw`` on to ``subprocess.Popen``. Why: the only place to run code in the
    kernel's process before it executes (resource limits, joining its cgroup), to wrap its command in
    bubblewrap with the evidence descriptor passed, and to move its sockets to the ``ipc`` transport in a
    folder it shares with the grader.
parent pid
    ``jupyter_client.launcher`` sets ``JPY_PARENT_PID`` to the grader's pid in the environment it hands
    to ``Popen``, after ours; ipykernel's ``IPKernelApp.init_poller`` polls no parent when it is 1. Why: in
    its own PID namespace the kernel cannot see the grader, would take it for dead and exit; the sandbox
    (bubblewrap's ``--setenv``, the warm parent's environment) sets it to 1, and ``--die-with-parent``
    ends the kernel with its grader instead.
cleanup
    ``AsyncKernelManager.cleanup_resources`` is bound to the base class's ``_async_cleanup_resources``
    function, so it never reaches a subclass's override; ``shutdown_kernel`` calls
    ``self._async_cleanup_resources``; nbclient calls ``km.cleanup_resources()`` after every kernel, a dead
    one included. Why: ``SandboxedKernelManager`` overrides both names so that its sandbox folder, cgroup and
    warm sandbox go with every kernel, and its evidence is read once.
interrupt
    ``shutdown_kernel`` first calls ``self._async_interrupt_kernel()`` (the function ``interrupt_kernel`` is
    bound to). Why: ``SandboxedKernelManager`` rebinds that name to its ``interrupt_kernel``, which signals
    the kernel alone: jupyter_client signals the process group, and bubblewrap's processes would die of it
    and take the kernel with them.
provisioner
    ``LocalProvisioner.process`` is the kernel's ``Popen``; the provisioner uses of it only ``poll``,
    ``wait``, ``send_signal``, ``kill``, ``terminate`` and the ``stdin``/``stdout``/``stderr`` attributes,
    with its own ``pid`` and ``pgid``; after the provisioner has launched a kernel, ``_async_launch_kernel``
    only passes its connection info to ``_reconcile_connection_info``. Why: a kernel forked by the warm
    parent is not launched by the provisioner (``SandboxedKernelManager._launch_warm`` sets these itself,
    and ``ForkedKernel`` stands in for the ``Popen``); ``LimitedExecute`` kills a stuck kernel through
    ``process``, and the sandbox finds the kernel's processes from its pid.
client factory
    ``KernelManager.client()`` instantiates the ``client_factory`` trait, which ``AsyncKernelManager``
    declares again with a default of its own: a subclass's ``client_class`` does not change it. Why:
    ``LimitedKernelManager`` sets ``client_factory`` to ``PromptKernelClient``.
wait for ready
    ``AsyncKernelClient.wait_for_ready(timeout)`` (reimplemented by ``kernels.limits.PromptKernelClient``):
    nbclient calls it once the channels are up; the private ``_handle_kernel_info_reply(reply)`` and
    ``_async_is_alive()`` it calls exist. Why: jupyter_client's version then drains iopub until it has been
    silent for 0.2 s, at every kernel start, which the grader's worker would spend idle.

nbclient
--------
output hooks
    ``NotebookClient.process_message(msg, cell, cell_index)`` passes outputs to ``output(outs, msg,
    display_id, cell_index)``, ``clear_output`` messages to ``clear_output(outs, msg, cell_index)`` and comm
    messages to ``handle_comm_msg(outs, msg, cell_index)``, by these names; ``clear_before_next_output`` is
    set by a waiting ``clear_output`` and cleared by the next output; ``_display_id_map`` is ``{display id:
    {cell index: [output indices]}}``; ``widget_state`` and ``widget_buffers`` are keyed by comm id. Why:
    ``kernels.limits.LimitedExecute`` caps every output as it arrives, counting what a cell and the notebook
    hold.
cell timeout
    ``NotebookClient`` reads its ``timeout`` afresh for each cell. Why: ``judge.execute.GradedExecute`` cuts a
    cell's limit to what is left of the submission's time.

nbgrader
--------
file copy
    ``nbgrader.utils.find_all_files(path, exclude)`` lists the files nbgrader copies: ``Autograde`` calls it
    as ``utils.find_all_files`` and ``BaseConverter.init_assignment`` as the global ``find_all_files`` of
    ``nbgrader.converters.base`` (both replaced by ``plugins.nbgrader_files``). Why: nbgrader's copy follows
    symbolic links and stops at a named pipe; the replacement lists regular files only.
alembic
    ``Gradebook`` stamps a new database with the module global ``nbgrader.api.get_alembic_version()``
    (replaced by ``nbgrader_cli.stamp_in_process``). Why: nbgrader's version runs ``alembic heads`` in a
    second Python process that imports nbgrader again: seconds per new gradebook.
one exporter
    A converter makes its exporter once (``BaseConverter.start``) and ``Autograde`` registers its
    preprocessors on it for each notebook; nbconvert makes a registered class with ``parent`` the exporter.
    Why: ``judge.execute.GradedExecute`` adds up a student's time over the notebooks of one grading run
    under that parent (``submission_time_limit``).
metadata validator
    ``nbgrader.nbgraderformat.MetadataValidator.validate_cell`` calls ``super().validate_cell``, which is
    ``BaseMetadataValidator``'s (schema version checks, then ``jsonschema.validate`` against ``self.schema``);
    ``CheckCellMetadata.preprocess`` is ``MetadataValidator().validate_nb(nb)`` with its error logged. Why:
    ``plugins.repair.CheckCellMetadata`` puts ``_SchemaCheckedOnce`` next in that order, to build the schema's
    validator once instead of once per cell (``tests/test_repair.py`` compares the verdicts).

nbconvert
---------
html exporter
    ``HTMLExporter.from_notebook_node`` is: the ``highlight_code`` and ``filter_data_type`` filters (the
    latter made from the private ``_nb_metadata`` and ``_init_resources(resources)``), then
    ``TemplateExporter.from_notebook_node``, then a BeautifulSoup pass that only adds ``alt`` text to images
    and ``tabindex`` to JupyterLab cells; ``Highlight2HTML`` is called as ``(source, language, metadata)``.
    Why: ``plugins.feedback.FeedbackExporter`` does the same for nbgrader's feedback template (no JupyterLab
    cells) without the pass, which parses and rewrites every page, and remembers highlighted code.

jsonschema
----------
rfc3987_syntax
    ``jsonschema`` imports ``rfc3987_syntax`` when it is imported, inside ``suppress(ImportError)``, for the
    ``iri`` formats only, which nothing here checks. Why: that module builds a grammar at import, which costs
    seconds of CPU in every process that reads a notebook; ``nbgrader_cli`` marks it missing.

multiprocessing (the standard library)
--------------------------------------
resource tracker
    ``multiprocessing.resource_tracker._resource_tracker`` holds the running tracker's pipe and pid in
    ``_fd`` and ``_pid``, under ``_lock``; the tracker exits once its pipe is closed. Why:
    ``grading.engine.stop_resource_tracker`` stops the tracker multiprocessing started for the Dask
    cluster's worker processes, so that ``grade_class`` leaves no process of its own running.

distributed
-----------
task state
    In a task's thread, ``distributed.worker.thread_state.key`` is the task's key and
    ``get_worker().state.tasks[key].state`` its state on the worker. Why: ``grading.task`` polls it to stop a
    grading process whose task was cancelled (the command was interrupted).
"""
