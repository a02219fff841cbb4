"""The whole ``reduce-cell`` pipeline on the bundled ball-and-stick cell (small protocols)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reducer.isolated import run_isolated
from tests.conftest import ROOT

FAST = ["--protocols", "small", "--open-loop-steps", "30", "--epochs", "1",
        "--steps-per-epoch", "3", "--timing-repeats", "1", "--starts", "1"]


def reduce_cell(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), NEURON_MODULE_OPTIONS="-nogui")
    return subprocess.run([sys.executable, "-m", "reducer.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def benchmark(script: str, *args, timeout: float = 600):
    """Run ``benchmarks/<script>`` with ``args`` (converted to str) in its own process."""
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, NEURON_MODULE_OPTIONS="-nogui"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    r = reduce_cell("ball_and_stick", "--out", "run", *FAST, cwd=work)
    assert r.returncode == 0, r.stderr[-3000:]
    return work / "run"


def assert_force_would_clear_all(run_dir: Path) -> None:
    """Everything a run or a benchmark script wrote into the run folder is on --force's list
    (a new output that is not would outlive --force beside a new model)."""
    from fnmatch import fnmatch

    from reducer.pipeline import BENCHMARK_OUTPUTS, RUN_OUTPUTS

    unlisted = [p.name for p in run_dir.iterdir()
                if not any(fnmatch(p.name, pat) for pat in RUN_OUTPUTS + BENCHMARK_OUTPUTS)]
    assert unlisted == []


def test_outputs_and_metrics(run_dir):
    m = json.loads((run_dir / "metrics.json").read_text())
    for key in ("gamma_4ms", "gamma_2ms", "v_rmse_mV", "subthreshold_rmse_mV"):
        assert key in m["heldout"]
    for key in ("full_s", "reduced_s", "speedup", "soma_only_s"):
        assert m["speed"][key] is not None and m["speed"][key] > 0
    assert m["baseline"]["n_protocols"] == m["heldout"]["n_protocols"] >= 2
    assert m["fi_curve"] is not None
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4
    # the hh ball-and-stick is easy: the reduced cell must spike where the full cell spikes
    assert m["heldout"]["gamma_4ms"] > 0.8
    assert m["heldout"]["subthreshold_rmse_mV"] < 3.0
    # the full cell against itself with ±0.3 % and ±1 % of the rheobase added (default): well
    # above threshold on the hh cell that barely moves a spike
    rheobase_nA = json.loads((run_dir / "calibration.json").read_text())["rheobase_nA"]
    fp = m["heldout"]["full_cell_perturbed"]
    sizes = [e["offset_pA"] for e in fp]
    assert sizes == pytest.approx([3e-3 * rheobase_nA * 1e3, 1e-2 * rheobase_nA * 1e3], rel=1e-2)
    assert [e["offset_pct_rheobase"] for e in fp] == pytest.approx([0.3, 1.0], rel=1e-2)
    assert all(e["n_gamma_4ms"] >= 1 and e["gamma_4ms"] > 0.9 for e in fp)
    per = m["heldout"]["per_protocol"][0]["full_cell_perturbed"]
    assert [e["offsets_pA"] for e in per] == [[-x, x] for x in sizes]
    assert m["heldout"]["reproducible"]["offset_pA"] == sizes[-1]
    assert (run_dir / "data" / "sensitivity").is_dir()
    # the held-out step solved as an ODE to tolerance (diffrax) against the fixed-step model:
    # well above threshold the hh cell's spikes barely move
    ts = m["timestep_check"]
    (step,) = ts["per_protocol"]
    assert step["name"] == "test_step_2.4R" and step["n_spikes_fixed"] >= 1
    assert step["n_spikes_ode"] == step["n_spikes_fixed"]
    assert 0.0 <= ts["max_spike_shift_ms"] < 2.0
    assert "Time step" in html
    # the depolarisation-block check under strong synaptic input: the full cell fires there,
    # and this easy cell's reduced model does not lock
    sc = m["synaptic_check"]
    assert [(c["drive"], c["seed"]) for c in sc["conditions"]] == [(3.5, 0), (3.5, 1)]
    for c in sc["conditions"]:
        assert c["n_spikes_full"] > 0 and c["longest_depolarised_ms_full"] < 50.0
        assert c["stuck"] is False and c["n_spikes_reduced"] > 0
    assert sc["n_stuck"] == 0 and "depolarisation-block check" in html
    # the headline: fluctuating inputs (the OU and the held-out synaptic drive, run in NEURON
    # with conductances on both cells) by Γ beside the full cell's own Γ at ±1 % of rheobase;
    # the steps (the held-out step and the f-I steps) by rate, latency, rest
    fl = m["heldout"]["fluctuating"]
    assert fl["protocols"] == ["test_ou_seed", "test_syn_2.5R"]
    assert fl["intrinsic"]["offset_pct_rheobase"] == pytest.approx(1.0, rel=1e-2)
    syn = next(p for p in m["heldout"]["per_protocol"] if p["name"] == "test_syn_2.5R")
    assert syn["input_class"] == "fluctuating" and syn["n_spikes_ref"] >= 2
    assert [e["offset_pA"] for e in syn["full_cell_perturbed"]] == pytest.approx(sizes)
    assert 0.9 < fl["intrinsic"]["gamma_4ms"] <= 1.0 and fl["gamma_4ms"] > 0.8
    assert fl["normalised_gamma_4ms"] == pytest.approx(
        fl["gamma_4ms"] / fl["intrinsic"]["gamma_4ms"])
    st = m["heldout"]["steps"]
    assert [r["name"] for r in st["per_step"]][:1] == ["test_step_2.4R"]
    assert st["n_steps"] == 1 + len(m["fi_curve"]["amplitudes_nA"])
    assert st["max_abs_rate_rel_error"] < 0.2 and st["max_abs_latency_error_ms"] < 3.0
    assert st["max_abs_rest_error_mV"] < 1.0
    assert st["fi"]["n_steps"] == len(m["fi_curve"]["amplitudes_nA"])
    assert st["heldout_steps"]["n_steps"] == 1
    # the full cell's own tolerance on the held-out step, from its ±offset runs
    assert np.isfinite(st["per_step"][0]["own_latency_shift_ms"] or np.nan)
    # ... and on the f-I steps (their own sensitivity runs), where the full cell fires
    fi_rows = [r for r in st["per_step"] if r["group"] == "fi"]
    assert len(fi_rows) == len(m["fi_curve"]["own_latency_shift_ms"])
    assert all(np.isfinite(r["own_latency_shift_ms"] or np.nan) for r in fi_rows
               if r["rate_full_hz"] > 0)
    assert any(r["rate_full_hz"] > 0 for r in fi_rows)
    assert "Headline: fluctuating inputs and steps" in html


def test_jax_and_neuron_simulate_the_same_reduced_model(run_dir):
    """Same spike times on held-out stimuli (DESIGN.md: the two simulators agree), also with the
    default TABLE export: the JAX model reads the same table (reducer.hybrid.as_exported)."""
    assert json.loads((run_dir / "export" / "export.json").read_text())["use_table"]
    j = json.loads((run_dir / "metrics.json").read_text())["jax_vs_neuron"]
    assert j["n_spikes_ref"] >= 3 and j["n_spikes_ref"] == j["n_spikes_model"]
    assert j["max_spike_shift_ms"] < 1e-3
    assert j["max_abs_dv_mV"] < 1e-3


def test_export_loads_as_documented(run_dir):
    info = json.loads((run_dir / "export" / "export.json").read_text())
    for key in ("hoc_file", "template", "mechanisms_dir", "soma_section"):
        assert key in info
    assert (run_dir / "export" / info["mechanisms_dir"] / "x86_64").is_dir()
    out = run_isolated("tests.pipeline_workers:load_export_and_spike",
                       folder=str(run_dir / "export"), amp_nA=0.5)
    assert out["n_spikes"] >= 3
    assert abs(out["v0"] - info["v_init_mV"]) < 1e-9


def test_full_cell_timestep_benchmark(run_dir):
    """benchmarks/full_cell_timestep.py reruns the full cell's held-out steps at dt / 2."""
    bad = benchmark("full_cell_timestep.py", run_dir, "--factors", "0.5", timeout=60)
    assert bad.returncode == 2 and "every factor must be > 1" in bad.stderr
    r = benchmark("full_cell_timestep.py", run_dir, "--factors", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads((run_dir / "full_cell_timestep.json").read_text())
    dt_ms = json.loads((run_dir / "data" / "targets.json").read_text())["meta"]["dt_ms"]
    assert out["dt_ms"] == dt_ms and out["skipped"] == []  # noise too: one path at every dt
    (e,) = out["per_dt"]
    assert e["dt_ms"] == pytest.approx(dt_ms / 2)
    rows = {row["name"]: row for row in e["per_protocol"]}
    assert sorted(rows) == ["test_ou_seed", "test_step_2.4R"]
    step, ou = rows["test_step_2.4R"], rows["test_ou_seed"]
    # the hh cell, driven well above threshold: halving dt moves its spike by < 1 ms
    assert step["n_spikes_ref"] >= 1 and step["n_spikes_model"] == step["n_spikes_ref"]
    assert step["gamma_4ms"] > 0.9 and 0.0 < step["max_shift_ms"] < 1.0
    # the same noise path at both steps (another sample would leave Γ near 0); near threshold
    # halving dt may still move a spike to another upswing of the noise (measured: Γ 0.83)
    assert ou["n_spikes_ref"] >= 5 and abs(ou["n_spikes_model"] - ou["n_spikes_ref"]) <= 1
    assert ou["gamma_4ms"] > 0.6
    with np.load(run_dir / "timestep" / f"dt_{dt_ms / 2:g}" / "test" / "test_ou_seed.npz") as b:
        assert np.diff(b["t_ms"]) == pytest.approx(dt_ms / 2)
        with np.load(run_dir / "data" / "test" / "test_ou_seed.npz") as a:
            np.testing.assert_array_equal(b["i_stim_nA"][1::2], a["i_stim_nA"][1:])
    assert "| test_step_2.4R |" in r.stdout
    assert_force_would_clear_all(run_dir)


def test_full_cell_sensitivity_benchmark(run_dir):
    """benchmarks/full_cell_sensitivity.py gives the run's own ±0.3 % / ±1 % numbers again,
    and a large offset moves the full cell's spikes."""
    bad = benchmark("full_cell_sensitivity.py", run_dir, "--offsets", "2", timeout=60)
    assert bad.returncode == 2 and "--offsets" in bad.stderr and "no unit" in bad.stderr
    r = benchmark("full_cell_sensitivity.py", run_dir, "--offsets", "0.3%,1%,40%")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads((run_dir / "full_cell_sensitivity.json").read_text())
    m = json.loads((run_dir / "metrics.json").read_text())
    rheobase_pA = 1e3 * json.loads((run_dir / "calibration.json").read_text())["rheobase_nA"]
    assert out["offsets_pA"] == pytest.approx([3e-3 * rheobase_pA, 1e-2 * rheobase_pA,
                                               0.4 * rheobase_pA], rel=1e-2)
    in_run = {e["name"]: e for e in m["heldout"]["per_protocol"]}
    for e in out["per_protocol"]:
        ran = in_run[e["name"]]
        assert e["reduced_gamma_4ms"] == ran["gamma_4ms"]
        # the two sizes the run itself used: the same simulations, so the same Γ
        for mine, theirs in zip(e["per_offset"][:2], ran["full_cell_perturbed"], strict=True):
            assert mine["offset_pA"] == theirs["offset_pA"]
            assert mine["gamma_4ms"] == pytest.approx(theirs["gamma_4ms"], abs=1e-12)
            assert mine["offsets_pA"] == theirs["offsets_pA"]
            assert mine["n_spikes"] == theirs["n_spikes"]
    ou = next(e for e in out["per_protocol"] if e["name"] == "test_ou_seed")
    # ±40 % of the rheobase moves the hh cell's spikes under noise (measured: Γ 0.79, 7 and
    # 10 spikes for 9); the tolerance read at Γ 0.85 lies below it
    big = ou["per_offset"][2]
    assert big["gamma_4ms"] < 0.85 and big["n_spikes"] != [ou["n_spikes"]] * 2
    assert ou["tolerance_pA"] is not None and ou["tolerance_pA"] < big["offset_pA"]
    assert out["mean_gamma_4ms"][2] < out["mean_gamma_4ms"][0]
    assert "| test_step_2.4R |" in r.stdout
    assert_force_would_clear_all(run_dir)


def test_l5pc_benchmark_intrinsic(run_dir, tmp_path):
    """benchmarks/l5pc.py puts the full cell against itself (±1 % of the rheobase) beside the
    reduced cell: the same measures, and Γ / Γ_intrinsic as the ratio of the means."""
    bad = benchmark("l5pc.py", run_dir, "--intrinsic-pct", "-1", timeout=60)
    assert bad.returncode == 2 and "--intrinsic-pct" in bad.stderr
    out = tmp_path / "l5.json"
    r = benchmark("l5pc.py", run_dir, "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    b = json.loads(out.read_text())["runs"][0]
    rheobase_pA = 1e3 * json.loads((run_dir / "calibration.json").read_text())["rheobase_nA"]
    own = b["intrinsic"]
    assert own["offset_pA"] == pytest.approx(1e-2 * rheobase_pA, rel=1e-2)
    assert len(own["steps"]) == 5 and len(own["fluctuating"]) == 5
    for amp in (0.3, 0.6, 0.9, 1.2, 1.5):
        for sign in ("plus", "minus"):
            assert (run_dir / "benchmark_l5pc" / "sensitivity" / f"l5_step_{amp:.1f}nA__{sign}"
                    f"{own['offset_pA']:g}pA.npz").exists()
    # the hh ball-and-stick barely moves a spike for 1 % of its rheobase
    assert own["fluctuating_mean_gamma_4ms"] > 0.9
    assert own["max_rate_rel_change"] < 0.05
    red = b["models"]["reduced"]
    assert red["normalised_gamma_4ms"] == pytest.approx(
        red["fluctuating_mean_gamma_4ms"] / own["fluctuating_mean_gamma_4ms"], rel=1e-12)
    assert "full vs itself" in r.stdout
    assert_force_would_clear_all(run_dir)


def test_sensitivity_tolerance_reading():
    """The tolerance is the largest size before the first Γ below the bar or undefined."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from full_cell_sensitivity import tolerance_pA
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))

    def rows(*gammas):
        return [{"offset_pA": x, "gamma_4ms": g}
                for x, g in zip((0.1, 0.3, 1.0), gammas, strict=True)]

    assert tolerance_pA(rows(1.0, 0.9, 0.5), 0.85) == 0.3
    assert tolerance_pA(rows(1.0, 0.9, 0.86), 0.85) == 1.0  # all tried sizes keep it
    assert tolerance_pA(rows(0.5, 1.0, 1.0), 0.85) == 0.0  # a later recovery does not count
    assert tolerance_pA(rows(1.0, None, 1.0), 0.85) == 0.1  # above 125 Hz: undefined
    assert tolerance_pA(rows(None, None, None), 0.85) is None  # no spikes


def test_training_fit_benchmark(run_dir):
    """benchmarks/training_fit.py scores the model on every training and validation trace."""
    r = benchmark("training_fit.py", run_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    fit = json.loads((run_dir / "training_fit.json").read_text())
    targets = json.loads((run_dir / "data" / "targets.json").read_text())
    for split in ("train", "validation"):
        names = sorted(os.path.basename(f)[:-4] for f in targets["splits"][split])
        held = sorted(n for n in names if n.startswith("train_hold"))
        assert sorted(fit[split]["skipped"]) == held  # the soma is clamped there
        assert sorted(p["name"] for p in fit[split]["per_protocol"]) == sorted(
            set(names) - set(held))
        assert 0.0 <= fit[split]["mean"]["subthreshold_rmse_mV"] < 3.0
    assert fit["train"]["skipped"] == ["train_hold_1.6R"]
    assert "| **mean** |" in r.stdout
    assert_force_would_clear_all(run_dir)


def test_network_speed_benchmark(run_dir):
    """benchmarks/network_speed.py times N reduced cells together; the one-cell network is the
    validated reduced cell on the timing protocol (same spikes)."""
    import pickle

    from reducer.metrics import spike_times

    r = benchmark("network_speed.py", run_dir, "--cells", "1,3", "--repeats", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    bench = json.loads((run_dir / "network_benchmark.json").read_text())
    rows = {(row["cells"], row["kind"]): row for row in bench["networks"]}
    assert sorted(rows) == [(1, "reduced"), (1, "soma-only"), (3, "reduced"), (3, "soma-only")]
    assert bench["full_s"] > 0
    for (n, _), row in rows.items():
        assert row["per_cell_s"] == pytest.approx(row["wall_s"] / n)
        assert row["speedup_vs_full"] == pytest.approx(bench["full_s"] / row["per_cell_s"])
    with open(run_dir / "validation.pkl", "rb") as f:
        val = pickle.load(f)
    v = val["traces"]["reduced"][bench["timing_protocol"]]["v_mV"]
    n_validated = spike_times(np.arange(len(v)) * bench["dt_ms"], v).size
    assert n_validated > 0 and rows[(1, "reduced")]["spikes_per_cell"] == n_validated
    assert "| 3 | reduced |" in r.stdout

    # --export times another export (here the linear baseline) and writes its own file
    r = benchmark("network_speed.py", run_dir, "--cells", "1", "--repeats", "1", "--export",
                  run_dir / "export_baseline")
    assert r.returncode == 0, r.stderr[-3000:]
    bench = json.loads((run_dir / "network_benchmark_export_baseline.json").read_text())
    v = val["traces"]["baseline"][bench["timing_protocol"]]["v_mV"]
    one = next(row for row in bench["networks"] if row["kind"] == "reduced")
    assert one["spikes_per_cell"] == spike_times(np.arange(len(v)) * bench["dt_ms"], v).size
    assert_force_would_clear_all(run_dir)


def test_synaptic_input_benchmark(run_dir):
    """benchmarks/synaptic_input.py drives the full cell and every export with the same
    somatic synaptic events, at the conductance the drive asks for."""
    r = benchmark("synaptic_input.py", run_dir, "--drives", "0,2", "--seeds", "3",
                  "--duration-ms", "300")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads((run_dir / "synaptic_input.json").read_text())
    assert (run_dir / "synaptic_input.png").stat().st_size > 0
    assert set(out["exports"]) == {"reduced", "baseline"}
    silent, driven = out["conditions"]
    assert silent["drive"] == 0 and driven["drive"] == 2 and driven["seed"] == 3
    # drive 0: events arrive with zero weight; nobody fires, nothing stays depolarised
    assert silent["mean_g_uS"]["full"] == [0.0, 0.0]
    for m in silent["exports"].values():
        assert m["n_spikes_ref"] == m["n_spikes_model"] == 0 and m["gamma_4ms"] is None
        assert m["longest_depolarised_ms"] == 0.0
    d = out["drive"]
    w_e, w_i = driven["weights_uS"]
    g_e, g_i = w_e * d["exc_rate_hz"] * d["tau_exc_ms"] * 1e-3, \
        w_i * d["inh_rate_hz"] * d["tau_inh_ms"] * 1e-3
    assert g_i == pytest.approx(d["inh_ratio"] * g_e)
    # at rest the mean synaptic current is drive x rheobase
    v = out["v_rest_mV"]
    assert g_e * (d["e_exc_mV"] - v) + g_i * (d["e_inh_mV"] - v) == pytest.approx(
        2 * out["rheobase_nA"])
    # every cell got the very same events, and their mean conductance is what was asked
    # (300 ms of Poisson events: within 25 %)
    g = driven["mean_g_uS"]
    assert g["reduced"] == g["full"] and g["baseline"] == g["full"]
    assert g["full"][0] == pytest.approx(g_e, rel=0.25)
    assert g["full"][1] == pytest.approx(g_i, rel=0.25)
    n_exc, n_inh = driven["n_events"]
    assert n_exc == pytest.approx(d["exc_rate_hz"] * 0.3, rel=0.25) and n_inh > 0
    m = driven["exports"]["reduced"]
    assert m["n_spikes_ref"] > 0 and m["v_rmse_mV"] >= 0.0
    assert [p["offset_pA"] for p in driven["full_cell_perturbed"]] == out["offsets_pA"]
    assert "| 2 | 3 | reduced |" in r.stdout
    assert_force_would_clear_all(run_dir)


def test_neuron_speed_benchmark(run_dir):
    """benchmarks/neuron_speed.py times every simulation of the timing protocol side by side and
    reports full / each as the speed-up (no timing is asserted: speed claims live there)."""
    r = benchmark("neuron_speed.py", run_dir, "--repeats-full", "1", "--repeats-reduced", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    bench = json.loads((run_dir / "benchmark.json").read_text())
    t = bench["timings_s"]
    assert list(t) == ["full cell", "reduced (NMODL TABLE gates)", "reduced (exact gates)",
                       "linear baseline (10 states)", "soma-only floor",
                       "JAX hybrid (CPU, jitted)"]
    assert all(x > 0 for x in t.values())
    for name, x in t.items():
        assert bench["speedup_vs_full"][name] == pytest.approx(t["full cell"] / x)
    assert bench["protocol"] == "test_ou_seed" and bench["repeats_full"] == 1
    # the run's export and the same model exported the other way, both timed
    tabulated = json.loads((run_dir / "export" / "export.json").read_text())["use_table"]
    assert bench["run_export_gates"] == ("NMODL TABLE" if tabulated else "exact")
    other = run_dir / ("benchmark_export_exact" if tabulated else "benchmark_export_table")
    info = json.loads((other / "export.json").read_text())
    assert info["use_table"] is (not tabulated)
    assert (other / info["mechanisms_dir"] / "x86_64").is_dir()
    assert "| soma-only floor |" in r.stdout
    assert_force_would_clear_all(run_dir)


@pytest.mark.parametrize("script", ["neuron_speed.py", "network_speed.py", "synaptic_input.py",
                                    "training_fit.py", "full_cell_timestep.py",
                                    "full_cell_sensitivity.py"])
def test_benchmark_on_a_folder_that_is_not_a_finished_run(run_dir, script):
    """One message naming what is missing (exit 2), not a traceback."""
    r = benchmark(script, run_dir / "export", timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{run_dir / 'export'} " in r.stderr and "has no " in r.stderr


def test_rerun_resumes_without_recomputing(run_dir):
    final = run_dir / "train" / "final" / "axial_params.npz"
    data = next((run_dir / "data" / "train").glob("*.npz"))
    before = (final.stat().st_mtime_ns, data.stat().st_mtime_ns)
    r = reduce_cell("ball_and_stick", "--out", str(run_dir), *FAST, cwd=run_dir.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (final.stat().st_mtime_ns, data.stat().st_mtime_ns) == before


def test_resume_with_other_options_is_refused(run_dir):
    args = [a if a != "30" else "31" for a in FAST]
    r = reduce_cell("ball_and_stick", "--out", str(run_dir), *args, cwd=run_dir.parent)
    assert r.returncode == 2
    assert "different options" in r.stderr and "--force" in r.stderr
    assert "Traceback" not in r.stderr
    r = reduce_cell("ball_and_stick", "--out", str(run_dir), *FAST, "--starts", "2",
                    cwd=run_dir.parent)
    assert r.returncode == 2 and "different options" in r.stderr


def test_several_starts_export_the_best_validated_seed(tmp_path):
    # also --holds auto where the model trained without the held steps does not lock: it is
    # kept, no protocol that clamps the soma is simulated, and its check is not run twice
    r = reduce_cell("ball_and_stick", "--out", "run", *FAST, "--starts", "2", "--seed", "3",
                    "--sensitivity", "0", "--holds", "auto", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp_path / "run"
    targets = json.loads((run / "data" / "targets.json").read_text())
    assert targets["splits"]["train"]
    assert [Path(f).name for f in targets["splits"]["dc"]] == ["dc_hold_-90mV.npz"]
    assert not any("hold" in Path(f).name for f in targets["splits"]["train"])
    assert not any("train_hold" in f.name for f in (run / "data").rglob("*.npz"))
    assert json.loads((run / "run.json").read_text())["options"]["holds"] == "auto"
    choice = json.loads((run / "holds_choice.json").read_text())
    assert choice["holds"] is False and choice["no_holds_check"]["n_stuck"] == 0
    assert not (run / "no_holds").exists()
    assert r.stderr.count("synaptic check: ") == 1
    starts = json.loads((run / "train" / "starts.json").read_text())
    assert [s["seed"] for s in starts["starts"]] == [3, 4]
    kept = starts["kept"]
    assert starts["starts"][kept]["score"] == max(s["score"] for s in starts["starts"])
    m = json.loads((run / "metrics.json").read_text())
    assert f'"seed": {3 + kept}' in m["training"]["chosen_checkpoint"]
    assert m["holds"] == {"option": "auto", "used": False,
                          "no_holds_check": choice["no_holds_check"]}
    assert m["synaptic_check"] == choice["no_holds_check"]
    assert choice["no_holds_mechanism"] == m["provenance"]["extra"]["mechanism"]
    # the kept model's training is timed where it happened, inside the holds stage
    wall = m["provenance"]["extra"]["stage_wall_s"]
    assert wall["holds/train"] > 1.0 and wall["holds/train"] <= wall["holds"]
    assert all(f"holds/{k}" in wall for k in ("targets", "export", "check"))
    assert "did not lock in the synaptic check" in (run / "report.html").read_text()
    kept_params = (run / "train" / f"start_{kept}" / "final" / "axial_params.npz").read_bytes()
    assert (run / "train" / "final" / "axial_params.npz").read_bytes() == kept_params


def test_holds_auto_trains_again_with_the_holds_when_the_first_model_locks(tmp_path,
                                                                         monkeypatch):
    """The branch taken on CA1, whose model trained without the held steps locks (README);
    the ball-and-stick's does not, so the decision is forced here and all else runs."""
    import reducer.pipeline as P
    from reducer.cell import load_cell_spec
    from reducer.train import TrainConfig

    seen = []

    def locked(check):
        seen.append(check)
        return True

    monkeypatch.setattr(P, "holds_needed", locked)
    spec = load_cell_spec(ROOT / "models" / "ball_and_stick")
    opts = P.RunOptions(protocol_scale="small", sensitivity=(), holds="auto", starts=1,
                        timing_repeats_full=1, timing_repeats_reduced=1,
                        train=TrainConfig(open_loop_steps=30, closed_loop_epochs=1,
                                          closed_loop_steps_per_epoch=3))
    out = tmp_path / "run"
    m = P.run_pipeline(spec, out, opts)
    choice = json.loads((out / "holds_choice.json").read_text())
    assert choice["holds"] is True and len(seen) == 1 and choice["no_holds_check"] == seen[0]
    aside = out / "no_holds"
    for name in ("train", "export", "export_baseline", ".complete"):
        assert (aside / name).exists(), name
    set_aside = json.loads((aside / "export" / "export.json").read_text())["mechanism"]
    assert set_aside == choice["no_holds_mechanism"] != m["provenance"]["extra"]["mechanism"]
    # the exported model trained on the held steps and the DC I-V
    targets = json.loads((out / "data" / "targets.json").read_text())
    assert targets["splits"]["dc"] and any("hold" in Path(f).name
                                           for f in targets["splits"]["train"])
    assert m["holds"]["used"] is True and m["holds"]["no_holds_export"] == "no_holds/export"
    assert m["synaptic_check"]["conditions"]  # the final model gets its own check
    assert "set aside in no_holds/export" in (out / "report.html").read_text()
    _, _, ps, _ = P.finished_run(out)
    assert ps.dc_holds and any(p.params.get("holds") for p in ps.train)
    # resumed: nothing is trained again, the decision stands
    final = out / "train" / "final" / "axial_params.npz"
    before = final.stat().st_mtime_ns
    P.run_pipeline(spec, out, opts)
    assert final.stat().st_mtime_ns == before and len(seen) == 1


def test_force_clears_run_and_benchmark_outputs_only(tmp_path):
    """--force: a new model must not sit beside the old one's benchmark numbers, and the
    user's own files in the folder stay."""
    from reducer.cell import load_cell_spec
    from reducer.pipeline import BENCHMARK_OUTPUTS, RUN_OUTPUTS, Run, RunOptions

    out = tmp_path / "run"
    spec = load_cell_spec(ROOT / "models" / "ball_and_stick")
    Run(spec, out, RunOptions())
    old = ["metrics.json", "benchmark.json", "network_benchmark_export.json",
           "full_cell_timestep.json", "synaptic_input.png"]
    for name in old:
        (out / name).write_text("{}")
    for folder in ("train/final", "timestep/dt_0.0125", "benchmark_export_table", "no_holds"):
        (out / folder).mkdir(parents=True)
    (out / "my_notes.txt").write_text("keep")
    (out / "my_plots").mkdir()
    Run(spec, out, RunOptions(seed=7), force=True)  # other options: refused without --force
    left = sorted(p.name for p in out.iterdir())
    assert left == ["cell_spec.pkl", "my_notes.txt", "my_plots", "run.json"]
    assert "metrics.json" in RUN_OUTPUTS and "timestep" in BENCHMARK_OUTPUTS


def test_holds_auto_completes_a_set_aside_cut_short(tmp_path):
    """A crash between writing the decision and moving the first model away: the resumed run
    moves what is left and keeps what was moved."""
    from reducer.cell import load_cell_spec
    from reducer.pipeline import Run, RunOptions

    out = tmp_path / "run"
    run = Run(load_cell_spec(ROOT / "models" / "ball_and_stick"), out, RunOptions(holds="auto"))
    check = {"n_stuck": 1, "conditions": [{}, {}]}
    (out / "holds_choice.json").write_text(json.dumps(
        {"option": "auto", "holds": True, "no_holds_check": check, "no_holds_mechanism": "m"}))
    (out / "train" / "final").mkdir(parents=True)
    (out / "export").mkdir()
    (out / "no_holds" / "export_baseline").mkdir(parents=True)  # moved before the crash
    assert run.choose_holds({})["holds"] is True
    assert not (out / "train").exists() and not (out / "export").exists()
    assert (out / "no_holds" / "train" / "final").is_dir()
    assert (out / "no_holds" / "export_baseline").is_dir()
    assert (out / "no_holds" / ".complete").exists()
    (out / "train").mkdir()  # the retraining's folder: never moved once complete
    run.choose_holds({})
    assert (out / "train").is_dir()


def test_bad_cell_is_one_clear_message(tmp_path):
    bad = tmp_path / "bad.swc"
    bad.write_text("1 1 0 0 0 5 -1\n2 3 0 0 x 1 1\n")
    r = reduce_cell(str(bad), "--biophysics", str(ROOT / "tests/data/cells/hh_pas.json"),
                    "--out", "run", cwd=tmp_path)
    assert r.returncode == 2
    assert "bad.swc:2" in r.stderr and "Traceback" not in r.stderr
    r = reduce_cell("no_such_cell", cwd=tmp_path)
    assert r.returncode == 2 and "no such cell" in r.stderr and "ca1_n120" in r.stderr
    r = reduce_cell("ball_and_stick", "--sensitivity", "3", cwd=tmp_path)
    assert r.returncode == 2 and "'3' has no unit" in r.stderr
    assert "1% (of the rheobase)" in r.stderr
    r2 = reduce_cell("ball_and_stick", "--starts", "0", cwd=tmp_path)
    assert r2.returncode == 2 and "--starts must be at least 1" in r2.stderr
    assert "Traceback" not in r.stderr + r2.stderr and not (tmp_path / "runs").exists()


def test_untranslatable_soma_mechanism_stops_before_the_targets(tmp_path):
    """A VERBATIM block in a soma mechanism: one message naming file, line and construct,
    by the end of calibration (no full-cell protocol simulated, nothing trained)."""
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "verbatim.mod").write_text((ROOT / "tests/mod_unsupported/verbatim.mod").read_text())
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps({"sections": {
        "all": {"Ra": 100.0, "cm": 1.0, "insert": {"pas": {"g": 5e-05, "e": -65.0}}},
        "soma": {"insert": {"hh": {}, "verbatim": {}}}}}))
    r = reduce_cell(str(ROOT / "tests/data/cells/swc/morph_minimal.swc"), "--biophysics",
                    str(bio), "--mechanisms", str(mods), "--out", "run", *FAST, cwd=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "verbatim.mod:11" in r.stderr and "VERBATIM" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "run" / "data").exists()


def test_help_documents_every_option():
    r = subprocess.run([sys.executable, "-m", "reducer.cli", "--help"], capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0
    for opt in ("--out", "--seed", "--protocols", "--states", "--epochs", "--exact-gates",
                "--force", "--biophysics", "--template", "--sensitivity", "--starts",
                "--coreneuron", "--no-holds", "--holds"):
        assert opt in r.stdout


def test_coreneuron_does_not_change_what_a_run_resumes_from():
    from reducer.pipeline import RunOptions, _model_digest
    from reducer.train import TrainConfig, init_mixed

    # Adding --coreneuron to a finished run redoes only the export: it is not a result option,
    # but it changes the export's digest (so an export without the CoreNEURON library is redone).
    assert RunOptions(coreneuron=True).result_shaping() == RunOptions().result_shaping()
    # --no-holds changes the training set; with the default, run.json reads as it did before
    # the option existed, so older run folders resume
    assert "holds" not in RunOptions().result_shaping()
    assert RunOptions(holds=False).result_shaping()["holds"] is False
    assert RunOptions(holds="auto").result_shaping()["holds"] == "auto"
    from reducer.cli import build_parser

    for args, holds in (([], True), (["--no-holds"], False), (["--holds", "off"], False),
                        (["--holds", "auto"], "auto"), (["--holds", "on"], True)):
        assert build_parser().parse_args(args).holds == holds
    model = init_mixed(TrainConfig(n_states=3, n_hidden=2, n_gated=1))
    assert _model_digest(model, False, True) != _model_digest(model, False, False)
    assert _model_digest(model, False) == _model_digest(model, False, False)
