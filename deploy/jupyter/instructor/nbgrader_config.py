"""The instructor's nbgrader: the course root is a clone of the repository in the home folder
($RNN_COURSE, default ~/rnn-from-scratch), with the course's own nbgrader_config.py, so that
formgrader, the command line and grade-class share one course and one gradebook."""
import os

c = get_config()  # noqa: F821

root = os.path.abspath(os.path.expanduser(os.environ.get("RNN_COURSE", "~/rnn-from-scratch")))
if os.path.exists(os.path.join(root, "nbgrader_config.py")):
    load_subconfig(os.path.join(root, "nbgrader_config.py"))  # noqa: F821
    c.CourseDirectory.root = root
    # the course's SQLite path is relative to the course root, but nbgrader's to the process's folder
    url = c.CourseDirectory.db_url
    if isinstance(url, str) and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        c.CourseDirectory.db_url = "sqlite:///" + os.path.join(root, url[len("sqlite:///"):])
