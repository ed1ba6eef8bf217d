"""The class report: what a class got right and wrong, as one self-contained HTML page.

``build_report`` is called by ``autograde.grade_class`` (``reports/<assignment>/report.html``);
``python -m autograde.report rnn`` rebuilds it from ``reports/rnn/results.json`` and the
autograded notebooks. Sections: score histogram, pass rate per check, the catalogue
mistakes found most often (parsed from the failing cells' "This looks like a known
mistake: ..." messages and mapped back to ``autograde.mistakes``), flagged submissions
with the line that raised each flag, and submissions that could not be graded.
"""
import base64
import collections
import html
import io
import json
import pathlib
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autograde import mistakes, notebooks  # noqa: E402
from autograde.checking import KNOWN_MISTAKE as MARKER  # noqa: E402


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _img(data, alt):
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def cell_text(cell):
    return "\n".join(o.get("text", "") + o.get("evalue", "") for o in cell.get("outputs", []))


def mistakes_found(root, assignment, results):
    """{mistake id: sorted students} from the failing grade cells of the autograded notebooks."""
    entries = mistakes.all_mistakes()
    found = collections.defaultdict(set)
    for student, result in results.items():
        if result.get("status") != "graded":
            continue
        for name, grades in result.get("grades", {}).items():
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
        if result.get("status") != "graded":
            continue
        for name, grades in result.get("grades", {}).items():
            for grade_id, (score, most) in grades.items():
                rates[(name, grade_id)][0] += (score or 0) >= most
                rates[(name, grade_id)][1] += 1
    return dict(sorted(rates.items()))


def histogram(results):
    totals = [100 * r["score"] / r["max_score"] for r in results.values() if r.get("status") == "graded" and r.get("max_score")]
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


def _table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2em}.stats span{margin-right:2em}img{max-width:100%}"""


def build_report(root, assignment, results, path):
    esc = html.escape
    graded = [r for r in results.values() if r.get("status") == "graded"]
    totals = [r["score"] for r in graded]
    most = graded[0]["max_score"] if graded else 0
    found = mistakes_found(root, assignment, results)
    rates = pass_rates(results)
    parts = [f"<!doctype html><meta charset='utf-8'><title>Class report: {esc(assignment)}</title><style>{STYLE}</style>",
             f"<h1>Class report: <code>{esc(assignment)}</code></h1>",
             "<p class='stats'>" + "".join(f"<span><b>{k}</b> {v}</span>" for k, v in [
                 ("submissions", len(results)), ("graded", len(graded)), ("ungraded", len(results) - len(graded)),
                 ("mean", f"{statistics.mean(totals):.1f}/{most:g}" if totals else "-"),
                 ("median", f"{statistics.median(totals):g}/{most:g}" if totals else "-"),
                 ("flagged", sum(bool(r["flags"]) for r in results.values()))]) + "</p>"]
    if graded:
        parts += ["<h2>Scores</h2>", _img(histogram(results), "score histogram")]
        parts += ["<h2>Pass rate per check</h2>",
                  "<p>Share of graded students with full points on each grade cell; red under 50%, orange under 80%.</p>",
                  _img(pass_rate_chart(rates), "pass rate per check")]
    parts.append("<h2>Most frequent catalogue mistakes</h2>")
    if found:
        parts.append(_img(mistakes_chart(found), "most frequent mistakes"))
        rows = []
        for mistake_id, students in sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            entry = mistakes.get(mistake_id)
            rows.append([f"<code>{esc(mistake_id)}</code>", f"{esc(entry.notebook)}<br><code>{esc(entry.function)}</code>",
                         esc(entry.explain), len(students), esc(", ".join(students[:12]) + (" ..." if len(students) > 12 else ""))])
        parts.append(_table(["mistake", "where", "what the feedback says", "students", "who"], rows))
    else:
        parts.append("<p>No failing check matched a catalogue mistake.</p>")
    parts.append("<h2>Flagged submissions</h2><p>The integrity scan flags code for a human to read; scores are unchanged.</p>")
    flag_rows = [[esc(student), esc(f["notebook"]), esc(f["cell"]), f["line_no"], esc(f["why"]), f"<code>{esc(f['line'].strip())}</code>"]
                 for student, r in sorted(results.items()) for f in r["flags"]]
    parts.append(_table(["student", "notebook", "cell", "line", "why", "code"], flag_rows) if flag_rows else "<p>None.</p>")
    parts.append("<h2>Ungraded submissions and notes</h2>")
    note_rows = [[esc(s), esc(r.get("status", "")), esc("; ".join(r.get("notes", []) + ([r["reason"]] if r.get("reason") else [])))]
                 for s, r in sorted(results.items()) if r.get("status") != "graded" or r.get("notes")]
    parts.append(_table(["student", "status", "what happened"], note_rows) if note_rows else "<p>None.</p>")
    parts.append("<h2>Scores per student</h2>")
    names = sorted(graded[0]["max_scores"]) if graded else []
    parts.append(_table(["student"] + [n.split("_")[0] for n in names] + ["total"],
                        [[esc(s)] + [f"{r['scores'].get(n, 0):g}" for n in names] + [f"{r['score']:g}/{r['max_score']:g}"]
                         for s, r in sorted(results.items()) if r.get("status") == "graded"]))
    pathlib.Path(path).write_text("\n".join(parts))
    return path


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    assignment = args[0] if args else "rnn"
    folder = pathlib.Path("reports", assignment)
    results = json.loads((folder / "results.json").read_text())
    print(build_report(".", assignment, results, folder / "report.html"))


if __name__ == "__main__":
    main()
