"""What a run writes: the Markdown summary, the HTML report (with :mod:`.diffs`), the TSV."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .diffs import diff_html, thumbnail_data_uri, word_diff
from .scoring import SCORE_KEYS, EvalReport


def fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def fmt_num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 2) -> list[str]:
    """A Markdown table (the first ``text_columns`` left-aligned, the rest right-aligned)."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


_DETAIL_HEADER = ["n", "CER", "WER", "line CER", "line count =", "order ok", "s / image", "errors"]


def _detail_cells(agg: Mapping[str, Any]) -> list[str]:
    return [
        str(agg["n"]),
        fmt_pct(agg["cer"]),
        fmt_pct(agg["wer"]),
        fmt_pct(agg["line_cer"]),
        fmt_pct(agg["count_match"]),
        fmt_pct(agg["order_ok"]),
        fmt_num(agg["seconds"]),
        str(agg["errors"]),
    ]


def _compare_rows(summary: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    systems = summary["systems"]
    header = ["kind", "n"] + [f"{s} CER" for s in systems] + [f"{s} WER" for s in systems]
    groups = [(k, summary["by_kind"][k]) for k in summary["kinds"]]
    if len(groups) != 1:
        groups.append(("all", summary["overall"]))
    rows = []
    for name, aggs in groups:
        first = aggs[systems[0]]
        rows.append(
            [name, str(first["n"])]
            + [fmt_pct(aggs[s]["cer"]) for s in systems]
            + [fmt_pct(aggs[s]["wer"]) for s in systems]
        )
    return header, rows


def render_summary(summary: Mapping[str, Any], reports: Mapping[str, Path | str] | None = None) -> str:
    """The summary as Markdown-ish text: CER/WER per kind, details per kind and per set, errors."""
    systems = summary["systems"]
    filters = summary.get("filters") or {}
    n_kind = ", ".join(f"{k}: {summary['by_kind'][k][systems[0]]['n']}" for k in summary["kinds"])
    lines = [f"# inkread eval: {summary.get('dataset') or 'samples'}", ""]
    scope = f"{summary['n']} samples ({n_kind})"
    if filters.get("limit"):
        scope += f", first {filters['limit']} per kind"
    lines.append(f"{scope}; mode {summary['mode']}; systems {', '.join(systems)}; {summary['wall_seconds']:.0f} s")
    lines.append("")
    header, rows = _compare_rows(summary)
    lines += markdown_table(header, rows, 1) + [""]

    lines += ["## By kind", ""]
    rows = []
    for kind in summary["kinds"]:
        for system in systems:
            rows.append([kind, system] + _detail_cells(summary["by_kind"][kind][system]))
    if len(summary["kinds"]) != 1:
        for system in systems:
            rows.append(["all", system] + _detail_cells(summary["overall"][system]))
    lines += markdown_table(["kind", "system"] + _DETAIL_HEADER, rows) + [""]

    lines += ["## By set", ""]
    rows = []
    for kind in summary["kinds"]:
        for set_name, aggs in summary["by_set"][kind].items():
            for system in systems:
                rows.append([kind, set_name, system] + _detail_cells(aggs[system]))
    lines += markdown_table(["kind", "set", "system"] + _DETAIL_HEADER, rows, 3) + [""]

    loads = ", ".join(f"{s} {summary['system_info'][s]['load_seconds']:.1f} s" for s in systems)
    lines.append(
        f"Means over samples; CER/WER after NFC and collapsing whitespace (sroie "
        f"case-folded); s / image excludes model loading ({loads}) and failed samples."
    )
    if summary["errors"]:
        lines += ["", f"## Errors ({len(summary['errors'])}, scored as empty output)", ""]
        lines += [f"- {e['system']} {e['set']}/{e['id']}: {e['error']}" for e in summary["errors"]]
    if reports:
        lines += ["", "Reports:"] + [f"  {path}" for path in reports.values()]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1200px;
padding:0 1em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.meta{color:#555}table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f4f4f6}td.t,th.t{text-align:left}
.sample{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.sample h3{margin:.2em 0 .5em;font-size:1.05em}.sample h3 .k{color:#666;font-weight:normal}
.sample.error{border-color:#c33}.err{color:#b00;font-weight:600}
.body{display:flex;gap:1em;align-items:flex-start}.thumb{flex:0 0 auto;max-width:400px}
.thumb img{max-width:400px;border:1px solid #ccc}.noimg{color:#b00;font-style:italic}
.res{flex:1 1 auto;min-width:0}.diff{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;
background:#fafafa;border:1px solid #eee;padding:.4em .6em;margin:.3em 0 .8em;white-space:pre-wrap;
overflow-wrap:anywhere}
del{background:#fdd;color:#900;text-decoration:line-through}ins{background:#dfd;color:#060;
text-decoration:none}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fafafa;
border:1px solid #eee;padding:.4em .6em;margin:.2em 0}
.bad{color:#b00}.ok{color:#060}.legend del,.legend ins{padding:0 .2em}
"""


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int) -> str:
    out = ["<table><thead><tr>"]
    out += [f'<th class="t">{_h(c)}</th>' if i < text_columns else f"<th>{_h(c)}</th>" for i, c in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="t">{_h(c)}</td>' if i < text_columns else f"<td>{_h(c)}</td>" for i, c in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def render_html(report: EvalReport, *, thumbnails: bool = True) -> str:
    """The report as one self-contained HTML page (inline CSS, embedded JPEG thumbnails, no JS)."""
    summary, samples = report.summary, report.samples
    systems = summary["systems"]
    title = f"inkread eval — {summary.get('dataset') or 'samples'}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_h(title)}</h1>",
    ]
    info = "; ".join(
        f"{_h(summary['system_info'][s]['version'])} (load {summary['system_info'][s]['load_seconds']:.1f} s)"
        for s in systems
    )
    out.append(
        f'<p class="meta">{summary["n"]} samples; mode {_h(summary["mode"])}; {info}; '
        f"{_h(summary['created'])}; {summary['wall_seconds']:.0f} s in all.</p>"
    )
    if summary.get("command"):
        out.append(f'<p class="meta">Command: <code>{_h(summary["command"])}</code></p>')

    out.append("<h2>Summary</h2>")
    header, rows = _compare_rows(summary)
    out.append(_html_table(header, rows, 1))
    out.append("<h3>By kind</h3>")
    rows = [
        [kind, system] + _detail_cells(summary["by_kind"][kind][system])
        for kind in summary["kinds"]
        for system in systems
    ]
    if len(summary["kinds"]) != 1:
        rows += [["all", system] + _detail_cells(summary["overall"][system]) for system in systems]
    out.append(_html_table(["kind", "system"] + _DETAIL_HEADER, rows, 2))
    out.append("<h3>By set</h3>")
    rows = [
        [kind, set_name, system] + _detail_cells(aggs[system])
        for kind in summary["kinds"]
        for set_name, aggs in summary["by_set"][kind].items()
        for system in systems
    ]
    out.append(_html_table(["kind", "set", "system"] + _DETAIL_HEADER, rows, 3))
    out.append(
        '<p class="meta">Means over samples. CER/WER after NFC and collapsing every '
        "whitespace run to one space (sroie case-folded). <i>line CER</i>: mean CER over a "
        "monotone alignment of non-empty lines (an unpaired line counts 100%). <i>line count "
        "=</i>: share of samples with as many lines as the reference; <i>order ok</i>: also "
        "in reading order. <i>s / image</i> excludes model loading and failed samples.</p>"
    )
    if summary["errors"]:
        out.append(f"<h2>Errors ({len(summary['errors'])})</h2><p>Scored as empty output.</p><ul>")
        out += [
            f'<li><a href="#{_h(_anchor(e))}">{_h(e["set"])}/{_h(e["id"])}</a> '
            f'({_h(e["system"])}): <span class="err">{_h(e["error"])}</span></li>'
            for e in summary["errors"]
        ]
        out.append("</ul>")

    out.append(f"<h2>Samples, worst first ({len(samples)})</h2>")
    out.append(
        '<p class="legend meta">Diff of ground truth and output, word by word, as scored: '
        "<del>only in the ground truth</del> <ins>only in the output</ins>.</p>"
    )
    for record in samples:
        main = record["systems"]["inkread"]
        failed = any(r["error"] for r in record["systems"].values())
        out.append(
            f'<section class="sample{" error" if failed else ""}" id="{_h(_anchor(record))}" '
            f'data-rank="{record["rank"]}" data-id="{_h(record["id"])}" '
            f'data-set="{_h(record["set"])}" data-cer="{main["cer"]:.6f}">'
        )
        resolved = main.get("resolved_mode")
        mode = record["mode"] + (f" → {resolved}" if resolved and resolved != record["mode"] else "")
        out.append(
            f'<h3>#{record["rank"]} {_h(record["id"])} <span class="k">{_h(record["set"])} · '
            f"{_h(record['kind'])} · {_h(record['language'])} · mode {_h(mode)} · "
            f"inkread CER {fmt_pct(main['cer'])}, WER {fmt_pct(main['wer'])}</span></h3>"
        )
        out.append('<div class="body"><div class="thumb">')
        uri = thumbnail_data_uri(record["image"]) if thumbnails else None
        if uri:
            out.append(f'<img src="{uri}" alt="{_h(record["id"])}">')
        else:
            out.append(f'<p class="noimg">(no preview: {_h(Path(record["image"]).name)})</p>')
        out.append('</div><div class="res">')
        rows = []
        for system in systems:
            r = record["systems"][system]
            rows.append(
                [
                    system,
                    fmt_pct(r["cer"]),
                    fmt_pct(r["wer"]),
                    fmt_pct(r["line_cer"]),
                    f"{r['hyp_lines']}/{r['ref_lines']}",
                    "yes" if r["order_ok"] else "no",
                    fmt_num(r["seconds"]),
                ]
            )
        out.append(_html_table(["system", "CER", "WER", "line CER", "lines out/ref", "order ok", "s"], rows, 1))
        for system in systems:
            r = record["systems"][system]
            out.append(f"<div><b>{_h(system)}</b>")
            if r["error"]:
                out.append(f' <span class="err">error: {_h(r["error"])}</span>')
            ops = word_diff(record["reference"], r["text"], casefold=record["casefold"])
            out.append(f'<div class="diff">{diff_html(ops) or "<i>(both empty)</i>"}</div></div>')
        out.append("<details><summary>texts with their lines</summary>")
        out.append(f"<div><b>ground truth</b><pre>{_h(record['reference'])}</pre></div>")
        for system in systems:
            out.append(f"<div><b>{_h(system)}</b><pre>{_h(record['systems'][system]['text'])}</pre></div>")
        out.append("</details></div></div></section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _anchor(record: Mapping[str, Any]) -> str:
    return "s-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{record['set']}--{record['id']}")


TSV_COLUMNS = [
    "rank",
    "id",
    "set",
    "kind",
    "language",
    "system",
    "mode",
    "resolved_mode",
    *SCORE_KEYS,
    "seconds",
    "error",
    "image",
    "reference",
    "output",
    "diff",
]


def _tsv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6f}"
    return " ".join(str(value).split())


def render_tsv(report: EvalReport) -> str:
    """One row per sample and system, samples worst first; texts with whitespace collapsed."""
    from ..metrics import normalize_text

    lines = ["\t".join(TSV_COLUMNS)]
    for record in report.samples:
        for system, r in record["systems"].items():
            row = {
                **record,
                **r,
                "system": system,
                "output": normalize_text(r["text"]),
                "reference": normalize_text(record["reference"]),
                "mode": record["mode"] if system == "inkread" else "",
            }
            lines.append("\t".join(_tsv(row.get(c)) for c in TSV_COLUMNS))
    return "\n".join(lines) + "\n"


def write_reports(report: EvalReport, out_dir: str | os.PathLike[str], *, thumbnails: bool = True) -> dict[str, Path]:
    """Write ``report.html``, ``report.json`` and ``samples.tsv`` into ``out_dir`` (created)."""
    from ..cli import CliError, write_atomic

    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise CliError(
            f"cannot write the report to {folder}: it exists and is not a folder", hint="give another -o REPORT_DIR"
        )
    paths = {"html": folder / "report.html", "json": folder / "report.json", "tsv": folder / "samples.tsv"}
    write_atomic(paths["tsv"], render_tsv(report))
    write_atomic(paths["json"], json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n")
    write_atomic(paths["html"], render_html(report, thumbnails=thumbnails))
    return paths
