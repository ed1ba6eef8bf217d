"""JupyterHub for the course on one grading host: `jupyterhub -f deploy/jupyterhub_config.py` as root.

Who: local Unix accounts, logged in with their passwords (PAM). Members of the group
`rnn-instructors` are the course's instructors, members of `rnn-students` its students; nobody
else may log in. Each user's server runs as that user (LocalProcessSpawner), from the course's
environment (the Python this file is loaded by: its `jupyterhub-singleuser`, its kernel), so
students and the grader run the same numpy, nbgrader and JupyterLab.

What each sees (deploy/jupyter/<role>/, put on the server's JUPYTER_CONFIG_PATH): students get
nbgrader's Assignments tab and Validate button, not Formgrader, Course List or Create Assignment,
whose server extensions are off for them too; instructors get all of them, with the course in
`~/rnn-from-scratch` (a clone of this repository) as formgrader's course root.

nbgrader's exchange is a folder every account can write ($RNN_EXCHANGE, default
/srv/nbgrader/exchange, nbgrader's default: `mkdir -p` it and `chmod ugo+rwx`); nbgrader makes
each course's inbound folder write-only for students, so none can list another's submission.

Settings from the environment (defaults for a real host): RNN_HUB_PORT (8000: where users
connect), RNN_HUB_API_PORT (8081) and RNN_PROXY_API_PORT (8001), on localhost; RNN_HUB_STATE
(/srv/jupyterhub: the hub's database and cookie secret); RNN_EXCHANGE; RNN_COURSE (the instructor's
course root, default ~/rnn-from-scratch); RNN_PROXY (the configurable-http-proxy executable,
default: the one on PATH, from `npm install -g configurable-http-proxy`).
"""
import grp
import os
import pathlib
import pwd
import sys

HERE = pathlib.Path(__file__).resolve().parent
ENVIRONMENT = pathlib.Path(sys.prefix)           # the course's environment: the one running the hub
INSTRUCTORS, STUDENTS = "rnn-instructors", "rnn-students"
STATE = pathlib.Path(os.environ.get("RNN_HUB_STATE", "/srv/jupyterhub"))
EXCHANGE = os.environ.get("RNN_EXCHANGE", "/srv/nbgrader/exchange")
COURSE = os.environ.get("RNN_COURSE", "~/rnn-from-scratch")

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

c.JupyterHub.bind_url = f"http://:{os.environ.get('RNN_HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('RNN_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('RNN_PROXY_API_PORT', '8001')}"
if os.environ.get("RNN_PROXY"):
    c.ConfigurableHTTPProxy.command = [os.environ["RNN_PROXY"]]
STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# local Unix accounts, by group
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {INSTRUCTORS, STUDENTS}
c.PAMAuthenticator.open_sessions = False  # no login session (utmp, systemd) for a notebook server

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENVIRONMENT / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def role(username):
    """'instructor' or 'student', from the account's Unix groups."""
    account = pwd.getpwnam(username)
    groups = {grp.getgrgid(g).gr_name for g in os.getgrouplist(username, account.pw_gid)}
    return "instructor" if INSTRUCTORS in groups else "student"


def pre_spawn_hook(spawner):
    """The role's Jupyter configuration, the course's environment on PATH, and the exchange."""
    who = role(spawner.user.name)
    spawner.environment.update({
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(HERE / "jupyter" / who), str(HERE / "jupyter" / "common")]),
        "PATH": os.pathsep.join([str(ENVIRONMENT / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "RNN_EXCHANGE": EXCHANGE,
        "RNN_COURSE": COURSE,
    })


c.Spawner.pre_spawn_hook = pre_spawn_hook
