"""nbgrader settings of every account on the course's JupyterHub (deploy/jupyterhub_config.py)."""
import os

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "rnn-from-scratch"
c.Exchange.root = os.environ.get("RNN_EXCHANGE", "/srv/nbgrader/exchange")
