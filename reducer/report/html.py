"""The self-contained ``report.html``: tables, notes and base64-embedded figures."""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reducer.protocols import DC_KEEP_BELOW_MV
from reducer.report.data import ReportData
from reducer.report.summary import perturbation_label, perturbed_by_size, range_message
from reducer.validate.synaptic import STUCK_MS

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
img { max-width: 100%; display: block; margin: .5em 0 1.5em; }
.note { color: #555; font-size: .9em; }
"""


def fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    return f"{float(x):.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], left_cols: int = 1) -> str:
    def cell(tag: str, i: int, v: Any) -> str:
        cls = ' class="l"' if i < left_cols else ""
        return f"<{tag}{cls}>{v}</{tag}>"

    head = "".join(cell("th", i, html.escape(str(h))) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _gamma_cell(summary: dict[str, Any], key: str) -> str:
    n = summary.get(f"n_{key}", 0)
    return f"{fmt(summary.get(key))} <span class='note'>({n}/{summary['n_protocols']})</span>"


def _summary_table(metrics: dict[str, Any]) -> str:
    h, b, sp = metrics["heldout"], metrics["baseline"], metrics["speed"]
    header = ["held-out protocols", "reduced (trained)"] + (
        ["linear filter-bank baseline"] if b else []
    )

    def row(label: str, fn) -> list[str]:
        return [html.escape(label), fn(h)] + ([fn(b)] if b else [])

    rows = [
        row("Γ(4 ms), mean (defined / protocols)", lambda s: _gamma_cell(s, "gamma_4ms")),
        row("Γ(2 ms), mean (defined / protocols)", lambda s: _gamma_cell(s, "gamma_2ms")),
        row("voltage RMSE (mV)", lambda s: fmt(s["v_rmse_mV"], 2)),
        row("subthreshold RMSE, ±5 ms cut (mV)", lambda s: fmt(s["subthreshold_rmse_mV"], 2)),
        row(
            "spikes: model / full (total)", lambda s: f"{s['n_spikes_model']} / {s['n_spikes_ref']}"
        ),
        row("mean |spike-count error|", lambda s: fmt(s["spike_count_error"], 2)),
        [html.escape("speed-up vs full cell (NEURON)"), fmt(sp["speedup"], 1) + "×"]
        + ([fmt(sp["baseline_speedup"], 1) + "×"] if b else []),
    ]
    # After the two Γ rows: what Γ the protocols allow, one row per offset size, and the
    # reduced cell's Γ on the protocols the full cell reproduces.
    extra = []
    for fp in h.get("full_cell_perturbed") or []:
        label = f"Γ(4 ms) of the full cell against itself, {perturbation_label(fp)} added"
        extra.append([html.escape(label), fmt(fp["gamma_4ms"])] + (["—"] if b else []))
    rep = h.get("reproducible")
    if rep:
        label = (f"Γ(4 ms) on the protocols where the full cell keeps Γ(4 ms) ≥ "
                 f"{rep['min_full_cell_gamma_4ms']:g} against itself with "
                 f"{perturbation_label(rep)} added")
        extra.append([html.escape(label), f"{fmt(rep['gamma_4ms'])} <span class='note'>"
                      f"({rep['n_gamma_4ms']}/{h['n_protocols']})</span>"]
                     + (["—"] if b else []))
    rows[2:2] = extra
    if h["n_model_trace_nonfinite"] or (b and b["n_model_trace_nonfinite"]):
        rows.append(
            row(
                "diverged model traces (NaN/inf; RMSE undefined)",
                lambda s: str(s["n_model_trace_nonfinite"]),
            )
        )
    floor = (
        f"<p class='note'>Floor (soma-only cell, same channels): "
        f"{fmt(sp['floor_speedup'], 1)}× faster than the full cell.</p>"
    )
    return _table(header, rows) + floor


def _pct(x: Any) -> float | None:
    return None if x is None else 100.0 * float(x)


def _own(x: Any, unit: str) -> str:
    """A full-cell tolerance cell: a percentage (``unit`` "%") or a value in ``unit`` (ms, mV);
    blank where undefined."""
    if x is None or not math.isfinite(float(x)):
        return ""
    return f"{fmt(_pct(x), 1)} %" if unit == "%" else f"{fmt(x, 2)} {unit}"


def _headline_html(metrics: dict[str, Any]) -> str:
    """Fluctuating inputs judged by Γ beside the full cell's own reliability; steps judged by
    rate, latency, ISI statistics, subthreshold RMSE and rest."""
    h = metrics["heldout"]
    fl, st = h.get("fluctuating"), h.get("steps")
    parts = []
    if fl and fl["n_protocols"]:
        intr = fl.get("intrinsic")
        label = perturbation_label(intr) if intr else ""
        header = ["fluctuating input", "reduced Γ(4 ms)", "reduced Γ(2 ms)"] + (
            [f"full cell {label}: Γ(4 ms)", "Γ(2 ms)"] if intr else [])
        rows = [[html.escape(r["name"]), fmt(r["gamma_4ms"]), fmt(r["gamma_2ms"])]
                + ([fmt(r["intrinsic_gamma_4ms"]), fmt(r["intrinsic_gamma_2ms"])] if intr else [])
                for r in fl["per_protocol"]]
        rows.append(["<b>mean</b>", f"<b>{fmt(fl['gamma_4ms'])}</b>", fmt(fl["gamma_2ms"])]
                    + ([fmt(intr["gamma_4ms"]), fmt(intr["gamma_2ms"])] if intr else []))
        if intr:
            rows.append(["<b>reduced / full cell's own</b>",
                         f"<b>{fmt(fl['normalised_gamma_4ms'])}</b>",
                         fmt(fl["normalised_gamma_2ms"]), "", ""])
        parts.append(_table(header, rows))
        parts.append(
            "<p class='note'>Spike timing is judged where the cell itself is reliable: under "
            "fluctuating input (Mainen &amp; Sejnowski 1995). The full cell's own Γ is the full "
            f"cell against itself with a constant {html.escape(label)} added to the stimulus: "
            "how much of its timing survives a current error that small. Γ / that is the "
            "reduced cell's score relative to what the cell's own reliability allows (Jolivet "
            "et al. 2008 divide by intrinsic reliability the same way); 1 = as reliable as the "
            "full cell is under this perturbation.</p>" if intr else "")
    if st and st["n_steps"]:
        rows = [[html.escape(r["name"]), fmt(r["rate_full_hz"], 1), fmt(r["rate_reduced_hz"], 1),
                 _own(r.get("own_rate_rel_change"), "%"),
                 fmt(r.get("latency_full_ms"), 2), fmt(r.get("latency_reduced_ms"), 2),
                 _own(r.get("own_latency_shift_ms"), "ms"),
                 fmt(r.get("isi_cv_full"), 2), fmt(r.get("isi_cv_reduced"), 2),
                 fmt(r.get("adaptation_full"), 3), fmt(r.get("adaptation_reduced"), 3),
                 fmt(r.get("rest_full_mV"), 2), fmt(r.get("rest_reduced_mV"), 2),
                 fmt(r.get("subthreshold_rmse_mV"), 2),
                 _own(r.get("own_subthreshold_rmse_mV"), "mV")] for r in st["per_step"]]
        for key, label in (("fi", "f–I steps"), ("heldout_steps", "held-out steps")):
            g = st.get(key)
            if not g or not g["n_steps"]:
                continue
            rows.append([f"<b>largest error, {label}</b>", "",
                         f"<b>{fmt(_pct(g['max_abs_rate_rel_error']), 1)} %</b>",
                         _own(g.get("max_own_rate_rel_change"), "%"), "",
                         f"<b>{fmt(g['max_abs_latency_error_ms'], 2)} ms</b>",
                         _own(g.get("max_own_latency_shift_ms"), "ms")] + [""] * 8)
        rows.append(["<b>largest error, all steps</b>",
                     "", f"<b>{fmt(_pct(st['max_abs_rate_rel_error']), 1)} %</b>", "", "",
                     f"<b>{fmt(st['max_abs_latency_error_ms'], 2)} ms</b>", "", "",
                     fmt(st["max_abs_isi_cv_error"], 2), "",
                     fmt(st["max_abs_adaptation_error"], 3), "",
                     f"<b>{fmt(st['max_abs_rest_error_mV'], 2)} mV</b>",
                     f"<b>{fmt(st['subthreshold_rmse_mV'], 2)}</b> (mean)",
                     _own(st.get("own_subthreshold_rmse_mV"), "mV")])
        own = perturbation_label(fl["intrinsic"]) if fl and fl.get("intrinsic") else "±1 %"
        header = ["step", "rate full (Hz)", "reduced", f"full cell's own rate change ({own})",
                  "latency full (ms)", "reduced", "full cell's own latency shift (ms)",
                  "ISI CV full", "reduced", "adaptation full", "reduced", "rest full (mV)",
                  "reduced", "subthreshold RMSE (mV)",
                  "full cell's own subthreshold RMSE (mV)"]
        parts.append(_table(header, rows))
        parts.append("<p class='note'>Steps (held-out steps and the f–I steps) are judged by "
                     "firing rate, first-spike latency, ISI CV, adaptation index (mean of "
                     "(ISI<sub>k+1</sub> − ISI<sub>k</sub>) / (ISI<sub>k+1</sub> + "
                     "ISI<sub>k</sub>)), rest (the 20 ms before the step) and subthreshold "
                     "RMSE. The full cell's own columns say how far its rate, latency and "
                     "subthreshold trace move when the same small current as above is added: "
                     "an error of that size is "
                     "within what the cell itself keeps (a near-threshold step can gain or lose "
                     "a spike). Their Γ is in the table of all held-out protocols below as a "
                     "diagnostic: on a steady step the full cell's own spike times drift with "
                     "a fraction of a pA.</p>")
    return "".join(parts)


def _protocol_table(metrics: dict[str, Any]) -> str:
    per = metrics["heldout"]["per_protocol"]
    has_base = any("baseline" in p for p in per)
    header = [
        "protocol",
        "kind",
        "regime",
        "spikes full",
        "spikes reduced",
        "Γ(4 ms)",
        "Γ(2 ms)",
        "RMSE (mV)",
        "sub-thr. RMSE (mV)",
    ]
    sizes = metrics["heldout"].get("full_cell_perturbed") or []
    header += [f"full cell {perturbation_label(e)}: Γ(4 ms)" for e in sizes]
    if has_base:
        header += ["baseline spikes", "baseline Γ(4 ms)", "baseline RMSE (mV)"]
    rows = []
    for p in per:
        r = [
            html.escape(p["name"]),
            html.escape(p["kind"]),
            html.escape(p["regime"]),
            p["n_spikes_ref"],
            p["n_spikes_model"],
            fmt(p["gamma_4ms"]),
            fmt(p["gamma_2ms"]),
            fmt(p["v_rmse_mV"], 2),
            fmt(p["subthreshold_rmse_mV"], 2),
        ]
        own = perturbed_by_size(p)
        r += [fmt(own[e["offset_pA"]]["gamma_4ms"]) if e["offset_pA"] in own else "—"
              for e in sizes]
        if has_base:
            bl = p.get("baseline")
            r += (
                [bl["n_spikes_model"], fmt(bl["gamma_4ms"]), fmt(bl["v_rmse_mV"], 2)]
                if bl
                else ["—"] * 3
            )
        rows.append(r)
    h = metrics["heldout"]
    runaway = range_message(h["per_protocol"])
    return (_table(header, rows, left_cols=3)
            + (f"<p><b>Warning:</b> {html.escape(runaway)}</p>" if runaway else "")
            + _unreproducible_note(h) + _undefined_gamma_note(h))


def _undefined_gamma_note(h: dict[str, Any]) -> str:
    """Names the spiking protocols whose Γ(4 ms) is undefined, and why: the means skip them,
    so a model firing too fast would otherwise drop out of the average unnoticed."""
    bad = [p for p in h["per_protocol"]
           if (p["n_spikes_ref"] or p["n_spikes_model"])
           and (p["gamma_4ms"] is None or not math.isfinite(p["gamma_4ms"]))]
    if not bad:
        return ""
    names = ", ".join(f"{p['name']} (reduced cell at {fmt(p['rate_model_hz'], 0)} Hz)"
                      for p in bad)
    return (f"<p class='note'>Γ(4 ms) is undefined on {html.escape(names)}: at a rate ν with "
            "2νΔ ≥ 1 (125 Hz for Δ = 4 ms) its chance correction leaves nothing to compare. "
            "The Γ means leave a protocol out where Γ is undefined; its spike count and RMSEs "
            "still count.</p>")


def _unreproducible_note(h: dict[str, Any]) -> str:
    """Names the held-out protocols whose Γ the full cell itself loses to a few pA."""
    rep = h.get("reproducible")
    if not rep:
        return ""
    size = rep["offset_pA"]
    bad = []
    for p in h["per_protocol"]:
        e = perturbed_by_size(p).get(size)
        if e is None or p["name"] in rep["protocols"]:
            continue
        if p["n_spikes_ref"] or any(e["n_spikes"]):  # protocols without spikes have no Γ
            bad.append(f"{p['name']} ({fmt(e['gamma_4ms'])})")
    if not bad:
        return ""
    return (f"<p class='note'>The full cell against itself with {perturbation_label(rep)} added "
            f"scores Γ(4 ms) below {rep['min_full_cell_gamma_4ms']:g} on "
            f"{html.escape(', '.join(bad))}: there Γ measures phase drift or threshold "
            "crossings that a current this small decides, not only the reduction.</p>")


def _speed_table(metrics: dict[str, Any]) -> str:
    sp = metrics["speed"]
    rows = [
        ["full cell", fmt(sp["full_s"], 4), "1.0×"],
        ["reduced cell", fmt(sp["reduced_s"], 4), fmt(sp["speedup"], 1) + "×"],
        ["soma only (floor)", fmt(sp["soma_only_s"], 4), fmt(sp["floor_speedup"], 1) + "×"],
    ]
    if sp["baseline_s"] is not None:
        rows.append(
            ["linear baseline", fmt(sp["baseline_s"], 4), fmt(sp["baseline_speedup"], 1) + "×"]
        )
    if sp["jax_s"] is not None:
        rows.append(["reduced model in JAX", fmt(sp["jax_s"], 4), "—"])
    note = (
        f"<p class='note'>NEURON wall time for {fmt(sp['simulated_ms'], 0)} ms simulated, "
        f"median of {sp['repeats']} runs in the same process, fixed dt. "
        "JAX time is after compilation and not a NEURON speed-up.</p>"
    )
    return _table(["simulation", "wall time (s)", "speed-up vs full"], rows) + note


def _jax_table(metrics: dict[str, Any]) -> str:
    rows = []
    for p in metrics["heldout"]["per_protocol"]:
        j = p.get("jax_vs_neuron")
        if j:
            rows.append(
                [
                    html.escape(p["name"]),
                    fmt(j["max_spike_shift_ms"], 4),
                    fmt(j["max_abs_dv_mV"], 3),
                    fmt(j["v_rmse_mV"], 3),
                    f"{j['n_spikes_model']} / {j['n_spikes_ref']}",
                ]
            )
    if not rows:
        return ""
    tabulated = metrics.get("provenance", {}).get("extra", {}).get("use_table")
    gates = ("The export tabulates z_inf(V) and tau(V) (NMODL TABLE, linear between 0.1 mV "
             "nodes); the JAX model reads the same table. " if tabulated else
             "The export computes z_inf(V) and tau(V) exactly at every step (--exact-gates). ")
    return (
        "<h2>JAX model against the exported NEURON mechanism</h2>"
        "<p class='note'>The same model in both simulators. " + gates +
        "Spike times should agree within 0.1 ms until chaos sets in.</p>"
        + _table(
            [
                "protocol",
                "max spike shift (ms)",
                "max |ΔV| (mV)",
                "RMSE (mV)",
                "spikes JAX / NEURON",
            ],
            rows,
        )
    )


def stuck_message(check: dict[str, Any]) -> str:
    """What a stuck reduced cell in the synaptic check means, and what to do."""
    n, total = check["n_stuck"], len(check["conditions"])
    return (f"under strong synaptic input the reduced cell stays above -40 mV for over "
            f"{STUCK_MS:g} ms "
            f"where the full cell keeps firing ({n} of {total} conditions): it locks into "
            "depolarisation block. A run made with --no-holds should be made again with "
            "--holds on (or auto); otherwise try --protocols default+synaptic or another "
            "--seed (README).")


def holds_message(holds: dict[str, Any]) -> str:
    """One sentence on the held-depolarised training steps: used or not, and why."""
    if holds["option"] != "auto":
        return (f"Held-depolarised training steps and the DC I-V above {DC_KEEP_BELOW_MV:g} mV: "
                f"{holds['option']} (--holds).")
    if not holds["used"]:
        return ("--holds auto: the model trained without the held-depolarised steps did not "
                "lock in the synaptic check, so it is the exported model (the check below is "
                "its own).")
    return ("--holds auto: the model trained without the held-depolarised steps was set aside "
            f"in {holds['no_holds_export']}, because {set_aside_reason(holds['no_holds_check'])}"
            "; the exported model was trained again with them.")


def set_aside_reason(check: dict[str, Any]) -> str:
    """Why ``--holds auto`` set its first model aside, from that model's synaptic check."""
    if check.get("skipped"):
        return f"the check could not run ({check['skipped']})"
    return f"it locked in {check['n_stuck']} of {len(check['conditions'])} conditions"


def _check_table(sc: dict[str, Any]) -> str:
    rows = [[fmt(c["drive"], 2), c["seed"], fmt(c["gamma_4ms"]),
             f"{c['n_spikes_full']} / {c['n_spikes_reduced']}",
             f"{c['longest_depolarised_ms_full']:.1f} / {c['longest_depolarised_ms_reduced']:.1f}",
             "yes" if c["stuck"] else "no"] for c in sc["conditions"]]
    return _table(["drive (× rheobase)", "seed", "Γ(4 ms)", "spikes full / reduced",
                   "longest above −40 mV, full / reduced (ms)", "stuck"], rows, left_cols=0)


def _synaptic_html(metrics: dict[str, Any]) -> str:
    sc = metrics.get("synaptic_check")
    holds = metrics.get("holds")
    parts = ["<h2>Synaptic input (depolarisation-block check)</h2>"]
    if holds:
        parts.append(f"<p>{html.escape(holds_message(holds))}</p>")
        set_aside = holds.get("no_holds_check") if holds["used"] else None
        if set_aside and not set_aside.get("skipped"):
            parts.append("<p class='note'>The set-aside model (without the held steps):</p>"
                         + _check_table(set_aside))
    if not sc:
        return "".join(parts) if holds else ""
    if sc.get("skipped"):
        parts.append(f"<p class='note'>Not run: {html.escape(sc['skipped'])}</p>")
        return "".join(parts)
    d = sc["drive"]
    parts += [
        "<p class='note'>Both cells in NEURON under the same somatic Poisson excitation "
        f"({d['exc_rate_hz']:g} Hz, ExpSyn tau {d['tau_exc_ms']:g} ms) and inhibition "
        f"({d['inh_rate_hz']:g} Hz, tau {d['tau_inh_ms']:g} ms) for {d['dur_ms']:g} ms; drive "
        "= mean synaptic current at rest in rheobases. Stuck: the reduced cell stays above "
        f"−40 mV for over {STUCK_MS:g} ms where the full cell does not. More conditions: "
        "benchmarks/synaptic_input.py.</p>",
        _check_table(sc),
    ]
    if sc["n_stuck"]:
        parts.append(f"<p><b>Warning:</b> {html.escape(stuck_message(sc))}</p>")
    return "".join(parts)


def _training_html(metrics: dict[str, Any], figures: dict[str, bytes]) -> str:
    tr = metrics["training"]
    if tr is None:
        return ""
    rows = [
        [
            html.escape(name),
            s["n_steps"],
            fmt(s["final_loss"], 5),
            fmt(s["min_loss"], 5),
            fmt(s["wall_time_s"], 1),
        ]
        for name, s in tr["stages"].items()
    ]
    parts = [
        "<h2>Training</h2>",
        _table(["stage", "steps", "final loss", "min loss", "wall time (s)"], rows),
    ]
    if tr["chosen_checkpoint"]:
        parts.append(f"<p>Exported checkpoint: {html.escape(str(tr['chosen_checkpoint']))}</p>")
    if "training" in figures:
        parts.append(_img(figures["training"], "training loss per stage"))
    return "".join(parts)


def render_html(data: ReportData, metrics: dict[str, Any], figures: dict[str, bytes]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>reduce-cell report: {esc(data.cell_name)}</title><style>{_CSS}</style></head>",
        f"<body><h1>reduce-cell report: {esc(data.cell_name)}</h1>",
        "<p class='note'>Full cell and exported reduced cell, both simulated in NEURON on "
        "held-out protocols never used in training. Spikes: upward crossings of −20 mV. "
        "Γ: coincidence factor (Kistler 1997; Jolivet 2008), 1 = every spike within ±Δ, "
        "0 = chance; undefined where neither trace spikes (left out of the mean, counted). "
        "Subthreshold RMSE cuts ±5 ms around every spike of either trace.</p>",
        "<h2>Headline: fluctuating inputs and steps</h2>",
        _headline_html(metrics),
        "<h2>Summary over every held-out protocol</h2>",
        _summary_table(metrics),
        "<h2>Held-out protocols</h2>",
        _protocol_table(metrics),
        "<h2>Speed (NEURON)</h2>",
        _speed_table(metrics),
        _synaptic_html(metrics),
        _jax_table(metrics),
        "<h2>Traces</h2>",
    ]
    for i, p in enumerate(data.heldout):
        parts.append(f"<h3>{esc(p.name)}</h3>")
        parts.append(_img(figures[f"protocol_{i:02d}"], f"traces of {p.name}"))
    if "learned_curves" in figures:
        parts += [
            "<h2>Learned gates</h2>",
            _img(figures["learned_curves"], "learned z_inf(V) and tau(V)"),
        ]
    if "fi_curve" in figures:
        fi = metrics["fi_curve"]
        rows = [
            [fmt(a, 3), fmt(f, 1), fmt(r, 1)]
            + ([fmt(b, 1)] if fi["rate_baseline_hz"] is not None else [])
            for a, f, r, b in zip(
                fi["amplitudes_nA"],
                fi["rate_full_hz"],
                fi["rate_reduced_hz"],
                fi["rate_baseline_hz"] or [None] * len(fi["amplitudes_nA"]),
                strict=True,
            )
        ]
        header = ["step (nA)", "full (Hz)", "reduced (Hz)"] + (
            ["baseline (Hz)"] if fi["rate_baseline_hz"] is not None else []
        )
        parts += [
            "<h2>f–I curve</h2>",
            _img(figures["fi_curve"], "f-I curve"),
            _table(header, rows, left_cols=0),
        ]
    parts.append(_training_html(metrics, figures))
    if data.notes:
        parts.append(
            "<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in data.notes) + "</ul>"
        )
    prov = metrics["provenance"]
    prov_rows = [
        [esc(k), esc(json.dumps(v) if isinstance(v, dict) else str(v))] for k, v in prov.items()
    ]
    parts += [
        "<h2>Provenance</h2>",
        _table(["field", "value"], prov_rows, left_cols=2),
        "</body></html>",
    ]
    return "\n".join(parts)
