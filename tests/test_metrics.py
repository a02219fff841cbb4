"""Spike and voltage metrics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reducer.metrics import (
    adaptation_index,
    coincidence_factor,
    compare_traces,
    count_coincidences,
    fi_curve,
    firing_rate_hz,
    first_spike_latency_ms,
    isi_cv,
    longest_depolarised_ms,
    spike_count_error,
    spike_shift_ms,
    spike_times,
    step_features,
    subthreshold_mask,
    subthreshold_rmse,
    summarise,
    v_rmse,
)
from reducer.protocols import Protocol


def _spiky_trace(t_ms: np.ndarray, spikes_ms: list[float], rest_mV: float = -65.0) -> np.ndarray:
    """Rest plus 1 ms wide triangular spikes peaking at +30 mV, centred on each spike time."""
    v = np.full_like(t_ms, rest_mV)
    for s in spikes_ms:
        v = np.maximum(v, 30.0 - 95.0 * np.abs(t_ms - s) / 0.5)
    return v


def test_spike_times_exact_on_linear_ramp():
    t = np.arange(0.0, 10.0, 0.1)
    v = -60.0 + 7.0 * t  # crosses -20 mV at t = 40/7 ms, between samples
    s = spike_times(t, v)
    assert s.shape == (1,)
    assert s[0] == pytest.approx(40.0 / 7.0, abs=1e-12)
    # Other thresholds on the same ramp: all exact.
    assert spike_times(t, v, threshold_mV=0.0)[0] == pytest.approx(60.0 / 7.0, abs=1e-12)


def test_spike_times_upward_only_and_not_at_start():
    t = np.arange(0.0, 5.0, 1.0)
    v = np.array([0.0, -50.0, 10.0, -50.0, 10.0])  # starts above: no spike at t=0
    s = spike_times(t, v)
    # -50 -> 10 crosses -20 at half the step.
    np.testing.assert_allclose(s, [1.5, 3.5])
    # A sample exactly at threshold after one below counts once.
    assert spike_times([0.0, 1.0, 2.0], [-30.0, -20.0, -10.0]).tolist() == [1.0]


def test_gamma_identical_trains_is_one():
    s = np.array([10.0, 55.5, 120.0, 300.2])
    for delta in (4.0, 2.0):
        assert coincidence_factor(s, s, delta, 500.0) == pytest.approx(1.0)


def test_gamma_hand_computed():
    # 3 reference spikes, 2 model spikes in 1000 ms; one coincidence within 4 ms.
    ref = [100.0, 400.0, 700.0]
    mod = [103.0, 550.0]
    nu = 2 / 1000.0
    expected_coinc = 2 * nu * 4.0 * 3
    norm = 1 - 2 * nu * 4.0
    want = (1 - expected_coinc) / (0.5 * 5) / norm
    assert coincidence_factor(ref, mod, 4.0, 1000.0) == pytest.approx(want, rel=1e-12)
    # With Δ = 2 ms the 3 ms offset is no longer a coincidence.
    want2 = (0 - 2 * nu * 2.0 * 3) / (0.5 * 5) / (1 - 2 * nu * 2.0)
    assert coincidence_factor(ref, mod, 2.0, 1000.0) == pytest.approx(want2, rel=1e-12)
    assert want2 < 0


def test_each_spike_matched_at_most_once():
    # Two model spikes near one reference spike: one coincidence, not two.
    assert count_coincidences([100.0], [99.0, 101.0], 4.0) == 1
    # Two reference spikes near one model spike: one coincidence.
    assert count_coincidences([99.0, 101.0], [100.0], 4.0) == 1
    # Greedy must not steal the only partner of a later spike: ref 0 and 6 with model 3 and 9
    # (Δ=4): 0-3 and 6-9 is the maximum matching (2), not 0-3 then nothing.
    assert count_coincidences([0.0, 6.0], [3.0, 9.0], 4.0) == 2
    assert count_coincidences([0.0, 6.0], [-3.5, 3.0], 4.0) == 2
    # Duplicated trains stay perfect: Γ = 1 even with bursts closer than Δ.
    burst = [10.0, 12.0, 14.0, 16.0]
    assert coincidence_factor(burst, burst, 4.0, 200.0) == pytest.approx(1.0)


def test_delta_sensitivity():
    ref = np.arange(50.0, 1000.0, 100.0)
    mod = ref + 3.0  # every spike 3 ms late
    assert coincidence_factor(ref, mod, 4.0, 1000.0) == pytest.approx(1.0)
    g2 = coincidence_factor(ref, mod, 2.0, 1000.0)
    assert g2 < 0.0  # no coincidences at all: below chance
    # Window edge is inclusive: a shift of exactly Δ still coincides.
    assert count_coincidences(ref, ref + 2.0, 2.0) == ref.size


def test_gamma_edge_cases():
    assert math.isnan(coincidence_factor([], [], 4.0, 1000.0))
    assert coincidence_factor([10.0, 200.0], [], 4.0, 1000.0) == 0.0
    assert coincidence_factor([], [10.0, 200.0], 4.0, 1000.0) == 0.0
    # Model at >= 1/(2Δ) = 125 Hz: normalisation <= 0, undefined.
    fast = np.arange(0.0, 1000.0, 4.0)  # 250 Hz
    assert math.isnan(coincidence_factor(fast, fast, 4.0, 1000.0))
    with pytest.raises(ValueError):
        coincidence_factor([1.0], [1.0], 0.0, 1000.0)


def test_gamma_independent_poisson_near_zero():
    rng = np.random.default_rng(12345)
    duration, rate_hz = 100_000.0, 10.0  # 100 s, ~1000 spikes each
    gammas = []
    for _ in range(20):
        n1, n2 = rng.poisson(rate_hz * duration / 1000.0, size=2)
        a = np.sort(rng.uniform(0.0, duration, n1))
        b = np.sort(rng.uniform(0.0, duration, n2))
        gammas.append(coincidence_factor(a, b, 4.0, duration))
    # Per-pair SD ~ sqrt(2νΔ N)/N / 𝒩 ≈ 0.009; the mean of 20 is well inside 0.02.
    assert abs(np.mean(gammas)) < 0.02
    assert max(abs(g) for g in gammas) < 0.06
    # And a jittered copy of the same train is far above chance.
    jittered = a + rng.normal(0.0, 1.0, a.size)
    assert coincidence_factor(a, np.sort(jittered), 4.0, duration) > 0.9


def test_rmse_and_subthreshold_cut():
    t = np.arange(0.0, 100.0, 0.025)
    v_ref = _spiky_trace(t, [30.0])
    v_mod = _spiky_trace(t, [70.0]) + 1.0  # 1 mV offset everywhere off the spikes
    # Whole-trace RMSE includes the spikes, so it is far above 1 mV.
    assert v_rmse(v_ref, v_mod) > 5.0
    s_ref, s_mod = spike_times(t, v_ref), spike_times(t, v_mod)
    # Outside ±5 ms of both spikes the traces differ by exactly 1 mV.
    assert subthreshold_rmse(t, v_ref, v_mod, s_ref, s_mod) == pytest.approx(1.0, abs=1e-12)
    keep = subthreshold_mask(t, [s_ref, s_mod], 5.0)
    for s in np.concatenate([s_ref, s_mod]):
        assert not keep[np.abs(t - s) <= 5.0].any()
        # Just outside the window is kept.
        assert keep[(np.abs(t - s) > 5.05) & (np.abs(t - s) < 6.0)].all()
    # Cutting only one train's spikes would leave the other spike in: RMSE > 1 mV.
    partial = subthreshold_rmse(t, v_ref, v_mod, s_ref, [])
    assert partial > 1.5
    # Nothing left → NaN.
    assert math.isnan(subthreshold_rmse(t, v_ref, v_mod, np.arange(0, 100, 5.0), []))
    with pytest.raises(ValueError):
        v_rmse(v_ref, v_mod[:-1])


def test_counts_rates_and_fi():
    assert spike_count_error([1.0, 2.0, 3.0], [1.0]) == -2
    assert spike_count_error([], [5.0]) == 1
    # 3 spikes in [100, 600): 6 Hz; spikes at the ends: start included, end excluded.
    assert firing_rate_hz([50.0, 100.0, 300.0, 599.0, 600.0], 100.0, 600.0) == pytest.approx(6.0)
    amps, rates = fi_curve([0.3, 0.1, 0.2], [[1.0, 2.0, 3.0], [], [5.0]], 0.0, 1000.0)
    np.testing.assert_allclose(amps, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(rates, [0.0, 1.0, 3.0])


def test_compare_traces_and_stim_window():
    t = np.arange(0.0, 1000.0, 0.025)
    ref_sp = [150.0, 300.0, 450.0, 900.0]  # the last one after the stimulus window
    mod_sp = [151.0, 303.0, 600.0]
    v_ref, v_mod = _spiky_trace(t, ref_sp), _spiky_trace(t, mod_sp)
    m = compare_traces(t, v_ref, v_mod, stim_window=(100.0, 700.0))
    assert m["n_spikes_ref"] == 3 and m["n_spikes_model"] == 3
    assert m["spike_count_error"] == 0
    assert m["rate_ref_hz"] == pytest.approx(5.0)
    # Detected crossings lie 0.5 * 45/95 ms before each peak; offsets unchanged.
    s_ref = spike_times(t, v_ref)[:3]
    s_mod = spike_times(t, v_mod)
    assert m["gamma_4ms"] == pytest.approx(coincidence_factor(s_ref, s_mod, 4.0, 600.0))
    assert m["gamma_2ms"] == pytest.approx(coincidence_factor(s_ref, s_mod, 2.0, 600.0))
    assert m["gamma_4ms"] > m["gamma_2ms"]
    assert m["subthreshold_rmse_mV"] == pytest.approx(0.0, abs=1e-12)
    whole = compare_traces(t, v_ref, v_mod)
    assert whole["n_spikes_ref"] == 4 and whole["spike_count_error"] == -1


def test_protocol_stimulus_window():
    step = Protocol("s", "step", 200.0, {"delay_ms": 20.0, "dur_ms": 150.0, "amp_nA": 0.1})
    assert step.stimulus_window_ms() == (20.0, 170.0)
    long = Protocol("l", "step", 100.0, {"delay_ms": 20.0, "dur_ms": 150.0, "amp_nA": 0.1})
    assert long.stimulus_window_ms() == (20.0, 100.0)  # clipped to the protocol's end
    multi = Protocol("m", "multistep", 100.0, {"delay_ms": 5.0, "dur_ms": 10.0,
                                                "amps_nA": [0.1, 0.2], "gap_ms": 5.0})
    assert multi.stimulus_window_ms() is None


def test_summarise_skips_undefined_gamma():
    t = np.arange(0.0, 500.0, 0.025)
    quiet = _spiky_trace(t, [])
    a = compare_traces(t, quiet, quiet + 2.0)  # no spikes: Γ undefined
    b = compare_traces(t, _spiky_trace(t, [100.0, 300.0]), _spiky_trace(t, [100.0]))
    assert math.isnan(a["gamma_4ms"])
    s = summarise([a, b])
    assert s["n_protocols"] == 2
    assert s["n_gamma_4ms"] == 1
    assert s["gamma_4ms"] == pytest.approx(b["gamma_4ms"])
    assert s["v_rmse_mV"] == pytest.approx((a["v_rmse_mV"] + b["v_rmse_mV"]) / 2)
    assert s["spike_count_error"] == pytest.approx(0.5)
    assert s["spike_count_error_signed"] == pytest.approx(-0.5)
    assert s["n_spikes_ref"] == 2 and s["n_spikes_model"] == 1
    assert s["spike_count_rel_error"] == pytest.approx(0.5)
    empty = summarise([a])
    assert math.isnan(empty["gamma_4ms"]) and empty["n_gamma_4ms"] == 0


def test_diverged_model_trace_is_not_hidden():
    t = np.arange(0.0, 500.0, 0.025)
    ok = compare_traces(t, _spiky_trace(t, [100.0]), _spiky_trace(t, [101.0]))
    v_bad = _spiky_trace(t, [101.0])
    v_bad[12000:] = np.nan  # the model blew up at 300 ms
    bad = compare_traces(t, _spiky_trace(t, [100.0]), v_bad)
    assert ok["model_trace_finite"] and not bad["model_trace_finite"]
    assert math.isnan(bad["v_rmse_mV"])
    s = summarise([ok, bad])
    # The mean RMSE is NaN, not the RMSE of the good protocol alone.
    assert math.isnan(s["v_rmse_mV"])
    assert s["n_model_trace_nonfinite"] == 1


def test_spike_shift_uses_nearest_pairs_within_delta():
    ref = [10.0, 50.0, 90.0]
    assert spike_shift_ms(ref, [10.5, 52.0, 300.0], 4.0) == pytest.approx(2.0)  # 90 unpaired
    assert spike_shift_ms(ref, [10.5, 52.0, 300.0], 250.0) == pytest.approx(38.0)  # 90 -> 52
    assert math.isnan(spike_shift_ms(ref, [200.0], 4.0))
    assert math.isnan(spike_shift_ms([], [1.0], 4.0))


def test_longest_depolarised_tells_a_blocked_cell_from_a_spiking_one():
    t = np.arange(0.0, 500.0, 0.025)
    spiking = _spiky_trace(t, [100.0, 150.0, 200.0])
    # a spike is above -40 mV for (30 + 40) / 95 * 0.5 * 2 ms = 0.74 ms
    assert 0.6 < longest_depolarised_ms(t, spiking) < 0.8
    blocked = spiking.copy()
    blocked[(t >= 250.0) & (t < 370.0)] = -20.0  # stuck for 120 ms
    assert longest_depolarised_ms(t, blocked) == pytest.approx(120.0)
    assert longest_depolarised_ms(t, blocked, window_ms=(0.0, 300.0)) == pytest.approx(50.0)
    assert longest_depolarised_ms(t, blocked, above_mV=0.0) == pytest.approx(
        longest_depolarised_ms(t, spiking, above_mV=0.0))
    assert longest_depolarised_ms(t, np.full_like(t, -65.0)) == 0.0
    with pytest.raises(ValueError, match="samples"):
        longest_depolarised_ms(t, blocked[:-1])


def test_step_features_by_hand():
    # ISIs 10, 20, 40 ms: CV = std/mean of (10, 20, 40); adaptation = mean(10/30, 20/60) = 1/3.
    spikes = [112.0, 122.0, 142.0, 182.0]
    assert first_spike_latency_ms(spikes, 100.0) == pytest.approx(12.0)
    assert math.isnan(first_spike_latency_ms([50.0], 100.0))
    isi = np.array([10.0, 20.0, 40.0])
    assert isi_cv(spikes) == pytest.approx(isi.std() / isi.mean())
    assert adaptation_index(spikes) == pytest.approx(1.0 / 3.0)
    assert adaptation_index([0.0, 10.0, 20.0, 30.0]) == pytest.approx(0.0)
    assert math.isnan(isi_cv([1.0, 2.0])) and math.isnan(adaptation_index([1.0, 2.0, 3.0]))
    t = np.arange(0.0, 300.0, 0.025)
    v = _spiky_trace(t, [50.0] + spikes, rest_mV=-70.0)  # a spike before the step: not counted
    f = step_features(t, v, (100.0, 200.0))
    assert f["n_spikes"] == 4 and f["rate_hz"] == pytest.approx(40.0)
    # The upward -20 mV crossing is 50/190 ms before each triangular spike's peak.
    assert f["latency_ms"] == pytest.approx(12.0 - 50.0 / 190.0, abs=1e-6)
    assert f["rest_mV"] == pytest.approx(-70.0)
    assert f["adaptation_index"] == pytest.approx(1.0 / 3.0, abs=1e-3)
