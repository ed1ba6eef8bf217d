"""Step 2 of class grading, the integrity scan: code in a submission that tries to game the grader.

The scan reads the code a student wrote (answer cells, added cells, edited locked
cells: every code cell whose source is not exactly a cell of the release) and
flags, without touching the score:

* imports of the grader or the solution module (``autograde``);
* monkeypatching numpy, numpy.testing or builtins (assigning to their attributes,
  ``setattr`` on them, rebinding ``__builtins__``);
* reading the gradebook or files outside the submission (``gradebook.db``,
  absolute paths, ``..``, the home directory);
* looking at ``NBGRADER_EXECUTION`` (behaving differently while graded);
* extra Python modules shipped beside the notebooks (``numpy.py`` would shadow numpy).

After grading, ``sandbox_flags`` adds what the sandbox saw the submission try while it ran
(run-time evidence rather than a reading of the text): files outside its folder, the grader's
package, the network, processes, signals, processes left running, output cut.

A flag is evidence for a human to read, not a verdict: the report shows each one
with the line that raised it. ``scan`` never raises: a submission it cannot read
(nested deeper than the parser goes, say) is noted and graded like any other.
"""
import ast
import dataclasses
import json
import pathlib
import re

PATCHED_MODULES = {"np", "numpy", "numpy.testing", "np.testing", "testing", "builtins", "__builtins__", "npt"}
RULES = {
    "imports-grader": "imports the grader or the solution module (autograde)",
    "monkeypatch": "monkeypatches numpy, numpy.testing or builtins",
    "reads-outside": "reads the gradebook or a file outside the submission",
    "grading-env": "looks at NBGRADER_EXECUTION (behaves differently while graded)",
    "extra-module": "ships a Python module beside the notebooks",
    # what the sandbox saw while the notebook was graded (autograde.runtime.kernels.audit_hook, autograde.runtime.kernels.sandbox)
    "sandbox-outside": "while graded: tried to open or list files outside its own folder (the course, the grader)",
    "sandbox-grader": "while graded: tried to import the grader (autograde)",
    "sandbox-network": "while graded: tried to use the network",
    "sandbox-process": "while graded: started a process",
    "sandbox-signal": "while graded: sent a signal",
    "sandbox-left-running": "while graded: left processes running when its kernel stopped (killed)",
    "sandbox-output-cut": "while graded: printed or displayed more than the grader keeps (cut, with a note)",
}
# an absolute or home path, or a step up that names a folder (`../x`, `x/..`); a bare ".." is no path
OUTSIDE_PATH = re.compile(r"""^(/[\w.~-]|~[/\w]|[A-Za-z]:\\)|(^|[/\\])\.\.[/\\]|[/\\]\.\.$""")
TEXT_PATTERNS = [
    ("imports-grader", re.compile(r"\bautograde\b")),
    ("reads-outside", re.compile(r"gradebook\.db")),
    ("grading-env", re.compile(r"NBGRADER_EXECUTION")),
]


@dataclasses.dataclass(frozen=True)
class Flag:
    notebook: str
    cell: str      # grade id of the cell, or "cell <index>"
    line_no: int
    line: str
    rule: str

    @property
    def why(self):
        return RULES[self.rule]

    def __str__(self):
        return f"{self.notebook} [{self.cell}] line {self.line_no}: {self.why}: {self.line.strip()}"


def _dotted(node):
    """'np.testing' for the expression np.testing, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _python(source):
    """The cell with IPython magics and shell escapes blanked (line numbers kept)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _bound(target):
    """What an assignment target binds: itself, or each element of a tuple or list target (not the
    names read inside it: `a[np.arange(n)] -= 1` patches nothing of numpy)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _bound(element)
    elif isinstance(target, ast.Starred):
        yield from _bound(target.value)
    else:
        yield target


def scan_source(source):
    """[(line number, rule)] for one cell of student code."""
    found = set()
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # not Python, or nested past the parser
        tree = None
    if tree is not None:
        # the text between the fields of an f-string is message text, not a path ("found {a}..{b}")
        fragments = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "autograde":
                        found.add((node.lineno, "imports-grader"))
            elif isinstance(node, ast.ImportFrom):
                if (node.module or "").split(".")[0] == "autograde":
                    found.add((node.lineno, "imports-grader"))
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                for target in targets:
                    for sub in _bound(target):
                        if isinstance(sub, ast.Attribute) and _dotted(sub.value) in PATCHED_MODULES:
                            found.add((node.lineno, "monkeypatch"))
                        if isinstance(sub, ast.Subscript) and _dotted(sub.value) == "__builtins__":
                            found.add((node.lineno, "monkeypatch"))
                        if isinstance(sub, ast.Name) and sub.id == "__builtins__":
                            found.add((node.lineno, "monkeypatch"))
            elif isinstance(node, ast.Call):
                name = _dotted(node.func) or ""
                if name in ("setattr", "delattr") and node.args and _dotted(node.args[0]) in PATCHED_MODULES:
                    found.add((node.lineno, "monkeypatch"))
                if name.endswith(("import_module", "__import__")) and node.args and \
                        isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("autograde"):
                    found.add((node.lineno, "imports-grader"))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in fragments:
                if OUTSIDE_PATH.search(node.value) and "\n" not in node.value and len(node.value) < 300:
                    found.add((node.lineno, "reads-outside"))
    for number, line in enumerate(source.splitlines(), 1):
        code = line.split("#", 1)[0] if tree is not None else line
        for rule, pattern in TEXT_PATTERNS:
            if pattern.search(code):
                found.add((number, rule))
    return sorted(found)


def _cell_label(cell, index):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"


def released_sources(release_folder):
    """Every code cell source of the release: code a student did not write."""
    sources = set()
    for path in sorted(pathlib.Path(release_folder).glob("*.ipynb")):
        for cell in json.loads(path.read_text()).get("cells", []):
            if cell.get("cell_type") == "code":
                sources.add(_joined(cell.get("source", "")))
    return sources


def shipped_files(release_folder):
    """The relative paths (``rnn_helpers/loading.py``) of every file of the release: the files a
    submission may hold without a flag."""
    folder = pathlib.Path(release_folder)
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _joined(source):
    if isinstance(source, list):
        source = [s for s in source if isinstance(s, str)]
    return "".join(source) if isinstance(source, list) else str(source)


def scan_files(files, release_sources, expected_files=()):
    """Flags for one student's files ({relative path: bytes}, as read by ``submissions``); a Python
    module is flagged unless its relative path is among ``expected_files`` (``shipped_files``)."""
    flags = []
    for relative, data in sorted(files.items()):
        path = pathlib.PurePath(relative)
        if path.suffix == ".py" and path.as_posix() not in expected_files:
            flags.append(Flag(path.name, "file", 0, relative, "extra-module"))
        if path.suffix != ".ipynb" or ".ipynb_checkpoints" in path.parts:
            continue
        try:
            cells = json.loads(data.decode("utf-8", errors="replace")).get("cells", [])
        except (ValueError, AttributeError, RecursionError):
            continue  # not a notebook (or nested past any real one): reported by the grader, nothing to scan
        for index, cell in enumerate(cells if isinstance(cells, list) else []):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = _joined(cell.get("source", ""))
            if source in release_sources:
                continue
            lines = source.splitlines()
            for line_no, rule in scan_source(source):
                line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
                flags.append(Flag(path.stem, _cell_label(cell, index), line_no, line, rule))
    return flags


def scan(files, release_sources, expected_files=()):
    """``scan_files`` that never raises: ([flag as a dict], note or None). A submission the scan
    cannot read (say, code nested deeper than the parser goes) is noted, and graded like any other."""
    try:
        flags = scan_files(files, release_sources, expected_files)
    except Exception as exc:  # one hostile submission never stops the class
        return [], f"the integrity scan could not read this submission ({type(exc).__name__}); not scanned"
    return [dict(dataclasses.asdict(f), why=f.why) for f in flags], None


def sandbox_flags(autograded):
    """Flags from what the sandbox saw while each notebook was graded: the ``autograde.runtime.kernels.limits`` metadata
    that ``autograde.runtime.judge.execute.GradedExecute`` leaves in the autograded notebooks ({path: bytes}), one flag per
    kind of event and notebook, with the first event and how many there were. Never raises."""
    flags = []
    for path, data in sorted(autograded.items()):
        if not str(path).endswith(".ipynb"):
            continue
        try:
            seen = json.loads(data)["metadata"]["autograde"]["sandbox"]
        except (ValueError, KeyError, TypeError):
            continue
        notebook = pathlib.PurePath(path).stem
        by_kind = {}
        for event in seen.get("events", []):
            by_kind.setdefault(f"sandbox-{event.get('kind')}", []).append(str(event.get("detail")))
        if seen.get("left_running"):
            by_kind["sandbox-left-running"] = [str(p) for p in seen["left_running"]]
        if seen.get("output_cut"):
            by_kind["sandbox-output-cut"] = ["in " + ", ".join(map(str, seen["output_cut"]))]
        for rule, details in by_kind.items():
            if rule in RULES:
                more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
                flags.append(Flag(notebook, "while graded", 0, details[0][:300] + more, rule))
    return [dict(dataclasses.asdict(f), why=f.why) for f in flags]
