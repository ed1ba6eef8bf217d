"""Notebook 06 in a real browser: JupyterLab serves a student's copy of the release (answers
filled in from the solution), headless Chromium runs every cell, moves the w slider and sees
the plot change, then presses nbgrader's Validate button and reads its verdict.

Needs Debian's chromium at /usr/bin/chromium (scripts/install_browser.sh, which
scripts/test.sh runs) and the `playwright` Python package (the `test` extra). Playwright's
own browser downloads are not used. Without them the test is skipped locally and FAILS in
CI (CI=true), so a missing browser never passes silently.
"""
import contextlib
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time

import pytest

from autograde.grading.course import Course
from tests.conftest import REPO, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.browser]  # JupyterLab, driven in Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK = "06_vanishing_exploding.ipynb"
# where to keep the screenshots besides pytest's tmp_path (e.g. a CI artifact folder)
SCREENSHOT_DIR = os.environ.get("BROWSER_SCREENSHOT_DIR")


def _require_browser():
    problems = []
    if not os.path.exists(CHROMIUM):
        problems.append(f"{CHROMIUM} is missing (run `bash scripts/install_browser.sh`, or "
                        "`apt-get install chromium`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is missing (run `bash scripts/setup.sh`: it installs "
                        "the `test` extra of pyproject.toml)")
    if problems:
        message = "the browser test cannot run: " + "; ".join(problems)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root, tmp):
    """JupyterLab serving ``root`` on a free localhost port with a random token; yields its base URL."""
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp / "home"
    (home / ".jupyter" / "labconfig").mkdir(parents=True)
    # no "get notified about Jupyter news?" toast over the notebook
    (home / ".jupyter" / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}')
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               PATH=os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env.pop("NBGRADER_EXECUTION", None)
    log = open(tmp / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         "--LabApp.expose_app_in_browser=True",          # window.jupyterapp: run commands without menus
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--ServerApp.open_browser=False"] + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/api/status?token={token}", proc, tmp / "jupyterlab.log", "JupyterLab")
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _number(readout):
    return float(readout.replace("\u2212", "-"))  # the slider's readout uses a Unicode minus sign


def _image_src(page, index):
    return page.evaluate(f"() => document.querySelectorAll('.jp-OutputArea img.widget-image, "
                         f".jp-OutputArea .widget-image')[{index}]?.getAttribute('src')")


def test_notebook_06_widgets_and_validate_in_chromium(tmp_path):
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    started = time.time()
    course = Course.copy_of(REPO, tmp_path / "course")
    course.generate()
    student = course.write_submission("browser")          # the release, answers from the solution
    assert (student / "rnn_helpers" / "__init__.py").exists() and (student / NOTEBOOK).exists()

    with jupyterlab(student, tmp_path) as (url, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                               timeout=120_000)

        # Run every cell, as Run > Run All Cells does, and wait for the three widgets (w, radius, lag)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        sliders = page.locator(".jp-OutputArea .widget-slider")
        expect(sliders).to_have_count(3, timeout=240_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                               ".status === 'idle'", timeout=240_000)
        images = page.locator(".jp-OutputArea .widget-image")
        expect(images).to_have_count(3)
        outputs_text = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not any("Traceback" in t or "Error" in t.split("\n")[0] for t in outputs_text), \
            [t for t in outputs_text if "Traceback" in t][:2]

        # Move the w slider with the mouse: the PNG of the plot is replaced
        w_slider = sliders.nth(0)
        w_slider.scroll_into_view_if_needed()
        readout = w_slider.locator(".widget-readout")
        before_value, before_src = readout.inner_text(), _image_src(page, 0)
        before_pixels = images.nth(0).screenshot()
        handle, track = w_slider.locator(".noUi-handle"), w_slider.locator(".noUi-base").bounding_box()
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(track["x"] + 0.87 * track["width"], box["y"] + box["height"] / 2, steps=12)
        page.mouse.up()
        expect(readout).not_to_have_text(before_value)
        page.wait_for_function(f"() => document.querySelectorAll('.jp-OutputArea .widget-image')[0]"
                               f".getAttribute('src') !== {before_src!r}")
        page.wait_for_timeout(500)  # let the last redraw of the drag arrive
        after_value = readout.inner_text()
        after_pixels = images.nth(0).screenshot()
        assert after_pixels != before_pixels, "the plot looks the same after moving the w slider"
        assert _number(after_value) > _number(before_value), (before_value, after_value)

        # The linear/log switch redraws too
        src = _image_src(page, 0)
        page.locator(".jp-OutputArea .widget-toggle-buttons button", has_text="log").first.click()
        page.wait_for_function(f"() => document.querySelectorAll('.jp-OutputArea .widget-image')[0]"
                               f".getAttribute('src') !== {src!r}")
        page.locator(".jp-OutputArea .widget-toggle-buttons button", has_text="linear").first.click()

        # The same figure is redrawn: still exactly three plots, and the caption follows w
        expect(images).to_have_count(3)
        caption = page.locator(".jp-OutputArea .widget-html").first.inner_text()
        assert f"w = {_number(after_value):+.2f}" in caption, caption

        w_slider.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea')][1]").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        shot = tmp_path / "notebook06_widget.png"
        page.screenshot(path=str(shot))
        if SCREENSHOT_DIR:
            pathlib.Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOT_DIR)
        print(f"screenshot: {shot}")

        # nbgrader's Validate button in the notebook toolbar (its lab extension's ToolbarButton)
        page.locator(".jp-NotebookPanel-toolbar .validate-button button, "
                     ".jp-NotebookPanel-toolbar .validate-button").first.click()
        message = page.locator("#validation-message")
        expect(message).to_be_visible(timeout=300_000)
        text = message.inner_text()
        page.screenshot(path=str(tmp_path / "validate.png"))
        if SCREENSHOT_DIR:
            shutil.copy(tmp_path / "validate.png", SCREENSHOT_DIR)
        print(f"validate dialog: {text.strip()[:200]!r}; screenshot {tmp_path / 'validate.png'}")
        assert "validation-success" in (message.get_attribute("class") or ""), text
        assert "Success! Your notebook passes all the tests." in text
        browser.close()
    assert not errors, errors[:3]
    print(f"browser test took {time.time() - started:.0f} s")


NOTEBOOK_08 = "08_lstm.ipynb"


def test_notebook_08_forget_bias_slider_in_chromium(tmp_path):
    """Notebook 08 in Chromium: run every cell, drag the forget-bias slider, and see the LSTM's
    gradient-norm plot (one figure, redrawn in place) and its caption change."""
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    course = Course.copy_of(REPO, tmp_path / "course")
    course.generate()
    student = course.write_submission("browser")          # the release, answers from the solution
    assert (student / NOTEBOOK_08).exists()

    with jupyterlab(student, tmp_path) as (url, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/lab/tree/{NOTEBOOK_08}?token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                               timeout=120_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        sliders = page.locator(".jp-OutputArea .widget-slider")
        expect(sliders).to_have_count(1, timeout=240_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                               ".status === 'idle'", timeout=240_000)
        images = page.locator(".jp-OutputArea .widget-image")
        expect(images).to_have_count(1)
        outputs_text = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not any("Traceback" in t or "Error" in t.split("\n")[0] for t in outputs_text), \
            [t for t in outputs_text if "Traceback" in t][:2]

        # Drag the forget-bias slider from 1 towards 3: the PNG is replaced and the caption follows
        slider = sliders.nth(0)
        slider.scroll_into_view_if_needed()
        readout = slider.locator(".widget-readout")
        # textContent, not innerText: innerText is empty while JupyterLab has the cell out of view
        expect(readout).to_have_text(re.compile(r"\d"))
        before_value, before_src = readout.text_content(), _image_src(page, 0)
        before_pixels = images.nth(0).screenshot()
        handle, track = slider.locator(".noUi-handle"), slider.locator(".noUi-base").bounding_box()
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(track["x"] + 0.97 * track["width"], box["y"] + box["height"] / 2, steps=12)
        page.mouse.up()
        expect(readout).not_to_have_text(before_value)
        page.wait_for_function(f"() => document.querySelectorAll('.jp-OutputArea .widget-image')[0]"
                               f".getAttribute('src') !== {before_src!r}")
        page.wait_for_timeout(500)  # let the last redraw of the drag arrive
        slider.scroll_into_view_if_needed()
        expect(readout).to_have_text(re.compile(r"\d"))
        after_value = readout.text_content()
        assert _number(after_value) > _number(before_value), (before_value, after_value)
        assert images.nth(0).screenshot() != before_pixels, "the plot looks the same after moving the slider"
        expect(images).to_have_count(1)                      # the same figure, redrawn
        caption = page.locator(".jp-OutputArea .widget-html").first.inner_text()
        assert f"forget bias {_number(after_value):.2f}" in caption, caption

        shot = tmp_path / "notebook08_widget.png"
        page.screenshot(path=str(shot))
        if SCREENSHOT_DIR:
            pathlib.Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOT_DIR)
        print(f"screenshot: {shot}")
        browser.close()
    assert not errors, errors[:3]
