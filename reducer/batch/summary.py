"""The batch's summary: one row per cell, as CSV and as an HTML index of the cells' reports."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

COLUMNS = ("cell", "status", "gamma_4ms", "gamma_2ms", "subthreshold_rmse_mV", "speedup",
           "floor_speedup", "wall_s", "error", "report")


def cell_row(name: str, run_dir: Path, state: dict[str, Any]) -> dict[str, Any]:
    """The summary row of one cell from its run folder and its batch state."""
    row = {k: "" for k in COLUMNS}
    row.update(cell=name, status=state.get("status", "pending"),
               wall_s=_fmt(state.get("seconds")), error=state.get("error") or "")
    metrics = run_dir / "metrics.json"
    if state.get("status") == "done" and metrics.is_file():
        m = json.loads(metrics.read_text())
        h, s = m.get("heldout") or {}, m.get("speed") or {}
        row.update(gamma_4ms=_fmt(h.get("gamma_4ms")), gamma_2ms=_fmt(h.get("gamma_2ms")),
                   subthreshold_rmse_mV=_fmt(h.get("subthreshold_rmse_mV")),
                   speedup=_fmt(s.get("speedup")), floor_speedup=_fmt(s.get("floor_speedup")),
                   report=f"{name}/report.html")
    return row


def _fmt(x: Any) -> str:
    if x is None or x == "":
        return ""
    x = float(x)
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.3f}"


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_summary(out: Path, rows: list[dict[str, Any]], header: str) -> tuple[Path, Path]:
    """Write ``summary.csv`` and ``index.html`` in ``out`` (atomically); return both paths."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    csv_path, html_path = out / "summary.csv", out / "index.html"
    _atomic_write(csv_path, buf.getvalue())
    _atomic_write(html_path, _html(rows, header))
    return csv_path, html_path


def _html(rows: list[dict[str, Any]], header: str) -> str:
    colour = {"done": "#e6f4e6", "failed": "#fbe3e3"}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = []
    for r in rows:
        cells = []
        for c in COLUMNS:
            v = str(r[c])
            if c == "report" and v:
                cells.append(f'<td><a href="{html.escape(v)}">report</a></td>')
            elif c == "cell":
                cells.append(f'<td><a href="logs/{html.escape(v)}.log">{html.escape(v)}</a></td>')
            else:
                cells.append(f"<td>{html.escape(v)}</td>")
        bg = colour.get(r["status"], "#ffffff")
        body.append(f'<tr style="background:{bg}">{"".join(cells)}</tr>')
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>reduce-cell batch</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:3px 8px;text-align:left}</style></head><body>"
            f"<h1>reduce-cell batch</h1><p>{html.escape(header)}</p>"
            "<p>Γ(4 ms), Γ(2 ms): held-out spike coincidence, reduced cell in NEURON against "
            "the full cell; subthreshold RMSE in mV; speed-up: full / reduced in NEURON on the "
            "timing protocol (floor: the soma alone). The cell's name links its log.</p>"
            f"<table><tr>{head}</tr>{''.join(body)}</table></body></html>\n")
