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

``FeedbackExporter`` writes the pages (``c.GenerateFeedback.exporter_class``): nbconvert's
HTML exporter, but the alt text it adds to images is added without re-parsing the page, and
code highlighted once is remembered for the other pages written by the same process (it relies on
how ``HTMLExporter`` renders: ``autograde.runtime.pinned``).
"""
import json
import re

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


class RememberedHighlight(Highlight2HTML):
    """nbconvert's code highlighting, remembered for the pages this process writes next.

    Pygments' pure-Python lexer is much of a feedback page's time, and every student's pages
    hold the same code but for their answers: the release's cells, and the test cells (whose hidden
    blocks are redacted to the same line). The key is everything the highlighted HTML depends on: of
    the cell's metadata nbconvert reads only ``magics_language`` (the rest differs from student to
    student: execution times, scores).
    """

    remembered = {}
    most = 20_000  # cells: many times what a class's notebooks hold besides answers

    def __call__(self, source, language=None, metadata=None):
        key = (source, language or self.pygments_lexer, (metadata or {}).get("magics_language"),
               json.dumps(self.extra_formatter_options, sort_keys=True, default=str))
        html = self.remembered.get(key)
        if html is None:
            if len(self.remembered) >= self.most:
                self.remembered.clear()
            html = self.remembered[key] = super().__call__(source, language, metadata)
        return html


NO_ALT = "No description has been provided for this image"
IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\salt\s*=)", re.I)


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter for nbgrader's feedback template, faster (the more so for the pages
    after a class's first student, when one process writes them all; benchmarks/README.md).

    After rendering, ``HTMLExporter`` parses the whole page with BeautifulSoup's pure-Python
    parser and serialises it again, only to give every ``<img>`` without one an ``alt`` text
    and JupyterLab-template cells a ``tabindex``: most of a feedback page's time
    (a page holds a few hundred kB of highlighted code and base64 figures). The feedback
    template is classic-based (no JupyterLab cells), so here the alt text is inserted into
    the rendered page directly, and code is highlighted by ``RememberedHighlight``. Any other
    template gets nbconvert's own pass.
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        if self.template_name != "feedback":
            return super().from_notebook_node(nb, resources, **kw)
        # what HTMLExporter.from_notebook_node does before rendering
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", RememberedHighlight(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html, missing_alt = IMG_WITHOUT_ALT.subn(f'<img alt="{NO_ALT}"', html)
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        return html, resources
