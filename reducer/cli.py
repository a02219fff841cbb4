"""``reduce-cell``: reduce a NEURON cell to a single-compartment hybrid model, end to end."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from reducer.arguments import DEFAULT_CELL, build_parser  # noqa: F401 - build_parser: public here too
from reducer.errors import ReduceCellError, report_internal_error

BUNDLED_MODELS = Path(__file__).resolve().parent.parent / "models"


def resolve_cell(args) -> object:
    from reducer.cell import load_cell_spec

    cell = args.cell
    if cell is None:
        path = BUNDLED_MODELS / DEFAULT_CELL
    else:
        path = Path(cell)
        if not path.exists() and (BUNDLED_MODELS / cell).is_dir():
            path = BUNDLED_MODELS / cell
    if not path.exists():
        raise ReduceCellError(
            f"{path}: no such cell; give a model folder with cell.json, a .swc or a .hoc file"
            + (f" (bundled models: {', '.join(sorted(p.name for p in BUNDLED_MODELS.iterdir() if p.is_dir()))})"  # noqa: E501
               if BUNDLED_MODELS.is_dir() else ""))
    overrides = {}
    for key in ("biophysics", "mechanisms", "template", "soma", "celsius", "v_init_mV", "dt_ms"):
        val = getattr(args, key)
        if val is not None:
            overrides[key] = val
    if args.template_args:
        overrides["template_args"] = [_num_or_str(a) for a in args.template_args]
    if args.load_files:
        overrides["load_files"] = args.load_files
    if getattr(args, "keep_stimuli", False):
        overrides["keep_stimuli"] = True
    return load_cell_spec(path, **overrides)


def _num_or_str(s: str):
    try:
        return float(s)
    except ValueError:
        return s


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["batch"]:  # `reduce-cell batch MANIFEST`; a cell file named batch: ./batch
        from reducer.batch.cli import batch_main

        return batch_main(argv[1:])
    from reducer.batch.tasks import install_group_kill

    install_group_kill()  # only in a batch task's process: a dead worker takes its NEURON jobs
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.starts < 1:
        parser.error(f"--starts must be at least 1, got {args.starts}")
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")  # no GUI, no DISPLAY warning
    try:
        from reducer.pipeline import RunOptions, run_pipeline
        from reducer.train import TrainConfig

        spec = resolve_cell(args)
        cfg = dataclasses.replace(
            TrainConfig(), seed=args.seed, n_states=args.states, n_hidden=args.hidden,
            open_loop_steps=args.open_loop_steps, closed_loop_epochs=args.epochs,
            closed_loop_steps_per_epoch=args.steps_per_epoch, open_loop_lr=args.lr_open,
            closed_loop_lr=args.lr_closed, window_ms=args.window_ms,
            step_weight=args.step_weight, trim=args.trim)
        opts = RunOptions(seed=args.seed, protocol_scale=args.protocols,
                          settle_ms=args.settle_ms, dt_ms=args.dt_ms, workers=args.workers,
                          use_table=args.use_table, coreneuron=args.coreneuron,
                          timing_repeats_full=args.timing_repeats,
                          sensitivity=args.sensitivity, starts=args.starts,
                          holds=args.holds, train=cfg)
        out = args.out or Path("runs") / spec.name
        run_pipeline(spec, out, opts, force=args.force, stop_after=args.stop_after)
    except ReduceCellError as exc:
        print(f"reduce-cell: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reduce-cell: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one message, the traceback kept in a file
        return report_internal_error(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
