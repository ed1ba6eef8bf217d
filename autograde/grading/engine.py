"""Step 4 of class grading: the engine, Dask distributed.

``Engine`` either starts a ``LocalCluster`` of worker processes on this machine (the
default: one worker per core, one task at a time each) or connects to a running cluster
(``--scheduler tcp://host:8786``: a ``dask scheduler`` and ``dask worker`` processes on
any machines that have the course environment installed). It sends the template course to
the workers once, submits one ``task.grade_student`` per student and yields the answers as
they finish, so the command merges each student while the others are graded.

Failures: a task never raises for its submission's sake (it answers "ungraded" with the
reason). A worker process that dies is replaced by its nanny, and the scheduler hands its
task to another worker; a task whose workers died more than ``retries`` times is given up
(``KilledWorker``) and answered "ungraded" with that reason. On an existing cluster the
bound is the scheduler's own ``distributed.scheduler.allowed-failures`` (default 3; set
``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES`` where the scheduler starts). ``close``
cancels whatever is still pending or running (a running task kills its nbgrader process
tree when it sees it was cancelled) and stops the embedded cluster, and with it the
resource tracker that multiprocessing started for the cluster's worker processes: the
command leaves no process of its own running (the caller of ``grade_class`` neither).
"""
import contextlib
import logging
import os
import signal
import time
import uuid
from multiprocessing import resource_tracker

import dask
from distributed import Client, LocalCluster, as_completed
from distributed.scheduler import KilledWorker

from autograde.grading.result import StudentResult
from autograde.grading.task import grade_student, warm_up
from autograde.grading.template import GradingError


CONNECT_TIMEOUT = "30s"  # for reaching an existing cluster's scheduler


class Engine:
    def __init__(self, scheduler=None, jobs=None, retries=2):
        self.scheduler, self.jobs, self.retries = scheduler, jobs, retries
        self.cluster = self.client = None
        self._started_tracker = False
        self.futures = {}

    def start(self):
        """Start (or reach) the cluster; safe to call in a background thread while the template is built.
        Once started, starting again does nothing (the demo starts it while it generates the release)."""
        if self.client is not None:
            return self
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise GradingError(f"cannot reach the Dask scheduler at {self.scheduler} ({exc}); start it there with "
                                   f"`dask scheduler --port PORT`, or give its address with --scheduler") from None
        else:
            # the worker processes are spawned: multiprocessing starts its resource tracker in this process
            # for them, unless one runs already, and leaves it running until this process exits
            self._started_tracker = getattr(resource_tracker._resource_tracker, "_fd", 0) is None
            # each worker runs one task at a time that waits for its grading process: Dask's statistical
            # profiler (a stack sample every 10 ms) and its half-second system monitor cost CPU the kernels need
            # worker-saturation 1.0: a worker holds only the student it grades, the others wait on the
            # scheduler for whichever worker frees first (at 1.1, Dask's default, each worker takes a second
            # student in advance, and one worker sat idle while the other had two still to grade)
            with dask.config.set({"distributed.scheduler.allowed-failures": self.retries,
                                  "distributed.scheduler.worker-saturation": 1.0,
                                  "distributed.worker.profile.enabled": False,
                                  "distributed.admin.system-monitor.interval": "5s"}):
                self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                            dashboard_address=None, memory_limit=0, silence_logs=logging.ERROR)
            self.client = Client(self.cluster, set_as_default=False)
        try:  # each worker's forkserver imports nbgrader while the command prepares the template
            self.client.run(warm_up)
        except Exception:  # a worker that cannot warm up starts its server with its first student
            pass
        return self

    def workers(self):
        return len(self.client.scheduler_info(n_workers=-1)["workers"]) if self.client else 0

    def grade(self, template, digest, assignment, settings, tasks):
        """Submit ``tasks`` ([(student, files, extension)]) of ``assignment`` under ``settings`` (a GradingSettings);
        yield (student, StudentResult, autograded files) as each ends."""
        shared = self.client.scatter(template, broadcast=True, hash=False)
        # one task group ("grade", the key's first word) for the whole class: Dask queues a large group's
        # tasks on the scheduler and hands each to the next free worker; a group per student would be
        # assigned to workers all at once, by guesses of how long each takes
        run = uuid.uuid4().hex[:8]
        for student, files, extension in tasks:
            future = self.client.submit(grade_student, shared, digest, assignment, settings, student, files, extension,
                                        key=f"grade-{run}-{student}", pure=False)
            self.futures[future] = student
        for future in as_completed(list(self.futures), loop=self.client.loop):
            student = self.futures.pop(future)
            yield (student, *self._outcome(future, student))

    def _outcome(self, future, student):
        try:
            result, autograded = future.result()
            return result, autograded
        except KilledWorker as exc:
            reason = (f"the worker grading it died {self.retries + 1 if self.cluster else 'too many'} times "
                      f"(last on {getattr(exc, 'last_worker', '?')}); not retried again")
        except Exception as exc:  # the task's own machinery failed (not the submission: that is an answer)
            reason = f"grading failed on the worker: {type(exc).__name__}: {exc}"
        return StudentResult(student=student, reason=reason[:300]), {}

    def close(self):
        """Cancel what is still queued or running, then stop the embedded cluster."""
        if self.client is not None and self.futures:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.futures), force=True)
        self.futures.clear()
        for closing in (self.client, self.cluster):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close(timeout=10)
        self.client = self.cluster = None
        if self._started_tracker:
            stop_resource_tracker()
            self._started_tracker = False


def stop_resource_tracker(wait=10):
    """Stop multiprocessing's resource tracker of this process: it exits once every process that holds its
    pipe has closed it (the cluster's workers are gone now, so at once); reaped, or killed after ``wait`` s.
    multiprocessing has no public way to do it (``autograde.runtime.pinned``)."""
    tracker = resource_tracker._resource_tracker
    with tracker._lock:
        if getattr(tracker, "_fd", None) is None or getattr(tracker, "_pid", None) is None:
            return
        os.close(tracker._fd)
        pid, tracker._fd, tracker._pid = tracker._pid, None, None
    deadline = time.monotonic() + wait
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.05)
