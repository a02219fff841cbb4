"""The whole reduction, stage by stage, resumable: what ``reduce-cell`` runs.

    calibrate  rheobase and input resistance of the full cell (NEURON)   calibration.json
    translate  the soma's .mod files to JAX (fails early if it cannot)
    holds      only with ``holds="auto"``: targets, train, export without   holds_choice.json
               the held steps, then the synaptic check; a model that locks  no_holds/
               is set aside and the stages below train with them
    targets    full-cell simulations of every protocol (NEURON)          data/
    train      baseline, open loop, closed loop (JAX)                    train/
    export     NMODL + hoc template, compiled (trained model, baseline) export/, export_baseline/
    validate   reduced cells vs full cell in NEURON, timings             validation.pkl
    report     metrics.json, report.html                                 metrics.json, report.html

Each stage's outputs are written atomically; a stage whose outputs exist is skipped, so an
interrupted run continues where it stopped. ``run.json`` records the cell hash and the options
that shape the results; resuming with a different cell or options is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reducer.cell.stimuli import describe_user_stimuli
from reducer.errors import ReduceCellError
from reducer.progress import log
from reducer.protocols import Protocol, ProtocolSet, default_protocols
from reducer.run_folder import BENCHMARK_OUTPUTS, HOLDS_CHOICE, RUN_OUTPUTS, SET_ASIDE
from reducer.train import TrainConfig

STAGES = ("calibrate", "translate", "targets", "train", "export", "validate", "report")


@dataclass
class RunOptions:
    """Options of one ``reduce-cell`` run (everything that shapes the results)."""

    seed: int = 0
    protocol_scale: str = "default"
    settle_ms: float = 500.0
    dt_ms: float | None = None
    workers: int = 2
    # NMODL TABLE gates in the export (~10 % faster in NEURON; the JAX twin reads the same
    # table, reducer.hybrid.as_exported); False computes z_inf and tau exactly at every step.
    use_table: bool = True
    # Also build the exports for CoreNEURON (the results do not change).
    coreneuron: bool = False
    timing_repeats_full: int = 3
    timing_repeats_reduced: int = 7
    # Offsets for the full cell's self-check on held-out protocols, in % of rheobase ("1%")
    # or pA ("2pA"); see reducer.targets.parse_sensitivity.
    sensitivity: tuple[str, ...] = ("0.3%", "1%")
    # Seeds trained, the best validated kept (reducer.train.train_multistart): one seed alone
    # gave the CA1 cell's headline numbers on 1 of seeds 0-5, three starts on 3 of 6 (README).
    starts: int = 3
    # The held-depolarised training steps and the DC I-V above -70 mV
    # (reducer.protocols.default_protocols):
    # True, False, or "auto" (train without them; keep that model unless the synaptic check
    # finds it locked, else train again with them: Run.choose_holds).
    holds: bool | str = True
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["train"] = self.train.to_dict()
        return d

    def result_shaping(self) -> dict[str, Any]:
        d = self.to_dict()
        for k in ("workers", "coreneuron", "timing_repeats_full", "timing_repeats_reduced"):
            d.pop(k)
        if d["holds"] is True:  # the default; run folders from before the option stay resumable
            d.pop("holds")
        return d


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1, default=_json_default)
    os.replace(tmp, path)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _write_pickle(path: Path, obj: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(obj, f)
    os.replace(tmp, path)


class Run:
    """One run folder: paths of every stage's outputs and the stage logic."""

    def __init__(self, spec, out_dir: Path, options: RunOptions, force: bool = False):
        if options.holds not in (True, False, "auto"):
            raise ValueError(f"holds must be True, False or 'auto', got {options.holds!r}")
        self.spec = spec
        self.out = Path(out_dir).resolve()
        self.opt = options
        self.dt_ms = float(options.dt_ms or spec.dt_ms)
        if force and self.out.exists():
            for pattern in RUN_OUTPUTS + BENCHMARK_OUTPUTS:
                for p in self.out.glob(pattern):
                    if p.is_dir():
                        shutil.rmtree(p)
                    else:
                        p.unlink()
        self.out.mkdir(parents=True, exist_ok=True)
        self._check_run_file()
        # The exact cell description, for tools that revisit the run (benchmarks/).
        _write_pickle(self.out / "cell_spec.pkl", spec)
        self.timings: dict[str, float] = {}
        # What "auto" chose (Run.choose_holds); for True / False, the option itself.
        self.holds_choice: dict[str, Any] = {"option": options.holds, "holds": options.holds}

    # ------------------------------------------------------------------ bookkeeping

    def _check_run_file(self) -> None:
        want = {"cell": self.spec.name, "cell_hash": self.spec.content_hash(),
                "dt_ms": self.dt_ms, "options": self.opt.result_shaping()}
        path = self.out / "run.json"
        if path.exists():
            have = json.loads(path.read_text())
            have_cmp = {k: have.get(k) for k in want}
            if json.loads(json.dumps(have_cmp, default=_json_default)) != json.loads(
                    json.dumps(want, default=_json_default)):
                diff = [k for k in want if json.dumps(have.get(k), default=_json_default)
                        != json.dumps(want[k], default=_json_default)]
                raise ReduceCellError(
                    f"{self.out} holds a run with a different {', '.join(diff)}; resume it with "
                    "the same cell and options, choose another --out, or pass --force to start "
                    "over there")
        else:
            _write_json(path, {**want, "cell_source": str(self.spec.root),
                               "created": time.strftime("%Y-%m-%d %H:%M:%S")})

    def stage(self, name: str, fn) -> Any:
        t0 = time.perf_counter()
        log(f"== {name} ==")
        result = fn()
        self.timings[name] = time.perf_counter() - t0
        log(f"== {name} done in {self.timings[name]:.1f} s ==")
        return result

    # ------------------------------------------------------------------ stages

    def calibrate(self) -> dict[str, float]:
        path = self.out / "calibration.json"
        if path.exists():
            return json.loads(path.read_text())
        from reducer.isolated import run_isolated

        cal = run_isolated("reducer.targets:find_rheobase_worker", spec=self.spec,
                           dt_ms=self.dt_ms, settle_ms=self.opt.settle_ms)
        _write_json(path, cal)
        return cal

    def protocols(self, rheobase_nA: float) -> ProtocolSet:
        """The protocol set of this run; with ``holds="auto"``, call after :meth:`choose_holds`."""
        holds = self.holds_choice["holds"]
        if holds == "auto":
            raise RuntimeError("holds='auto' is resolved by Run.choose_holds first")
        return default_protocols(rheobase_nA, self.opt.protocol_scale, holds)

    def targets(self, ps: ProtocolSet, rheobase_nA: float) -> dict[str, Any]:
        from reducer.targets import (
            generate_targets,
            sensitivity_jobs,
            sensitivity_offsets_pA,
            sensitivity_protocols,
            sensitivity_sizes_pA,
        )

        data = self.out / "data"
        done = data / "targets.json"
        sizes_pA = sensitivity_offsets_pA(self.opt.sensitivity, rheobase_nA)
        if done.exists():
            summary = json.loads(done.read_text())
            # "auto" asks for the set without holds first, then maybe the set with them: the
            # simulations already made are reused (generate_targets skips them). A folder
            # from before the f-I steps had sensitivity runs gets them added the same way.
            want = {Path(j["path"]).name for j in sensitivity_jobs(
                sensitivity_protocols(ps), sensitivity_sizes_pA(sizes_pA), data)}
            have = {Path(p).name for p in summary["splits"].get("sensitivity", [])}
            if summary.get("protocols") == json.loads(json.dumps(ps.to_dict())) and \
                    want == have:
                return summary
        res = generate_targets(self.spec, ps, data, dt_ms=self.dt_ms,
                               settle_ms=self.opt.settle_ms, n_workers=self.opt.workers,
                               sensitivity_pA=sizes_pA)
        summary = {"splits": {k: [str(p) for p in v] for k, v in res["splits"].items()},
                   "meta": res["meta"], "soma": res["soma"], "protocols": ps.to_dict()}
        _write_json(done, summary)
        return summary

    def membrane(self, soma: dict[str, Any]):
        from reducer.nmodl2jax import build_membrane

        return build_membrane(soma)

    def train(self, targets: dict[str, Any], cal: dict[str, Any]):
        from reducer.targets import Dataset, dc_iv
        from reducer.train import dendritic_load_nS, train_multistart

        membrane = self.membrane(targets["soma"])
        tr = Dataset.load([Path(p) for p in targets["splits"]["train"]])
        va = Dataset.load([Path(p) for p in targets["splits"]["validation"]])
        # The dendritic load measured on the full cell guards the fitted one in the open-loop
        # weights (a least-squares baseline can come out with a negative DC slope).
        load = dendritic_load_nS(membrane, targets["soma"], float(targets["meta"]["v_rest_mV"]),
                                 float(cal["input_resistance_MOhm"]))
        dc = dc_iv(targets["splits"].get("dc", []))
        return train_multistart(membrane, targets["soma"], tr, va, self.opt.train,
                                self.out / "train", self.opt.starts, load_nS=load, dc_iv=dc)

    def export(self, targets: dict[str, Any], result) -> dict[str, Path]:
        from mod_export import export_reduced_cell

        v_rest = float(targets["meta"]["v_rest_mV"])
        dirs = {"reduced": self.out / "export", "baseline": self.out / "export_baseline"}
        for label, model in (("reduced", result.model), ("baseline", result.baseline)):
            folder = dirs[label]
            stamp = folder / ".model_digest"
            coreneuron = self.opt.coreneuron and label == "reduced"
            use_table = self.opt.use_table and label == "reduced"
            digest = _model_digest(model, use_table, coreneuron)
            if (folder / "export.json").exists() and stamp.exists() and \
                    stamp.read_text() == digest:
                continue
            name = self.spec.name if label == "reduced" else f"{self.spec.name}_linear"
            export_reduced_cell(model, targets["soma"], folder, cell_name=name,
                                v_init_mV=v_rest, dt_ms=self.dt_ms,
                                use_table=use_table,
                                coreneuron=coreneuron)
            stamp.write_text(digest)
        return dirs

    def validate(self, ps: ProtocolSet, export_dirs: dict[str, Path],
                 cal: dict[str, Any]) -> dict[str, Any]:
        from reducer.validate.heldout import run_validation

        path = self.out / "validation.pkl"
        res = None
        if path.exists():
            with open(path, "rb") as f:
                cached = pickle.load(f)
            if cached.get("exports") == {k: _export_id(v) for k, v in export_dirs.items()}:
                res = cached
                if "synaptic_check" in res and "heldout_synaptic" in res:
                    return res
        if res is None:
            timing = _timing_protocol(ps)
            res = run_validation(self.spec, export_dirs, list(ps.test) + list(ps.fi_steps),
                                 timing, self.opt.timing_repeats_full,
                                 self.opt.timing_repeats_reduced)
            res["exports"] = {k: _export_id(v) for k, v in export_dirs.items()}
            _write_pickle(path, res)
        if "heldout_synaptic" not in res:
            res["heldout_synaptic"] = self.heldout_synaptic(export_dirs, cal)
            _write_pickle(path, res)
        if self.holds_choice.get("no_holds_mechanism") == res["exports"]["reduced"]:
            res["synaptic_check"] = self.holds_choice["no_holds_check"]  # "auto" checked it
        else:
            res["synaptic_check"] = self.synaptic_check(export_dirs["reduced"], cal)
        _write_pickle(path, res)
        return res

    def choose_holds(self, cal: dict[str, Any]) -> dict[str, Any]:
        """``holds="auto"``: train without the held-depolarised steps and keep that model
        unless the synaptic check finds it locked (:func:`holds_needed`); then set it aside in
        ``no_holds/`` and let the later stages train with them. The decision is written to
        ``holds_choice.json`` before anything moves, so a resumed run finishes the same way.

        Returns {"option": "auto", "holds": bool, "no_holds_check": the check,
        "no_holds_mechanism": the checked export's mechanism}.
        """
        path = self.out / HOLDS_CHOICE
        if path.exists():
            choice = json.loads(path.read_text())
        else:
            r = cal["rheobase_nA"]
            log("holds auto: training without the held-depolarised steps first, then checking "
                "that model under strong synaptic input")
            # Each step is timed on its own ("holds/train", ...): otherwise the report would
            # show this training under "holds" and a "train" stage of ~0 s when it is kept.
            ps = default_protocols(r, self.opt.protocol_scale, False)
            targets = self.stage("holds/targets", lambda: self.targets(ps, r))
            result = self.stage("holds/train", lambda: self.train(targets, cal))
            exports = self.stage("holds/export", lambda: self.export(targets, result))
            check = self.stage("holds/check",
                               lambda: self.synaptic_check(exports["reduced"], cal))
            choice = {"option": "auto", "holds": holds_needed(check), "no_holds_check": check,
                      "no_holds_mechanism": _export_id(exports["reduced"])}
            _write_json(path, choice)
        if choice["holds"]:
            self._set_aside_no_holds(choice["no_holds_check"])
        self.holds_choice = choice
        return choice

    def _set_aside_no_holds(self, check: dict[str, Any]) -> None:
        """Move the model trained without holds (train/, export/, export_baseline/) into
        no_holds/; each move is one rename, so a resume after a crash completes it."""
        dest = self.out / SET_ASIDE
        if (dest / ".complete").exists():
            return
        dest.mkdir(exist_ok=True)
        for name in ("train", "export", "export_baseline"):
            if (self.out / name).exists():
                if (dest / name).exists():
                    shutil.rmtree(dest / name)
                os.replace(self.out / name, dest / name)
        (dest / ".complete").write_text("")
        from reducer.report import set_aside_reason

        log(f"the model trained without the held steps is set aside in {dest}: "
            f"{set_aside_reason(check)}; training again with them")

    def synaptic_check(self, export_dir: Path, cal: dict[str, Any]) -> dict[str, Any]:
        """Depolarisation block under strong synaptic input (:func:`reducer.validate.synaptic.
        synaptic_check`): what the held-depolarised training steps prevent on CA1, and what a
        ``--no-holds`` run must be checked for."""
        from reducer.validate.synaptic import CHECK_DRIVES, CHECK_SEEDS, synaptic_check

        log(f"synaptic check: somatic synaptic drive {', '.join(f'{d:g}' for d in CHECK_DRIVES)}"
            f"x rheobase, {len(CHECK_SEEDS)} seeds, full cell and reduced cell in NEURON")
        return synaptic_check(self.spec, export_dir, cal["rheobase_nA"], cal["v_rest_mV"],
                              settle_ms=self.opt.settle_ms)


    def heldout_synaptic(self, export_dirs: dict[str, Path], cal: dict[str, Any]
                         ) -> dict[str, Any]:
        """The held-out somatic synaptic drive, full cell (also with the sensitivity offsets
        added) and every export (:func:`reducer.validate.synaptic.heldout_synaptic`)."""
        from reducer.targets import sensitivity_offsets_pA
        from reducer.validate.synaptic import HELDOUT_DRIVE, heldout_synaptic

        log(f"held-out synaptic drive {HELDOUT_DRIVE:g}x rheobase: full cell (and with the "
            "sensitivity offsets) and the exports in NEURON")
        offsets = sensitivity_offsets_pA(self.opt.sensitivity, cal["rheobase_nA"])
        return heldout_synaptic(self.spec, export_dirs, cal["rheobase_nA"], cal["v_rest_mV"],
                                list(offsets), settle_ms=self.opt.settle_ms,
                                dur_ms=300.0 if self.opt.protocol_scale.startswith("small")
                                else 1000.0)


def holds_needed(check: dict[str, Any]) -> bool:
    """Whether a model trained without the held steps must be trained again with them: it
    locked in the synaptic check, or the check could not run (nothing shows it is safe)."""
    return bool(check.get("skipped")) or check["n_stuck"] > 0


def _model_digest(model, use_table: bool, coreneuron: bool = False) -> str:
    import hashlib

    from reducer.hybrid.model_io import model_arrays

    h = hashlib.sha256(str(use_table).encode())
    if coreneuron:  # an export without the CoreNEURON library is redone, not reused
        h.update(b"coreneuron")
    for k, a in sorted(model_arrays(model).items()):
        h.update(k.encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _export_id(folder: Path) -> str:
    return json.loads((Path(folder) / "export.json").read_text())["mechanism"]


def require_run_files(run_dir: str | Path, names: tuple[str, ...], stage: str) -> None:
    """Check that a run folder holds ``names`` (paths relative to it), written by ``stage``
    or earlier.

    Raises:
        ReduceCellError: naming the first missing file and what to do.
    """
    for name in names:
        if not (Path(run_dir) / name).is_file():
            raise ReduceCellError(
                f"{run_dir} has no {name}: give the --out folder of a reduce-cell run whose "
                f"{stage} stage has finished, or finish this one by running the same "
                "reduce-cell command again")


def finished_run(run_dir: str | Path) -> tuple[Any, dict[str, Any], ProtocolSet, Protocol]:
    """What the benchmarks read from a finished run folder: the cell spec, ``run.json``, the
    protocol set (from the measured rheobase) and the protocol the report's timing uses.

    Raises:
        ReduceCellError: ``run_dir`` is not the folder of a finished run (names what is missing).
    """
    run_dir = Path(run_dir)
    # metrics.json is written last (report stage): the exports and the model exist by then.
    require_run_files(run_dir, ("cell_spec.pkl", "run.json", "calibration.json", "metrics.json"),
                      "report")
    with open(run_dir / "cell_spec.pkl", "rb") as f:
        spec = pickle.load(f)
    info = json.loads((run_dir / "run.json").read_text())
    cal = json.loads((run_dir / "calibration.json").read_text())
    holds = info["options"].get("holds", True)
    if holds == "auto":
        holds = json.loads((run_dir / HOLDS_CHOICE).read_text())["holds"]
    ps = default_protocols(cal["rheobase_nA"], info["options"]["protocol_scale"], holds)
    return spec, info, ps, _timing_protocol(ps)


def _timing_protocol(ps: ProtocolSet) -> Protocol:
    """The held-out noisy protocol if there is one (realistic input), else the longest."""
    noisy = [p for p in ps.test if p.kind == "ou_noise"]
    return noisy[0] if noisy else max(ps.test, key=lambda p: p.duration_ms)


STOP_AFTER = ("targets", "train")


def run_pipeline(spec, out_dir: Path, options: RunOptions, force: bool = False,
                 stop_after: str | None = None) -> dict[str, Any] | None:
    """Run (or resume) every stage; returns the metrics dict written to metrics.json.

    Args:
        stop_after: "targets" (NEURON work only) or "train" (also the JAX training): stop
            there and return None; running again without it finishes the run. The batch
            command runs a cell's NEURON and JAX work as separate tasks this way.
    """
    if stop_after not in (None, *STOP_AFTER):
        raise ValueError(f"stop_after must be one of {STOP_AFTER} or None, got {stop_after!r}")
    from reducer.report.assemble import assemble_report

    t_start = time.perf_counter()
    run = Run(spec, out_dir, options, force=force)
    if spec.celsius_from not in ("given", "default"):
        log(f"celsius {spec.celsius:g} degC, as the cell's hoc sets it ({spec.celsius_from}); "
            "--celsius overrides")
    elif spec.celsius_from == "default":
        log(f"celsius {spec.celsius:g} degC (reduce-cell's default: the cell's files set none "
            "that reduce-cell loads; --celsius sets it)")
    cal = run.stage("calibrate", run.calibrate)
    log(f"rheobase {cal['rheobase_nA']:.4f} nA, input resistance "
        f"{cal['input_resistance_MOhm']:.1f} MOhm, rest {cal['v_rest_mV']:.2f} mV")
    if cal.get("user_stimuli"):
        log(describe_user_stimuli(cal["user_stimuli"]))
    if "soma" in cal:
        # NMODL -> JAX now: an unsupported construct is reported before minutes of simulation.
        run.stage("translate", lambda: run.membrane(cal["soma"]))
    if options.holds == "auto":
        choice = run.stage("holds", lambda: run.choose_holds(cal))
        log(f"holds auto: {'with' if choice['holds'] else 'without'} the held-depolarised steps")
    ps = run.protocols(cal["rheobase_nA"])
    targets = run.stage("targets", lambda: run.targets(ps, cal["rheobase_nA"]))
    if stop_after == "targets":
        log(f"stopped after the targets stage (--stop-after); {run.out} resumes from here")
        return None
    result = run.stage("train", lambda: run.train(targets, cal))
    if stop_after == "train":
        log(f"stopped after the train stage (--stop-after); {run.out} resumes from here")
        return None
    exports = run.stage("export", lambda: run.export(targets, result))
    val = run.stage("validate", lambda: run.validate(ps, exports, cal))
    metrics = run.stage("report", lambda: assemble_report(run, ps, targets, result, exports,
                                                          val, cal))
    total = time.perf_counter() - t_start
    log(f"reduce-cell finished in {total / 60:.1f} min: {run.out / 'report.html'}")
    return metrics
