"""Writing ``metrics.json`` and ``report.html``, each atomically."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from reducer.report.data import ReportData
from reducer.report.figures import draw_figures
from reducer.report.html import render_html
from reducer.report.summary import build_metrics, to_jsonable


def _atomic_write(path: Path, data: bytes) -> None:
    # A unique name beside the target (same filesystem, so os.replace is atomic); plain open()
    # rather than mkstemp so the file gets the usual umask permissions, not 0600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    out_dir: str | Path, data: ReportData, save_figures: bool = False
) -> tuple[Path, Path]:
    """Compute the metrics and write ``metrics.json`` and ``report.html`` into ``out_dir``.

    Both files are written atomically (temporary file, then ``os.replace``).

    Args:
        out_dir: output folder (created if missing).
        data: traces, timings and provenance, see :class:`ReportData`.
        save_figures: also write each figure as ``figures/<name>.png`` (the HTML does not
            need them; handy for README images).

    Returns:
        ``(metrics_json_path, report_html_path)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = to_jsonable(build_metrics(data))
    text = json.dumps(metrics, indent=2, allow_nan=False)
    figures = draw_figures(data, metrics)
    page = render_html(data, metrics, figures)
    if save_figures:
        (out / "figures").mkdir(exist_ok=True)
        for name, png in figures.items():
            _atomic_write(out / "figures" / f"{name}.png", png)
    json_path, html_path = out / "metrics.json", out / "report.html"
    _atomic_write(json_path, (text + "\n").encode())
    _atomic_write(html_path, page.encode())
    return json_path, html_path
