"""The class report: what a class got right and wrong, as one self-contained HTML page.

``build_report`` is called by the class-grading command (``reports/<assignment>/report.html``);
``python -m autograde.grading.report rnn`` rebuilds it from ``reports/rnn/results.json`` and the
autograded notebooks. Sections: score histogram, pass rate per check, the catalogue
mistakes found most often (parsed from the failing cells' "This looks like a known
mistake: ..." messages and mapped back to ``autograde.content.mistakes``), flagged submissions
with the line that raised each flag, and submissions that could not be graded. The page is
the jinja2 template ``templates/report.html`` with autoescaping: no student's text (ids,
flagged lines, notes) can inject markup.
"""
import base64
import collections
import io
import json
import pathlib
import statistics
import sys

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autograde.content import mistakes, notebooks  # noqa: E402
from autograde.content.checking import KNOWN_MISTAKE as MARKER  # noqa: E402
from autograde.grading.result import StudentResult  # noqa: E402


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def cell_text(cell):
    return "\n".join(o.get("text", "") + o.get("evalue", "") for o in cell.get("outputs", []))


def mistakes_found(root, assignment, results):
    """{mistake id: sorted students} from the failing grade cells of the autograded notebooks."""
    entries = mistakes.all_mistakes()
    found = collections.defaultdict(set)
    for student, result in results.items():
        if not result.graded:
            continue
        for name, grades in (result.grades or {}).items():
            path = pathlib.Path(root, "autograded", student, assignment, f"{name}.ipynb")
            if not path.exists():
                continue
            for cell in notebooks.read(path).cells:
                grade = grades.get(notebooks.grade_id(cell) or "")
                if not grade or grade[0] is None or grade[0] >= grade[1]:
                    continue
                text = cell_text(cell)
                if MARKER not in text:
                    continue
                for entry in entries:
                    if entry.notebook == name and entry.explain in text:
                        found[entry.id].add(student)
    return {k: sorted(v) for k, v in found.items()}


def pass_rates(results):
    """{(notebook, grade id): (students with full points, students graded)}."""
    rates = collections.defaultdict(lambda: [0, 0])
    for result in results.values():
        if not result.graded:
            continue
        for name, grades in (result.grades or {}).items():
            for grade_id, (score, most) in grades.items():
                rates[(name, grade_id)][0] += (score or 0) >= most
                rates[(name, grade_id)][1] += 1
    return dict(sorted(rates.items()))


def histogram(results):
    totals = [100 * r.score / r.max_score for r in results.values() if r.graded and r.max_score]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(totals, bins=[i * 5 for i in range(21)], color="#4c72b0", edgecolor="white")
    ax.set_xlabel("total score (% of the maximum)")
    ax.set_ylabel("students")
    ax.set_xlim(0, 100)
    ax.set_title(f"Scores of {len(totals)} graded submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def pass_rate_chart(rates):
    labels = [f"{nb.split('_')[0]} {gid}" for nb, gid in rates]
    values = [100 * ok / n for ok, n in rates.values()]
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.26 * len(labels)))
    colors = ["#c44e52" if v < 50 else "#dd8452" if v < 80 else "#55a868" for v in values]
    ax.barh(range(len(labels)), values, color=colors)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full points on the check (%)")
    ax.set_title("Pass rate per check")
    return _png(fig)


def mistakes_chart(found):
    top = sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:15]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.32 * len(top)))
    ax.barh(range(len(top)), [len(v) for _, v in top], color="#8172b3")
    ax.set_yticks(range(len(top)), [k for k, _ in top], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Most frequent catalogue mistakes")
    return _png(fig)


TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(pathlib.Path(__file__).parent / "templates"),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def report_data(root, assignment, results):
    """What the template shows, as plain values (the template escapes every one)."""
    graded = {s: r for s, r in sorted(results.items()) if r.graded}
    totals = [r.score for r in graded.values()]
    most = next(iter(graded.values())).max_score if graded else 0
    found = mistakes_found(root, assignment, results)
    rates = pass_rates(results)
    ranked = sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    names = sorted(next(iter(graded.values())).max_scores) if graded else []
    return {
        "assignment": assignment,
        "stats": [("submissions", len(results)), ("graded", len(graded)), ("ungraded", len(results) - len(graded)),
                  ("mean", f"{statistics.mean(totals):.1f}/{most:g}" if totals else "-"),
                  ("median", f"{statistics.median(totals):g}/{most:g}" if totals else "-"),
                  ("flagged", sum(bool(r.flags) for r in results.values()))],
        "histogram": histogram(results) if graded else None,
        "pass_rates": pass_rate_chart(rates) if graded else None,
        "mistakes_chart": mistakes_chart(found) if found else None,
        "mistakes": [{"id": mistake_id, "entry": mistakes.get(mistake_id), "count": len(students),
                      "who": ", ".join(students[:12]) + (" ..." if len(students) > 12 else "")}
                     for mistake_id, students in ranked],
        "flags": [dict(f, student=student) for student, r in sorted(results.items()) for f in r.flags],
        "notes": [{"student": s, "status": r.status, "what": "; ".join(r.notes + ([r.reason] if r.reason else []))}
                  for s, r in sorted(results.items()) if not r.graded or r.notes],
        "notebooks": names,
        "scores": [{"student": s, "per_notebook": [f"{r.scores.get(n, 0):g}" for n in names],
                    "total": f"{r.score:g}/{r.max_score:g}"} for s, r in graded.items()],
    }


def build_report(root, assignment, results, path):
    """report.html of ``results`` ({student: StudentResult}) at ``path``."""
    page = TEMPLATES.get_template("report.html").render(**report_data(root, assignment, results))
    pathlib.Path(path).write_text(page)
    return path


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    assignment = args[0] if args else "rnn"
    folder = pathlib.Path("reports", assignment)
    results = {student: StudentResult.from_json({**entry, "student": student})
               for student, entry in json.loads((folder / "results.json").read_text()).items()}
    print(build_report(".", assignment, results, folder / "report.html"))


if __name__ == "__main__":
    main()
