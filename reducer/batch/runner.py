"""Run a manifest's cells as Dask tasks: a LocalCluster by default, or an existing scheduler.

Each cell is three tasks in a chain (:data:`reducer.batch.tasks.TASKS`): NEURON simulations,
JAX training, then export, validation and report. Each task is one ``reduce-cell`` process on
the cell's own run folder, so what a task finished is on disk: a failed cell, a killed worker
or an interrupted batch loses nothing, and running the batch again redoes only what is not
finished (cells done earlier with the same options are not touched at all).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reducer.batch.manifest import BatchCell, load_manifest
from reducer.batch.summary import cell_row, write_summary
from reducer.batch.tasks import TASKS, run_cell_task
from reducer.errors import ReduceCellError
from reducer.progress import log


@dataclass
class BatchResult:
    """What :func:`run_batch` did: the summary rows and where they are."""

    rows: list[dict[str, Any]]
    csv_path: Path
    html_path: Path
    wall_s: float

    @property
    def failed(self) -> list[str]:
        return [r["cell"] for r in self.rows if r["status"] != "done"]


def _fmt_min(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s"


class _Cell:
    """One cell's run folder, log and batch state (``OUT/state/<name>.json``)."""

    def __init__(self, cell: BatchCell, out: Path):
        self.cell = cell
        argv = list(cell.argv)
        if "--workers" not in argv:  # the batch runs cells side by side: one NEURON process each
            argv += ["--workers", "1"]
        self.argv = argv
        self.run_dir = out / cell.name
        self.log = out / "logs" / f"{cell.name}.log"
        self.state_path = out / "state" / f"{cell.name}.json"
        self.state: dict[str, Any] = {}
        if self.state_path.is_file():
            self.state = json.loads(self.state_path.read_text())
        self.seconds_now = 0.0

    def done_earlier(self) -> bool:
        return (self.state.get("status") == "done" and self.state.get("argv") == self.argv
                and self.state.get("cwd") == str(self.cell.cwd)
                and (self.run_dir / "metrics.json").is_file())

    def save(self, **changes: Any) -> None:
        self.state.update(changes, argv=self.argv, cwd=str(self.cell.cwd),
                          updated=time.strftime("%Y-%m-%d %H:%M:%S"))
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.state_path)


def _client(scheduler: str | None, n_workers: int | None, allowed_failures: int | None):
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError) as exc:
            raise ReduceCellError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); "
                                  "start one with `dask scheduler` and workers with `dask worker "
                                  f"{scheduler} --nthreads 1` from this project's environment"
                                  ) from None
    if allowed_failures is not None:
        dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures})
    n = n_workers or os.cpu_count() or 1
    # One thread per worker process: each task is one reduce-cell process using one core.
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address=":8787", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_batch(manifest: str | Path, out: str | Path, *, scheduler: str | None = None,
              n_workers: int | None = None, train_resources: dict[str, float] | None = None,
              allowed_failures: int | None = None, status_interval_s: float = 30.0
              ) -> BatchResult:
    """Reduce every cell of ``manifest`` into ``out/<name>``; write the summary.

    Args:
        scheduler: address of a running Dask scheduler (``tcp://host:8786``); default: a
            LocalCluster with ``n_workers`` worker processes (default: the number of cores).
        train_resources: Dask resources the training tasks need (``{"GPU": 1}``: only workers
            started with ``--resources GPU=1`` train).
        allowed_failures: LocalCluster only: how often a task may lose its worker before it
            counts as failed (Dask's default is 3; each retry resumes from the run folder).
        status_interval_s: how often the batch's progress line is printed.
    """
    from distributed import wait

    t0 = time.perf_counter()
    out = Path(out).resolve()
    cells = [_Cell(c, out) for c in load_manifest(manifest)]
    out.mkdir(parents=True, exist_ok=True)
    client, cluster = _client(scheduler, n_workers, allowed_failures)
    try:
        log(f"batch: {len(cells)} cells from {manifest} into {out}")
        log(f"batch: Dask dashboard at {client.dashboard_link}")
        n_slots = sum(w.get("nthreads", 1) for w in
                      client.scheduler_info()["workers"].values()) or 1
        if train_resources:
            have = [w for w in client.scheduler_info()["workers"].values()
                    if all(w.get("resources", {}).get(k, 0) >= v
                           for k, v in train_resources.items())]
            if not have:
                log(f"batch: warning: no worker has the resources {train_resources} yet; the "
                    "training tasks wait for one (start it with `dask worker ADDRESS "
                    "--resources GPU=1`)")
        owner: dict[str, tuple[_Cell, str]] = {}
        pending = set()
        for c in cells:
            if c.done_earlier():
                log(f"batch: {c.cell.name}: done earlier with the same options; not run again")
                c.state["status_now"] = "done earlier"
                continue
            c.save(status="running", error=None)
            prev = None
            for task, stop_after in TASKS:
                fut = client.submit(
                    run_cell_task, c.cell.name, c.argv, str(c.cell.cwd), str(c.run_dir),
                    str(c.log), task, stop_after, prev, pure=False,
                    key=f"{task}-{c.cell.name}-{os.urandom(4).hex()}",
                    resources=train_resources if task == "train" else None)
                owner[fut.key] = (c, task)
                pending.add(fut)
                prev = fut
        finished: list[float] = []
        seen: dict[str, float] = {}  # task key -> when a status line first saw it running
        last_status = 0.0
        while pending:
            try:
                done, pending = wait(pending, timeout=status_interval_s,
                                     return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished in this interval: print progress, go on
                done = set()
            for fut in done:
                c, task = owner[fut.key]
                if c.state.get("status") != "running":
                    continue  # a later task of a cell that already failed
                if fut.status == "finished":
                    res = fut.result()
                    c.seconds_now += res["seconds"]
                    if not res["ok"]:
                        _finish(c, "failed", res["error"])
                    elif task == TASKS[-1][0]:
                        _finish(c, "done", None)
                        finished.append(c.seconds_now)
                else:
                    _finish(c, "failed", _task_error(fut, task))
                if c.state["status"] != "running":
                    log(f"batch: {c.cell.name}: {c.state['status']}"
                        + (f" ({c.state['error']})" if c.state["error"] else "")
                        + f" after {_fmt_min(c.seconds_now)}")
                    _write(out, cells, manifest, t0)
            now = time.perf_counter()
            if now - last_status >= status_interval_s or not pending:
                last_status = now
                log(_status_line(client, cells, owner, finished, n_slots, now - t0, seen))
    except KeyboardInterrupt:
        log("batch: interrupted; run the same command again to resume (finished stages are "
            "kept in each cell's folder)")
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    csv_path, html_path = _write(out, cells, manifest, t0)
    res = BatchResult([cell_row(c.cell.name, c.run_dir, c.state) for c in cells], csv_path,
                      html_path, time.perf_counter() - t0)
    log(f"batch finished in {_fmt_min(res.wall_s)}: {len(cells) - len(res.failed)} done, "
        f"{len(res.failed)} failed; {csv_path}, {html_path}")
    return res


def _finish(c: _Cell, status: str, error: str | None) -> None:
    c.save(status=status, error=error, seconds=round(c.seconds_now, 1))


def _task_error(fut, task: str) -> str:
    from distributed.scheduler import KilledWorker

    exc = fut.exception()
    if isinstance(exc, KilledWorker):
        return (f"the worker running its {task} task died (KilledWorker); run the batch again to "
                "resume the cell from its last finished stage")
    return f"task {task}: {type(exc).__name__}: {exc}"


def _status_line(client, cells, owner, finished, n_slots, elapsed_s,
                 seen: dict[str, float]) -> str:
    running_keys = [k for k in _executing_keys(client) if k in owner]
    running = {owner[k][0].cell.name for k in running_keys}
    now = time.perf_counter()
    # How long each cell's running task has run (as far as these status lines saw).
    in_task = {owner[k][0].cell.name: now - seen.setdefault(k, now) for k in running_keys}
    n_done = sum(c.state.get("status") == "done" for c in cells)
    n_failed = sum(c.state.get("status") == "failed" for c in cells)
    left = sum(c.state.get("status") == "running" for c in cells)
    if left == 0:
        eta = "0 s"
    elif finished:
        # The mean finished cell's time, less what each unfinished cell has had so far (its
        # finished stages and its running task), shared out over the worker threads.
        per_cell = sum(finished) / len(finished)
        to_go = sum(max(per_cell - c.seconds_now - in_task.get(c.cell.name, 0.0), 0.0)
                    for c in cells if c.state.get("status") == "running")
        eta = "about " + _fmt_min(to_go / n_slots)
    else:
        eta = "after the first cell finishes"
    return (f"batch: {n_done}/{len(cells)} done, {len(running)} running, {n_failed} failed, "
            f"{left - len(running)} waiting; elapsed {_fmt_min(elapsed_s)}, ETA {eta}")


def _executing(dask_worker) -> list[str]:
    return [str(ts.key) for ts in dask_worker.state.executing]


def _executing_keys(client) -> set[str]:
    """The keys the workers are running now (the scheduler's ``processing`` also counts the
    tasks queued on a worker behind the one it runs)."""
    try:
        return {k for keys in client.run(_executing).values() for k in keys}
    except Exception:  # noqa: BLE001 - a worker that just died: fall back to the scheduler's view
        return {str(k) for keys in client.processing().values() for k in keys}


def _write(out: Path, cells: list[_Cell], manifest, t0: float):
    rows = [cell_row(c.cell.name, c.run_dir, c.state) for c in cells]
    return write_summary(out, rows, f"manifest {manifest}; {len(cells)} cells; "
                                    f"written {time.strftime('%Y-%m-%d %H:%M:%S')}")
