"""Validation report: ``metrics.json`` and a self-contained ``report.html``.

Modules: ``data`` (the dataclasses a caller fills), ``summary`` (the numbers of
``metrics.json``), ``figures`` and ``plots`` (PNG figures), ``html`` (the page), ``write``
(both files, atomically).

The caller (``reducer.validate`` / the CLI) runs the full and the reduced cell in NEURON on the
held-out protocols and times them; this module turns those traces and timings into numbers
(with :mod:`reducer.metrics`) and a readable page (plots from :mod:`reducer.report.plots`,
embedded as base64 PNGs so the HTML is one file).

``metrics.json`` layout (all floats finite or ``null``; JSON has no NaN)::

    schema_version, cell_name, provenance{...}
    heldout{gamma_4ms, gamma_2ms, v_rmse_mV, subthreshold_rmse_mV, spike_count_error, ...,
            per_protocol[{name, kind, regime, <metrics>, baseline{...}?, jax_vs_neuron{...}?,
                          axial{...}?, full_cell_perturbed[...]?}],
            full_cell_perturbed[{offset_pA, offset_pct_rheobase?, gamma_4ms, gamma_2ms, ...}]?,
            reproducible{offset_pA, min_full_cell_gamma_4ms, protocols, gamma_4ms, ...}?}
    baseline{same summary keys} | null          linear filter-bank baseline, where given
    jax_vs_neuron{same summary keys} | null     JAX twin against the NEURON reduced cell
    speed{full_s, reduced_s, soma_only_s, speedup, floor_speedup, baseline_s, baseline_speedup,
          jax_s, simulated_ms, repeats}
    fi_curve{amplitudes_nA, rate_full_hz, rate_reduced_hz, rate_baseline_hz} | null
    learned_curves{n_states, v_min_mV, v_max_mV, tau_min_ms, tau_max_ms} | null
    training{stages{name: {n_steps, final_loss, min_loss, wall_time_s}}, chosen_checkpoint,
             loss_history{name: [...]}} | null
    notes[...]

``full_cell_perturbed`` (schema 2: a list, one entry per offset size, ascending) scores the
full cell against itself with ±x pA added to the held-out stimulus: a Γ the full cell loses
to a few pA of input is a Γ no reduction can be expected to reach. ``reproducible`` averages
the reduced cell's Γ over the protocols the full cell keeps at Γ(4 ms) ≥ 0.85 with the largest
offset; ``gamma_4ms`` above stays the mean over all held-out protocols.

Summary keys are those of :func:`reducer.metrics.summarise`: means over protocols, NaN Γ
(no spikes in either trace) left out and counted in ``n_gamma_4ms``; ``spike_count_error`` is
the mean absolute count error.
"""

from reducer.report.data import (
    SCHEMA_VERSION,
    FICurve,
    HeldoutProtocol,
    LearnedCurves,
    Provenance,
    ReportData,
    SpeedTimings,
    TrainingSummary,
)
from reducer.report.html import holds_message, set_aside_reason, stuck_message
from reducer.report.summary import (
    RANGE_MARGIN_MV,
    build_metrics,
    intrinsic_offset_pA,
    own_step_tolerance,
    perturbation_label,
    protocol_metrics,
    range_message,
    to_jsonable,
)
from reducer.report.write import write_report

__all__ = ["RANGE_MARGIN_MV", "SCHEMA_VERSION", "FICurve", "HeldoutProtocol", "LearnedCurves",
           "Provenance", "ReportData", "SpeedTimings", "TrainingSummary", "build_metrics",
           "holds_message", "intrinsic_offset_pA", "own_step_tolerance", "perturbation_label",
           "protocol_metrics", "range_message",
           "set_aside_reason", "stuck_message", "to_jsonable", "write_report"]
