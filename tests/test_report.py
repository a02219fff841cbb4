"""metrics.json and report.html from small synthetic traces."""

from __future__ import annotations

import base64
import dataclasses
import json
import re

import numpy as np
import pytest

from reducer.report import (
    FICurve,
    HeldoutProtocol,
    LearnedCurves,
    Provenance,
    ReportData,
    SpeedTimings,
    TrainingSummary,
    write_report,
)

DT = 0.1
T = np.arange(0.0, 400.0 + DT / 2, DT)  # 0 .. 400 ms


def _trace(spikes_ms, rest_mV=-65.0):
    """Rest plus 1 ms triangular spikes to +30 mV; crosses -20 mV 0.263 ms before each peak."""
    v = np.full_like(T, rest_mV)
    for s in spikes_ms:
        v = np.maximum(v, 30.0 - 95.0 * np.abs(T - s) / 0.5)
    return v


def _gamma(ref, mod, delta, duration):
    """Γ written out independently of reducer.metrics, for trains with obvious pairings."""
    n_coinc = sum(any(abs(m - r) <= delta for m in mod) for r in ref)
    nu = len(mod) / duration
    return (
        (n_coinc - 2 * nu * delta * len(ref)) / (0.5 * (len(ref) + len(mod))) / (1 - 2 * nu * delta)
    )


REF_SPIKES = [50.0, 150.0, 250.0, 350.0]
RED_SPIKES = [51.0, 152.5, 300.0]  # one within 2 ms, one within 4 ms, one spurious, one missed


def _data(with_extras: bool = True) -> ReportData:
    stim = np.where((T >= 20.0) & (T < 380.0), 0.5, 0.0)
    spiking = HeldoutProtocol(
        name="step_0.5nA",
        kind="step",
        regime="out of distribution: amplitude 0.5 nA never trained on",
        t_ms=T,
        i_stim_nA=stim,
        v_full_mV=_trace(REF_SPIKES),
        v_reduced_mV=_trace(RED_SPIKES, rest_mV=-64.0),
        v_jax_mV=_trace([51.05, 152.5, 300.0], rest_mV=-64.0) if with_extras else None,
        v_baseline_mV=_trace([60.0, 200.0], rest_mV=-63.0) if with_extras else None,
        i_axial_full_nA=np.sin(T / 20.0) if with_extras else None,
        i_axial_reduced_nA=np.sin(T / 20.0) + 0.1 if with_extras else None,
    )
    quiet = HeldoutProtocol(
        name="hyperpolarising_step",
        kind="step",
        regime="in distribution",
        t_ms=T,
        i_stim_nA=-stim,
        v_full_mV=_trace([], rest_mV=-75.0),
        v_reduced_mV=_trace([], rest_mV=-74.0),
        v_baseline_mV=_trace([], rest_mV=-72.0) if with_extras else None,
    )
    v = np.linspace(-100.0, 40.0, 141)
    extras = {}
    if with_extras:
        extras = dict(
            learned_curves=LearnedCurves(
                v_mV=v,
                z_inf=np.stack([1 / (1 + np.exp(-(v + 40 + 10 * k) / 6)) for k in range(3)]),
                tau_ms=np.stack(
                    [0.5 * 10**k + 20 * np.exp(-(((v + 50) / 20) ** 2)) for k in range(3)]
                ),
            ),
            fi_curve=FICurve(
                [0.2, 0.4, 0.6],
                [0.0, 10.0, 25.0],
                [0.0, 12.5, 22.0],
                rate_baseline_hz=[2.0, 5.0, 8.0],
            ),
            training=TrainingSummary(
                loss_history={
                    "open_loop": list(1.0 / np.arange(1, 50)),
                    "closed_loop": list(5.0 * np.exp(-np.arange(30) / 10)),
                },
                wall_time_s={"open_loop": 12.5, "closed_loop": 80.0},
                chosen_checkpoint="closed_loop step 29: best validation Γ(4 ms)",
                loss_label="loss (mV²)",
            ),
            notes=["synthetic traces for the test <b>not</b> a real cell"],
        )
    return ReportData(
        cell_name="test_cell",
        provenance=Provenance(
            cell_hash="abc123",
            seed=7,
            neuron_version="9.0.2",
            dt_ms=DT,
            celsius=34.0,
            date="2026-01-01T00:00:00+00:00",
        ),
        heldout=[spiking, quiet],
        speed=SpeedTimings(
            full_s=2.0,
            reduced_s=0.1,
            soma_only_s=0.08,
            simulated_ms=1000.0,
            repeats=5,
            baseline_s=0.09,
            jax_s=0.5,
        ),
        **extras,
    )


def _no_nan(s: str):
    def bad(c):
        raise AssertionError(f"non-JSON constant {c} in metrics.json")

    return json.loads(s, parse_constant=bad)


def test_metrics_json_keys_and_values(tmp_path):
    json_path, html_path = write_report(tmp_path / "out", _data())
    assert json_path.name == "metrics.json" and html_path.name == "report.html"
    m = _no_nan(json_path.read_text())
    h = m["heldout"]
    for key in (
        "gamma_4ms",
        "gamma_2ms",
        "v_rmse_mV",
        "subthreshold_rmse_mV",
        "spike_count_error",
        "per_protocol",
    ):
        assert key in h
    for key in ("full_s", "reduced_s", "speedup", "soma_only_s", "floor_speedup"):
        assert key in m["speed"]
    assert "fi_curve" in m and "provenance" in m
    assert m["speed"]["speedup"] == pytest.approx(20.0)
    assert m["speed"]["floor_speedup"] == pytest.approx(25.0)
    assert m["speed"]["baseline_speedup"] == pytest.approx(2.0 / 0.09)

    spiking, quiet = h["per_protocol"]
    duration = T[-1] - T[0]
    assert spiking["gamma_4ms"] == pytest.approx(_gamma(REF_SPIKES, RED_SPIKES, 4.0, duration))
    assert spiking["gamma_2ms"] == pytest.approx(_gamma(REF_SPIKES, RED_SPIKES, 2.0, duration))
    assert spiking["n_spikes_ref"] == 4 and spiking["n_spikes_model"] == 3
    assert spiking["spike_count_error"] == -1
    # Off the spikes the reduced trace sits exactly 1 mV above the full one.
    assert spiking["subthreshold_rmse_mV"] == pytest.approx(1.0, abs=1e-9)
    # No spikes in either trace: Γ undefined → null, left out of the mean and counted.
    assert quiet["gamma_4ms"] is None and quiet["gamma_2ms"] is None
    assert quiet["v_rmse_mV"] == pytest.approx(1.0)
    assert h["gamma_4ms"] == pytest.approx(spiking["gamma_4ms"])
    assert h["n_gamma_4ms"] == 1 and h["n_protocols"] == 2
    assert h["v_rmse_mV"] == pytest.approx((spiking["v_rmse_mV"] + 1.0) / 2)
    assert h["spike_count_error"] == pytest.approx(0.5)

    # Baseline scored the same way, beside the trained model.
    b = m["baseline"]
    assert b["n_protocols"] == 2 and b["n_spikes_model"] == 2
    assert spiking["baseline"]["gamma_4ms"] == pytest.approx(
        _gamma(REF_SPIKES, [60.0, 200.0], 4.0, duration)
    )
    # JAX twin against the NEURON reduced cell: 0.05 ms shift on the first spike.
    j = spiking["jax_vs_neuron"]
    assert j["max_spike_shift_ms"] == pytest.approx(0.05, abs=1e-9)
    assert m["jax_vs_neuron"]["max_spike_shift_ms"] == pytest.approx(0.05, abs=1e-9)
    assert spiking["axial"]["rmse_nA"] == pytest.approx(0.1)
    assert spiking["axial"]["r2"] < 1.0

    assert m["fi_curve"]["rate_reduced_hz"] == [0.0, 12.5, 22.0]
    assert m["provenance"]["cell_hash"] == "abc123" and m["provenance"]["dt_ms"] == DT
    assert m["learned_curves"]["n_states"] == 3
    st = m["training"]["stages"]
    assert st["open_loop"]["n_steps"] == 49 and st["closed_loop"]["wall_time_s"] == 80.0
    assert m["notes"] == ["synthetic traces for the test <b>not</b> a real cell"]
    # Only the two outputs are left in the folder (no temporary files).
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["metrics.json", "report.html"]


def test_report_html_self_contained(tmp_path):
    _, html_path = write_report(tmp_path, _data(), save_figures=True)
    page = html_path.read_text()
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    # Two protocols, learned curves, f–I, training.
    assert len(imgs) == 5
    for b64 in imgs:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing loaded from elsewhere.
    assert not re.search(r'(src|href)="(?!data:)', page)
    m = json.loads((tmp_path / "metrics.json").read_text())
    h = m["heldout"]
    # Summary numbers as shown at the top: Γ(4 ms), RMSE, speed-up, baseline beside.
    summary = page[page.index("<h2>Summary over every held-out protocol</h2>"):
                   page.index("<h2>Held-out protocols</h2>")]
    assert f"{h['gamma_4ms']:.3f}" in summary
    assert f"{h['gamma_2ms']:.3f}" in summary
    assert f"{h['v_rmse_mV']:.2f}" in summary
    assert f"{h['subthreshold_rmse_mV']:.2f}" in summary
    assert "20.0×" in summary and "25.0×" in summary
    assert "linear filter-bank baseline" in summary
    assert f"{m['baseline']['v_rmse_mV']:.2f}" in summary
    assert "out of distribution: amplitude 0.5 nA never trained on" in page
    # User text is escaped.
    assert "<b>not</b>" not in page and "&lt;b&gt;not&lt;/b&gt;" in page
    assert "abc123" in page
    figs = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert figs == [
        "fi_curve.png",
        "learned_curves.png",
        "protocol_00.png",
        "protocol_01.png",
        "training.png",
    ]


def test_minimal_report_without_optional_parts(tmp_path):
    json_path, html_path = write_report(tmp_path, _data(with_extras=False))
    m = _no_nan(json_path.read_text())
    assert m["baseline"] is None and m["jax_vs_neuron"] is None
    assert m["fi_curve"] is None and m["training"] is None and m["learned_curves"] is None
    assert m["speed"]["speedup"] == pytest.approx(20.0)
    page = html_path.read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "linear filter-bank baseline" not in page


def test_diverged_reduced_trace_is_reported(tmp_path):
    d = _data(with_extras=False)
    d.heldout[1].v_reduced_mV[2000:] = np.nan
    json_path, html_path = write_report(tmp_path, d)
    m = _no_nan(json_path.read_text())
    assert m["heldout"]["v_rmse_mV"] is None
    assert m["heldout"]["n_model_trace_nonfinite"] == 1
    assert m["heldout"]["per_protocol"][1]["model_trace_finite"] is False
    assert "diverged model traces" in html_path.read_text()


def test_full_cell_against_itself(tmp_path):
    """The full cell with ±x pA added is scored against itself: Γ per protocol and offset size,
    and its mean over protocols per size."""
    data = _data()
    spiking, quiet = data.heldout
    # ±1 pA: +1 every spike 1 ms early, -1 the last spike 6 ms late (outside Δ = 4 ms);
    # ±3 pA: every spike 5 ms early or late.
    early5, late5 = [s - 5.0 for s in REF_SPIKES], [s + 5.0 for s in REF_SPIKES]
    spiking.v_full_perturbed_mV = {1.0: _trace([s - 1.0 for s in REF_SPIKES]),
                                   -1.0: _trace([50.0, 150.0, 250.0, 356.0]),
                                   3.0: _trace(early5), -3.0: _trace(late5)}
    quiet.v_full_perturbed_mV = {1.0: _trace([], -74.9), -1.0: _trace([], -75.1)}
    spiking.__post_init__()
    quiet.__post_init__()
    json_path, html_path = write_report(tmp_path / "out", data)
    m = _no_nan(json_path.read_text())
    duration = T[-1] - T[0]
    one, three = m["heldout"]["per_protocol"][0]["full_cell_perturbed"]
    plus = _gamma(REF_SPIKES, [s - 1.0 for s in REF_SPIKES], 4.0, duration)
    minus = _gamma(REF_SPIKES, [50.0, 150.0, 250.0, 356.0], 4.0, duration)
    assert plus == pytest.approx(1.0) and minus < 0.8
    assert one["offset_pA"] == 1.0 and one["offsets_pA"] == [-1.0, 1.0]
    assert one["gamma_4ms"] == pytest.approx((plus + minus) / 2) and one["n_spikes"] == [4, 4]
    off5 = (_gamma(REF_SPIKES, early5, 4.0, duration) + _gamma(REF_SPIKES, late5, 4.0, duration))
    assert three["offset_pA"] == 3.0 and three["offsets_pA"] == [-3.0, 3.0]
    assert three["gamma_4ms"] == pytest.approx(off5 / 2) and three["gamma_4ms"] < 0.0
    (q,) = m["heldout"]["per_protocol"][1]["full_cell_perturbed"]
    assert q["gamma_4ms"] is None  # no spikes anywhere: undefined, left out of the mean
    s1, s3 = m["heldout"]["full_cell_perturbed"]
    assert s1["offset_pA"] == 1.0 and s1["gamma_4ms"] == pytest.approx(one["gamma_4ms"])
    assert s1["n_gamma_4ms"] == 1 and s1["n_protocols"] == 2
    assert s3["offset_pA"] == 3.0 and s3["n_protocols"] == 1
    assert s3["gamma_4ms"] == pytest.approx(three["gamma_4ms"])
    # neither protocol is reproducible within ±3 pA: no mean to give
    rep = m["heldout"]["reproducible"]
    assert rep["offset_pA"] == 3.0 and rep["protocols"] == [] and rep["gamma_4ms"] is None
    html_text = html_path.read_text()
    assert "full cell against itself, ±1 pA" in html_text
    assert "full cell against itself, ±3 pA" in html_text
    assert "full cell ±1 pA: Γ(4 ms)" in html_text and "full cell ±3 pA: Γ(4 ms)" in html_text
    assert "protocols where the full cell keeps Γ(4 ms) ≥ 0.85 against itself" in html_text
    # the spiking protocol is named as one the full cell does not reproduce
    assert f"scores Γ(4 ms) below 0.85 on {spiking.name} (" in html_text
    # ±3 pA moving every spike by only 1 ms: the spiking protocol now counts, the quiet one
    # (no ±3 pA runs, no Γ) does not
    spiking.v_full_perturbed_mV[3.0] = _trace([s - 1.0 for s in REF_SPIKES])
    spiking.v_full_perturbed_mV[-3.0] = _trace([s + 1.0 for s in REF_SPIKES])
    m2 = _no_nan(write_report(tmp_path / "out2", data)[0].read_text())
    rep = m2["heldout"]["reproducible"]
    assert rep["protocols"] == [spiking.name] and rep["n_gamma_4ms"] == 1
    assert rep["gamma_4ms"] == pytest.approx(m2["heldout"]["per_protocol"][0]["gamma_4ms"])
    # with the rheobase known, each size is also labelled as a percentage of it
    data.provenance.extra["rheobase_nA"] = 0.3
    m3 = _no_nan(write_report(tmp_path / "out3", data)[0].read_text())
    assert [e["offset_pct_rheobase"] for e in m3["heldout"]["full_cell_perturbed"]] == \
        pytest.approx([1 / 3, 1.0])
    assert m3["heldout"]["reproducible"]["offset_pct_rheobase"] == pytest.approx(1.0)
    assert "full cell ±3 pA (1 % of rheobase): Γ(4 ms)" in (tmp_path / "out3" / "report.html"
                                                            ).read_text()
    # Without the perturbed runs the keys are absent, not zero.
    m0 = _no_nan(write_report(tmp_path / "plain", _data())[0].read_text())
    assert "full_cell_perturbed" not in m0["heldout"] and "reproducible" not in m0["heldout"]


def test_undefined_gamma_is_named(tmp_path):
    """A reduced cell firing so fast that 2νΔ ≥ 1 has no Γ(4 ms); the means skip it, and the
    report says which protocol and why."""
    data = _data(with_extras=False)
    fast = [20.0 + 3.0 * k for k in range(120)]  # 333 Hz in the 360 ms window
    data.heldout[0].v_reduced_mV = _trace(fast, rest_mV=-64.0)
    data.heldout[0].stim_window_ms = (20.0, 380.0)
    data.heldout[0].__post_init__()
    json_path, html_path = write_report(tmp_path, data)
    m = _no_nan(json_path.read_text())
    p = m["heldout"]["per_protocol"][0]
    assert p["gamma_4ms"] is None and p["gamma_2ms"] is None and m["heldout"]["n_gamma_4ms"] == 0
    page = html_path.read_text()
    assert p["rate_model_hz"] > 300.0
    assert f"Γ(4 ms) is undefined on step_0.5nA (reduced cell at {p['rate_model_hz']:.0f} Hz)" \
        in page
    # a protocol without spikes (the quiet one) has no Γ either, but nothing to explain
    assert "hyperpolarising_step (reduced" not in page
    # with a well-behaved model there is no such note
    assert "is undefined on" not in write_report(tmp_path / "ok", _data())[1].read_text()


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="v_reduced_mV"):
        HeldoutProtocol("p", "step", "in distribution", T, T * 0, T * 0, T[:-1] * 0)
    with pytest.raises(ValueError, match="tau_ms"):
        LearnedCurves(np.arange(5.0), np.zeros((2, 5)), np.ones((2, 4)))
    d = _data(with_extras=False)
    with pytest.raises(ValueError, match="not unique"):
        ReportData("c", d.provenance, [d.heldout[0], d.heldout[0]], d.speed)
    with pytest.raises(ValueError, match="held-out"):
        ReportData("c", d.provenance, [], d.speed)


def _synaptic_check(longest_reduced_ms):
    from reducer.protocols.synapses import SynapticDrive
    from reducer.validate.synaptic import stuck_depolarised

    drive = {k: v for k, v in SynapticDrive(drive=3.5).to_dict().items()
             if k not in ("drive", "seed")}
    conds = [{"drive": 3.5, "seed": s, "gamma_4ms": 0.9, "n_spikes_full": 60,
              "n_spikes_reduced": 61, "longest_depolarised_ms_full": 1.9,
              "longest_depolarised_ms_reduced": lr,
              "stuck": stuck_depolarised(1.9, lr)} for s, lr in enumerate(longest_reduced_ms)]
    return {"drive": drive, "conditions": conds, "n_stuck": sum(c["stuck"] for c in conds)}


def test_synaptic_check_is_shown_and_a_stuck_cell_is_warned_about(tmp_path):
    from reducer.validate.synaptic import stuck_depolarised

    # a spike spends ~1 ms above -40 mV; stuck means > 50 ms where the full cell is not
    assert stuck_depolarised(1.9, 130.0) and not stuck_depolarised(1.9, 2.3)
    assert not stuck_depolarised(80.0, 130.0)
    d = _data(with_extras=False)
    d.synaptic_check = _synaptic_check([2.3, 2.1])
    json_path, html_path = write_report(tmp_path / "ok", d)
    m = _no_nan(json_path.read_text())
    assert m["synaptic_check"]["n_stuck"] == 0 and len(m["synaptic_check"]["conditions"]) == 2
    page = html_path.read_text()
    assert "depolarisation-block check" in page and "Warning" not in page
    d.synaptic_check = _synaptic_check([2.3, 131.0])
    json_path, html_path = write_report(tmp_path / "stuck", d)
    assert _no_nan(json_path.read_text())["synaptic_check"]["n_stuck"] == 1
    page = html_path.read_text()
    assert "Warning" in page and "1 of 2 conditions" in page and "--no-holds" in page


def test_holds_choice_is_reported(tmp_path):
    from reducer.pipeline import holds_needed

    stuck, fine = _synaptic_check([2.3, 131.0]), _synaptic_check([2.3, 2.1])
    assert holds_needed(stuck) and not holds_needed(fine)
    assert holds_needed({"skipped": "no drive", "conditions": [], "n_stuck": 0})
    d = _data(with_extras=False)
    d.synaptic_check = fine
    d.holds = {"option": "auto", "used": True, "no_holds_check": stuck,
               "no_holds_export": "no_holds/export"}
    json_path, html_path = write_report(tmp_path / "again", d)
    assert _no_nan(json_path.read_text())["holds"]["no_holds_check"]["n_stuck"] == 1
    page = html_path.read_text()
    assert "set aside in no_holds/export" in page and "locked in 1 of 2 conditions" in page
    assert "The set-aside model" in page and page.count("131.0") == 1 and "Warning" not in page
    d.holds = {"option": "auto", "used": False, "no_holds_check": fine}
    page = write_report(tmp_path / "kept", d)[1].read_text()
    assert "did not lock" in page and "set-aside" not in page
    d.holds = {"option": "off", "used": False}
    assert "steps and the DC I-V above -70 mV: off (--holds)" in \
        write_report(tmp_path / "off", d)[1].read_text()


def test_report_without_synaptic_check(tmp_path):
    json_path, html_path = write_report(tmp_path, _data(with_extras=False))
    assert _no_nan(json_path.read_text())["synaptic_check"] is None
    assert "depolarisation-block check" not in html_path.read_text()


def test_synaptic_check_skips_a_drive_it_cannot_set_up(tmp_path):
    """A cell resting above what the inhibition pulls down from gets no check, and a reason,
    before any NEURON process starts."""
    from reducer.validate.synaptic import synaptic_check

    sc = synaptic_check(None, tmp_path, rheobase_nA=0.1, v_rest_mV=-20.0)
    assert sc["conditions"] == [] and sc["n_stuck"] == 0
    assert "no depolarising current" in sc["skipped"]
    d = _data(with_extras=False)
    d.synaptic_check = sc
    _, html_path = write_report(tmp_path, d)
    assert "Not run: synaptic drive: at rest (-20.0 mV)" in html_path.read_text()


def test_a_reduced_cell_that_runs_away_is_named(tmp_path):
    """The CA1 model trained with --protocols default+synaptic --holds off fell to -228 mV on
    the -2R held-out step where the full cell stays near -100 mV (README): named, not only
    averaged into the subthreshold RMSE."""
    from reducer.report import RANGE_MARGIN_MV, range_message

    d = _data(with_extras=False)
    json_path, html_path = write_report(tmp_path / "fine", d)
    per = _no_nan(json_path.read_text())["heldout"]["per_protocol"]
    # the synthetic reduced traces rest 1 mV above the full ones: inside the range
    assert [p["runs_away"] for p in per] == [False, False]
    assert per[1]["beyond_range_mV"] == pytest.approx(1.0)
    assert per[1]["v_range_mV"]["full"] == [-75.0, -75.0]
    assert range_message(per) == "" and "runs away" not in html_path.read_text()
    quiet = d.heldout[1]
    sag = np.where(T > 100.0, -75.0 - (RANGE_MARGIN_MV + 5.0) * np.minimum(1.0, (T - 100) / 200),
                   -75.0)
    d.heldout[1] = dataclasses.replace(quiet, v_reduced_mV=sag)
    json_path, html_path = write_report(tmp_path / "away", d)
    per = _no_nan(json_path.read_text())["heldout"]["per_protocol"]
    assert per[1]["runs_away"] and per[1]["beyond_range_mV"] == pytest.approx(
        RANGE_MARGIN_MV + 5.0)
    page = html_path.read_text()
    assert "Warning" in page and "hyperpolarising_step (reduced -100 to -75 mV, full -75 to " \
        "-75 mV)" in page
    d.heldout[1] = dataclasses.replace(quiet, v_reduced_mV=np.where(T > 300, np.nan, -75.0))
    per = _no_nan(write_report(tmp_path / "nan", d)[0].read_text())["heldout"]["per_protocol"]
    assert per[1]["runs_away"] and per[1]["beyond_range_mV"] is None  # inf in JSON
    assert "hyperpolarising_step (not finite)" in range_message(per)


def test_headline_fluctuating_gamma_over_intrinsic_and_step_features(tmp_path):
    # One fluctuating protocol (OU) with the full cell's own perturbed runs, one step.
    ou_ref, ou_red = [60.0, 140.0, 220.0, 300.0], [61.0, 143.0, 220.5, 340.0]
    own_plus, own_minus = [60.5, 140.0, 220.0, 305.0], [60.0, 139.0, 221.0, 300.0]
    ou = HeldoutProtocol(
        name="ou", kind="ou_noise", regime="held out", t_ms=T, i_stim_nA=np.zeros_like(T),
        v_full_mV=_trace(ou_ref), v_reduced_mV=_trace(ou_red), stim_window_ms=(20.0, 380.0),
        v_full_perturbed_mV={2.0: _trace(own_plus), -2.0: _trace(own_minus)})
    step_ref, step_red = [112.0, 122.0, 142.0, 182.0], [113.0, 124.0, 146.0, 190.0, 260.0]
    step_own_plus = [112.5, 122.0, 142.0, 182.0, 280.0]  # +2 pA: one spike more, 0.5 ms later
    step = HeldoutProtocol(
        name="step", kind="step", regime="held out", t_ms=T, i_stim_nA=np.zeros_like(T),
        v_full_mV=_trace(step_ref, rest_mV=-70.0), v_reduced_mV=_trace(step_red, rest_mV=-69.5),
        stim_window_ms=(100.0, 300.0),
        v_full_perturbed_mV={2.0: _trace(step_own_plus, -69.2), -2.0: _trace(step_ref, -70.0)})
    fi = FICurve([0.2, 0.4], [10.0, 20.0], [11.0, 19.0], latency_full_ms=[30.0, 10.0],
                 latency_reduced_ms=[33.5, 10.5], own_rate_rel_change=[0.2, np.nan],
                 own_latency_shift_ms=[2.5, 0.1])
    data = dataclasses.replace(_data(with_extras=False), heldout=[ou, step], fi_curve=fi)
    _, html_path = write_report(tmp_path, data)
    h = json.loads((tmp_path / "metrics.json").read_text())["heldout"]

    fl = h["fluctuating"]
    assert fl["protocols"] == ["ou"]
    d = 360.0  # the stimulus window
    g = _gamma(ou_ref, ou_red, 4.0, d)
    own = np.mean([_gamma(ou_ref, own_plus, 4.0, d), _gamma(ou_ref, own_minus, 4.0, d)])
    assert fl["gamma_4ms"] == pytest.approx(g)
    assert fl["intrinsic"]["offset_pA"] == 2.0
    assert fl["intrinsic"]["gamma_4ms"] == pytest.approx(own)
    assert fl["normalised_gamma_4ms"] == pytest.approx(g / own)
    assert 0.0 < g < own < 1.0  # the spike 40 ms off costs the reduced cell, not the full one

    st = h["steps"]
    assert [r["name"] for r in st["per_step"]] == ["step", "f-I 0.2 nA", "f-I 0.4 nA"]
    row = st["per_step"][0]
    assert row["rate_full_hz"] == pytest.approx(4 / 0.2)
    assert row["rate_reduced_hz"] == pytest.approx(5 / 0.2)
    assert row["latency_reduced_ms"] - row["latency_full_ms"] == pytest.approx(1.0)
    assert row["rest_reduced_mV"] - row["rest_full_mV"] == pytest.approx(0.5)
    isi_full, isi_red = np.diff(step_ref), np.diff(step_red)
    assert row["isi_cv_full"] == pytest.approx(isi_full.std() / isi_full.mean())
    assert row["isi_cv_reduced"] == pytest.approx(isi_red.std() / isi_red.mean())
    assert st["max_abs_rate_rel_error"] == pytest.approx(0.25)  # the step: 25 vs 20 Hz
    assert st["max_abs_latency_error_ms"] == pytest.approx(3.5)  # the 0.2-nA f-I step
    assert st["max_abs_rest_error_mV"] == pytest.approx(0.5)
    # The full cell's own tolerance on the step (the larger of the two signs) ...
    assert row["own_rate_rel_change"] == pytest.approx(0.25)
    assert row["own_latency_shift_ms"] == pytest.approx(0.5)
    # its own subthreshold RMSE: +2 pA sits 0.8 mV higher between spikes, -2 pA is the same
    assert row["own_subthreshold_rmse_mV"] == pytest.approx(0.8)
    assert st["own_subthreshold_rmse_mV"] == pytest.approx(0.8)
    # ... and the f-I steps apart from the held-out ones.
    assert st["fi"]["n_steps"] == 2 and st["heldout_steps"]["n_steps"] == 1
    assert st["fi"]["max_abs_rate_rel_error"] == pytest.approx(0.1)
    assert st["fi"]["max_abs_latency_error_ms"] == pytest.approx(3.5)
    assert st["heldout_steps"]["max_abs_rate_rel_error"] == pytest.approx(0.25)
    assert st["heldout_steps"]["max_abs_latency_error_ms"] == pytest.approx(1.0)
    assert st["heldout_steps"]["max_own_rate_rel_change"] == pytest.approx(0.25)
    # the f-I steps' own tolerance, where the run measured it (NaN skipped)
    assert st["per_step"][1]["own_rate_rel_change"] == pytest.approx(0.2)
    assert st["fi"]["max_own_rate_rel_change"] == pytest.approx(0.2)
    assert st["fi"]["max_own_latency_shift_ms"] == pytest.approx(2.5)

    page = html_path.read_text()
    head = page[page.index("<h2>Headline"):page.index("<h2>Summary over every")]
    assert f"{g:.3f}" in head and f"{own:.3f}" in head and f"{g / own:.3f}" in head
    assert "25.0 %" in head and "3.50 ms" in head and "0.50 mV" in head
    assert "own rate change" in head and "0.50 ms" in head
    assert "largest error, f–I steps" in head and "largest error, held-out steps" in head
