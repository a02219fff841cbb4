"""``reduce-cell batch MANIFEST --out DIR``: reduce many cells as Dask tasks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reducer.batch.manifest import __doc__ as MANIFEST_DOC
from reducer.errors import ReduceCellError, report_internal_error


def build_batch_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="reduce-cell batch",
        description=(
            "Reduce every cell a manifest lists, each cell's stages as tasks on Dask: a "
            "LocalCluster on this machine by default, or a running cluster with --scheduler. "
            "Each cell goes to OUT/<name> (its log to OUT/logs/<name>.log); OUT/summary.csv and "
            "OUT/index.html list every cell's status, held-out numbers, speed-up and wall time. "
            "Running the same command again redoes only what is not finished."),
        epilog="Manifest format:\n" + (MANIFEST_DOC or ""),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", type=Path, help="the cells: a .yaml/.yml or .csv file")
    p.add_argument("--out", "-o", type=Path, required=True, help="the batch's output folder")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://host:8786) instead of a LocalCluster; "
                        "its workers must run in this project's environment and see the "
                        "manifest's files and OUT at the same paths (a shared file system)")
    p.add_argument("--workers", type=int, default=None,
                   help="LocalCluster worker processes, one cell task each at a time "
                        "(default: the number of cores)")
    p.add_argument("--train-resource", action="append", default=None, metavar="NAME=AMOUNT",
                   help="a Dask resource the training tasks need, e.g. GPU=1: only workers "
                        "started with `--resources GPU=1` take them (repeatable)")
    p.add_argument("--allowed-failures", type=int, default=None,
                   help="LocalCluster only: how often a task may lose its worker before its "
                        "cell counts as failed (Dask's default: 3); each retry resumes the cell")
    p.add_argument("--status-every", type=float, default=30.0, metavar="SECONDS",
                   help="how often the progress line (done / running / failed, ETA) is printed")
    return p


def _resources(items: list[str] | None) -> dict[str, float] | None:
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, amount = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name] = float(amount)
        except ValueError:
            raise ReduceCellError(f"--train-resource {item!r}: write NAME=AMOUNT, e.g. GPU=1"
                                  ) from None
    return out


def batch_main(argv: list[str]) -> int:
    args = build_batch_parser().parse_args(argv)
    try:
        from reducer.batch.runner import run_batch

        res = run_batch(args.manifest, args.out, scheduler=args.scheduler,
                        n_workers=args.workers,
                        train_resources=_resources(args.train_resource),
                        allowed_failures=args.allowed_failures,
                        status_interval_s=args.status_every)
    except ReduceCellError as exc:
        print(f"reduce-cell batch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one message, the traceback kept in a file
        return report_internal_error(exc, "reduce-cell batch")
    return 1 if res.failed else 0
