"""Step 6 of class grading: the class files, ``reports/<assignment>/``.

``scores.csv`` (one row per student), ``results.json`` (status, notes, integrity flags,
grades per student) and ``report.html`` (``autograde.grading.report``), plus the table of
scores printed at the end. They cover the whole class: re-grading some students
(``--students``) replaces their entries and keeps everyone else's.
"""
import csv
import json
import pathlib


def earlier_results(path, root, assignment):
    """The entries of an earlier results.json whose students still have a submission."""
    try:
        earlier = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(earlier, dict):
        return {}
    return {student: r for student, r in earlier.items()
            if isinstance(r, dict) and pathlib.Path(root, "submitted", student, assignment).is_dir()}


def _notebooks(results):
    return sorted(next(iter(results.values()), {}).get("max_scores", {}))


def write_results(path, results):
    pathlib.Path(path).write_text(json.dumps(results, indent=1, sort_keys=True, default=str))


def write_csv(path, results):
    notebooks = _notebooks(results)
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["student", "status"] + notebooks + ["total", "late penalty", "max", "flags", "notes"])
        for student, r in sorted(results.items()):
            graded = r.get("status") == "graded"
            out.writerow([student, r.get("status")] + [f"{r['scores'].get(n, 0):g}" if graded else "" for n in notebooks]
                         + [f"{r['score']:g}" if graded else "", f"{r.get('late_penalty', 0):g}" if graded else "",
                            f"{r.get('max_score', 0):g}", len(r.get("flags", [])),
                            "; ".join(r.get("notes", []) + ([r["reason"]] if r.get("reason") else []))])


def score_table(results):
    notebooks = _notebooks(results)
    header = ["student"] + [n.split("_")[0] for n in notebooks] + ["total", "flags", "status"]
    rows = []
    for student, r in sorted(results.items()):
        graded = r.get("status") == "graded"
        cells = [f"{r['scores'].get(n, 0):g}/{r['max_scores'][n]:g}" if graded else "-" for n in notebooks]
        rows.append([student] + cells + [f"{r['score']:g}/{r['max_score']:g}" if graded else "-",
                                         str(len(r.get("flags", [])) or ""),
                                         "graded" if graded else f"UNGRADED: {r.get('reason')}"])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header) - 1)]
    line = lambda row: "  ".join([c.ljust(w) for c, w in zip(row, widths)] + [row[-1]])  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths] + ["-" * 6])] + [line(r) for r in rows])


def summary(results, report_dir, report, elapsed):
    graded = [r for r in results.values() if r.get("status") == "graded"]
    flagged = [s for s, r in results.items() if r.get("flags")]
    lines = [f"\n{len(graded)} graded, {len(results) - len(graded)} ungraded, {len(flagged)} flagged, in {elapsed:.0f} s"]
    for student, r in sorted(results.items()):
        lines += [f"  note {student}: {note}" for note in r.get("notes", [])]
    lines.append(f"scores: {pathlib.Path(report_dir) / 'scores.csv'}")
    if report:
        lines.append(f"class report: {pathlib.Path(report_dir) / 'report.html'}")
    return "\n".join(lines)
