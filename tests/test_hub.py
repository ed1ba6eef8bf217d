"""A semester on the course's JupyterHub (deploy/jupyterhub_config.py), in Chromium, with real Unix accounts.

The test creates an instructor and two students (useradd, passwords, the groups the hub's config
reads), homes outside the repository, an exchange folder, and starts JupyterHub with the course's
config. Then, notebook 01 only (to keep it short): the instructor releases `rnn`; each student logs
in, fetches it in the Assignments tab, types the answers into the notebook (one from the solution,
one with a catalogue mistake), runs the visible tests, presses Validate and reads the verdict, and
submits; the instructor collects, grades with grade-class, sees both scores in formgrader, and
generates and releases feedback; each student fetches the feedback and opens it: the second one's
page names the mistake, and neither page shows hidden-test source. Each account sees only its own
files. Screenshots of every step are in the test's tmp folder (and $BROWSER_SCREENSHOT_DIR/hub).

Needs root (useradd, and the hub spawns servers as the users), the proxy and the course
environment readable by every account (scripts/install_hub.sh), Chromium and Playwright
(tests/test_browser.py). Skips, saying why, where it cannot create accounts.
"""
import contextlib
import grp
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import tempfile
import time

import pytest

from autograde.content import mistakes, notebooks
from autograde.grading.course import Course
from autograde.grading.samples import replace_for
from tests.conftest import REPO, wait_until_serving
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOT_DIR, _free_port, _require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.cluster]

NOTEBOOK = "01_cell_forward"
# the course environment the accounts run, and the proxy (both from scripts/install_hub.sh)
VENV_BIN = REPO / ".venv-hub" / "bin"
PROXY = REPO / ".venv-hub" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
# nbgrader's command line, less the grammar it never uses (autograde.runtime.nbgrader_cli): seconds less a command
NBGRADER = ["python", "-m", "autograde.runtime.nbgrader_cli"]
GROUPS = {"instructor": "rnn-instructors", "student": "rnn-students"}
MISTAKE = next(m for m in mistakes.all_mistakes() if m.notebook == NOTEBOOK and m.function == "rnn_step_forward")


def _require_accounts():
    if os.geteuid() != 0:
        pytest.skip("the JupyterHub test creates Unix accounts and spawns servers as them: run it as root")
    missing = [tool for tool in ("useradd", "userdel", "groupadd", "chpasswd", "runuser") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"the JupyterHub test cannot create accounts: {', '.join(missing)} missing")
    for needed in (VENV_BIN / "jupyterhub", PROXY):
        if not needed.exists():
            pytest.skip(f"{needed} is missing: run `bash scripts/install_hub.sh` (scripts/test.sh does)")
    # the accounts run the course environment and import autograde from the repository: both must be readable
    probe = subprocess.run(["runuser", "-u", "nobody", "--", str(VENV_BIN / "python"), "-c",
                            "import autograde, jupyterhub"], capture_output=True, text=True, cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"other accounts cannot run the course environment {VENV_BIN.parent} "
                    f"({probe.stderr.strip()[-200:]}): put the repository where every account can read it, "
                    f"as the README's JupyterHub section does")


class Accounts:
    """Unix accounts made for the test, removed at the end (and the groups it had to create)."""

    def __init__(self, base):
        self.base, self.made, self.groups = base, [], []
        self.tag = secrets.token_hex(3)

    def group(self, name):
        with contextlib.suppress(KeyError):
            grp.getgrnam(name)
            return
        subprocess.run(["groupadd", name], check=True)
        self.groups.append(name)

    def add(self, short, role):
        name, password = f"rnn{self.tag}{short}", secrets.token_urlsafe(12)
        home = self.base / "home" / name
        self.group(GROUPS[role])
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                        "--groups", GROUPS[role], name], check=True, capture_output=True)
        self.made.append(name)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        home.chmod(0o700)
        return name, password, home

    def remove(self):
        for name in self.made:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)  # only this test's users
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        for name in self.groups:
            if not grp.getgrnam(name).gr_mem:
                subprocess.run(["groupdel", name], capture_output=True)


def as_user(name, home, *command, env, cwd=None, timeout=600):
    """Run a command as ``name`` with the environment the hub gives that user's server."""
    runner = ["runuser", "-u", name, "--", "env", f"HOME={home}", f"USER={name}",
              *[f"{k}={v}" for k, v in env.items()], *command]
    done = subprocess.run(runner, cwd=cwd or home, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} as {name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@contextlib.contextmanager
def hub(base, env):
    """JupyterHub with deploy/jupyterhub_config.py, as root, on a free port; yields its URL."""
    log = open(base / "jupyterhub.log", "w")
    proc = subprocess.Popen([str(VENV_BIN / "jupyterhub"), "-f", str(REPO / "deploy" / "jupyterhub_config.py")],
                            cwd=base, env={**os.environ, **env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['RNN_HUB_PORT']}"
    try:
        wait_until_serving(f"{url}/hub/api", proc, base / "jupyterhub.log", "JupyterHub")
        yield url
    finally:
        proc.terminate()  # the hub stops the users' servers and its proxy as it exits
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Shots:
    """A screenshot per step, in order, kept in the test's tmp folder (and $BROWSER_SCREENSHOT_DIR/hub)."""

    def __init__(self, folder):
        self.folder, self.count, self.started, self.times = folder, 0, time.time(), []
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name):
        self.count += 1
        self.times.append(f"{name} {time.time() - self.started:.0f}s")
        path = self.folder / f"{self.count:02d}_{name}.png"
        page.screenshot(path=str(path))
        if SCREENSHOT_DIR:
            target = pathlib.Path(SCREENSHOT_DIR) / "hub"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
        return path


def log_in(browser, url, name, password):
    """Log in on the hub's page; returns the page at once, while the hub starts the user's server."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("#login_submit")
    return page


def lab(page, name):
    """Wait for the user's JupyterLab, with the Nbgrader menu, once the hub has started the server."""
    page.wait_for_url(f"**/user/{name}/lab**", timeout=180_000)
    page.wait_for_selector(".lm-MenuBar-itemLabel >> text=Nbgrader", timeout=120_000)
    return page


def menu(page, top, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def type_answers(page, answers):
    """Replace each answer cell's stub, in order, by typing into its editor as a student would."""
    stubs = page.locator(".jp-CodeCell .cm-content", has_text="raise NotImplementedError()")
    for code in answers:
        editor = stubs.first
        editor.scroll_into_view_if_needed()
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(code)
    page.keyboard.press("Control+s")


RUN_FINISHED = """() => {
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-prompt')];
    return prompts.some(p => /\\[\\d+\\]/.test(p.textContent)) && !prompts.some(p => p.textContent.includes('*'));
}"""


def nbgrader_menu(page):
    """The labels of the Nbgrader menu's items (the menu closed again)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel:visible").first.wait_for()
    labels = [text for text in page.locator(".lm-Menu-itemLabel:visible").all_inner_texts() if text]
    page.keyboard.press("Escape")
    return labels


def student_works(page, shots, who, answers):
    """Assignments tab → fetch → open the notebook → type the answers → run all → Validate → Submit;
    returns the Validate dialog's text."""
    from playwright.sync_api import expect
    menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list")
    expect(released).to_contain_text("rnn", timeout=60_000)
    shots(page, f"{who}_assignments_released")
    released.locator("button", has_text="Fetch").first.click()
    fetched = page.locator("#fetched_assignments_list")
    expect(fetched).to_contain_text("rnn", timeout=60_000)
    fetched.locator("a", has_text="rnn").first.click()  # unfold the assignment's notebooks
    fetched.locator("a", has_text=NOTEBOOK).first.click()
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    type_answers(page, answers)
    shots(page, f"{who}_answers_typed")
    menu(page, "Run", "Run All Cells")
    # run until nothing is queued ("[*]"), twice in a row: Run All stops at the first failing test
    page.wait_for_function(RUN_FINISHED, timeout=180_000, polling=1000)
    page.wait_for_timeout(1000)
    page.wait_for_function(RUN_FINISHED, timeout=180_000, polling=1000)
    shots(page, f"{who}_visible_tests_run")
    page.locator(".jp-NotebookPanel-toolbar .validate-button").first.click()
    message = page.locator("#validation-message")
    expect(message).to_be_visible(timeout=300_000)
    verdict = message.inner_text()
    shots(page, f"{who}_validated")
    page.keyboard.press("Escape")
    page.locator(".lm-TabBar-tabLabel", has_text="Assignments").first.click()
    fetched = page.locator("#fetched_assignments_list")
    fetched.locator("button", has_text="Submit").first.click()
    expect(page.locator("#submitted_assignments_list")).to_contain_text("rnn", timeout=60_000)
    shots(page, f"{who}_submitted")
    return verdict


def open_feedback(page, shots, who, url, name):
    """Assignments tab → Fetch Feedback → (view feedback) → the notebook's feedback page; its text."""
    from playwright.sync_api import expect
    page.locator(".lm-TabBar-tabLabel", has_text="Assignments").first.click()
    page.locator("#refresh_assignments_list").click()
    submitted = page.locator("#submitted_assignments_list")
    submitted.locator("button", has_text="Fetch Feedback").first.click()
    expect(submitted.locator("a", has_text="view feedback")).to_be_visible(timeout=60_000)
    shots(page, f"{who}_feedback_fetched")
    submitted.locator("a", has_text="view feedback").first.click()
    page.locator(".jp-DirListing-item", has_text=NOTEBOOK).first.dblclick()
    frame = page.frame_locator(".jp-HTMLViewer iframe, iframe").first
    expect(frame.locator("body")).to_contain_text(NOTEBOOK, timeout=60_000)
    shots(page, f"{who}_feedback_page")
    failed = frame.locator(".cell", has_text="Score: 0").first  # the first check that lost its points, if any
    if failed.count():
        failed.scroll_into_view_if_needed()
        shots(page, f"{who}_feedback_lost_points")
    return frame.locator("body").inner_text()


def test_a_semester_on_jupyterhub(tmp_path):
    _require_browser()
    _require_accounts()
    from playwright.sync_api import expect, sync_playwright

    started = time.time()
    # homes, the exchange and the hub's state outside the repository, readable to the accounts that need them
    base = pathlib.Path(tempfile.mkdtemp(prefix="rnn-hub-"))
    base.chmod(0o755)
    (base / "home").mkdir(mode=0o755)
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's exchange: every account writes; nbgrader sets each course folder's modes
    accounts = Accounts(base)
    shots = Shots(tmp_path / "hub-shots")
    env = {"RNN_HUB_PORT": str(_free_port()), "RNN_HUB_API_PORT": str(_free_port()),
           "RNN_PROXY_API_PORT": str(_free_port()), "RNN_HUB_STATE": str(base / "state"),
           "RNN_EXCHANGE": str(exchange), "RNN_PROXY": str(PROXY)}
    pages = {}
    try:
        teacher, teacher_pw, teacher_home = accounts.add("t", "instructor")
        ada, ada_pw, ada_home = accounts.add("a", "student")
        bob, bob_pw, bob_home = accounts.add("b", "student")
        # the instructor's course: a copy of this one with notebook 01 only, in their home
        course = Course.copy_of(REPO, teacher_home / "rnn-from-scratch")
        for path in notebooks.notebook_paths(course.folder("source")):
            if path.stem != NOTEBOOK:
                path.unlink()
        course.generate(in_process=True)  # nbgrader generate_assignment, in this process: nbgrader imported once
        subprocess.run(["chown", "-R", f"{teacher}:{teacher}", str(course.root)], check=True)
        server_env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "RNN_EXCHANGE": str(exchange),
                      "JUPYTER_CONFIG_PATH": f"{REPO}/deploy/jupyter/instructor:{REPO}/deploy/jupyter/common"}
        instructor = lambda *command, **kw: as_user(teacher, teacher_home, *command, env=server_env,  # noqa: E731
                                                    cwd=course.root, **kw)
        instructor(*NBGRADER, "release_assignment", "rnn")

        source = notebooks.read(course.folder("source") / f"{NOTEBOOK}.ipynb")
        solution = {notebooks.grade_id(c): notebooks.without_markers(c.source)
                    for c in source.cells if notebooks.is_answer(c)}
        order = [notebooks.grade_id(c) for c in source.cells if notebooks.is_answer(c)]
        buggy = {**solution, **replace_for(MISTAKE)[NOTEBOOK]}
        points = {notebooks.grade_id(c): c.metadata.nbgrader["points"] for c in source.cells if notebooks.is_test(c)}
        most, lost = sum(points.values()), sum(points[g] for g in MISTAKE.breaks)
        assert 0 < lost < most

        with hub(base, env) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # everyone logs in first: the hub starts the three servers side by side
            for who, password in ((ada, ada_pw), (bob, bob_pw), (teacher, teacher_pw)):
                pages[who] = log_in(browser, url, who, password)
            verdicts = {}
            for who, answers in ((ada, solution), (bob, buggy)):
                lab(pages[who], who)
                verdicts[who] = student_works(pages[who], shots, who, [answers[g] for g in order])
                assert nbgrader_menu(pages[who]) == ["Assignment List"], who  # no Formgrader, Course List
                assert pages[who].request.get(f"{url}/user/{who}/formgrader").status == 404
            assert "Success! Your notebook passes all the tests." in verdicts[ada], verdicts[ada]
            assert "failed" in verdicts[bob].lower() or "error" in verdicts[bob].lower(), verdicts[bob]

            # a student sees neither another student's server nor the instructor's
            for other in (bob, teacher):
                response = pages[ada].request.get(f"{url}/user/{other}/api/contents", max_redirects=0)
                assert response.status in (302, 403, 404) and "rnn" not in response.text(), (other, response.status)

            instructor(*NBGRADER, "collect", "rnn")
            graded = instructor("grade-class", "rnn", "--jobs", "2", timeout=900)
            assert "2 graded, 0 ungraded" in graded.stdout, graded.stdout + graded.stderr
            shots(lab(pages[teacher], teacher), "instructor_lab")
            assert {"Formgrader", "Course List"} <= set(nbgrader_menu(pages[teacher]))
            page = pages[teacher]
            page.goto(f"{url}/user/{teacher}/formgrader/manage_students")
            table = page.locator("table")
            expect(table).to_contain_text(bob, timeout=60_000)
            shots(page, "instructor_formgrader_students")
            scores = {who: [float(x) for x in re.findall(r"(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)",
                                                         page.locator("tr", has_text=who).first.inner_text())[0]]
                      for who in (ada, bob)}
            assert scores == {ada: [most, most], bob: [most - lost, most]}, scores
            instructor(*NBGRADER, "generate_feedback", "rnn")
            instructor(*NBGRADER, "release_feedback", "rnn")

            texts = {}
            for who in (ada, bob):
                texts[who] = open_feedback(pages[who], shots, who, url, who)
            browser.close()

        assert MISTAKE.explain[:60] in texts[bob], texts[bob][:2000]
        assert MISTAKE.explain[:60] not in texts[ada]
        for text in texts.values():
            assert "autograde.content.checks" not in text and "nb01." not in text
        # each account reads only its own files
        for student, other_home in ((ada, bob_home), (bob, ada_home)):
            for private in (other_home, teacher_home, exchange / "rnn-from-scratch" / "inbound"):
                denied = subprocess.run(["runuser", "-u", student, "--", "ls", str(private)], capture_output=True)
                assert denied.returncode != 0, (student, private, denied.stdout)
    except Exception:
        for who, page in pages.items():
            with contextlib.suppress(Exception):
                shots(page, f"failed_{who}")
        with contextlib.suppress(OSError):
            shutil.copy(base / "jupyterhub.log", tmp_path)
        print(f"screenshots: {shots.folder}; hub log: {tmp_path / 'jupyterhub.log'}")
        raise
    finally:
        accounts.remove()
        shutil.rmtree(base, ignore_errors=True)
    print(f"the semester on JupyterHub took {time.time() - started:.0f} s; screenshots: {shots.folder}")
    print("steps:", ", ".join(shots.times))
