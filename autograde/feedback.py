"""Feedback that students can read: no hidden-test source, every check's message.

``RedactHiddenTests`` is an nbconvert preprocessor that ``nbgrader generate_feedback``
runs (it is listed in ``nbgrader_config.py``), so the stock command is safe:

* the ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block of every test cell
  is replaced by one comment line;
* an error in a grade cell is shown as its one-line message (``AssertionError: ...``,
  ``CheckFailed: ...``), never as a traceback, because a traceback quotes the source
  lines around the failing line, hidden ones included;
* any output anywhere that quotes a line of hidden-test source is replaced by a notice.

nbgrader's feedback template already heads each grade cell with its grade id (the
check's name) and its score; the cell's outputs carry the check's message (the
catalogue mistake when one matched).
"""
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
HIDDEN_NOTE = "# (hidden tests: run by the grader; their results are shown below)\n"
REDACTED = "[output removed from the feedback: it quoted hidden-test source]\n"
RED = "\x1b[0;31m{}\x1b[0m: {}"


def hidden_lines(nb):
    """The non-trivial source lines of every hidden block in the notebook."""
    lines = set()
    for cell in nb.cells:
        for block in HIDDEN_BLOCK.findall(cell.source) if cell.cell_type == "code" else []:
            lines |= {line.strip() for line in block.splitlines() if len(line.strip()) > 8}
    return lines


def _quotes(text, secrets):
    return "HIDDEN TESTS" in text or any(secret in text for secret in secrets)


def _text_of(output):
    if output.output_type == "stream":
        return output.get("text", "")
    if output.output_type == "error":
        return "\n".join([output.get("evalue", "")] + list(output.get("traceback", [])))
    data = output.get("data", {})
    return "\n".join(str(v) for k, v in data.items() if k.startswith("text/"))


class RedactHiddenTests(Preprocessor):
    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled").tag(config=True)

    def preprocess(self, nb, resources):
        secrets = hidden_lines(nb)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            is_grade = cell.metadata.get("nbgrader", {}).get("grade", False)
            cell.source = HIDDEN_BLOCK.sub(HIDDEN_NOTE, cell.source).rstrip("\n") if is_grade else cell.source
            for output in cell.outputs:
                if output.output_type == "error" and is_grade:
                    output.traceback = [RED.format(output.ename, output.evalue)]
                if _quotes(_text_of(output), secrets):
                    self._redact(output)
        return nb, resources

    @staticmethod
    def _redact(output):
        if output.output_type == "stream":
            output.text = REDACTED
        elif output.output_type == "error":
            output.evalue = REDACTED.strip()
            output.traceback = [RED.format(output.ename, REDACTED.strip())]
        else:
            output.data = {"text/plain": REDACTED}
