"""``reduce-cell batch``: the manifest check, a real batch on a LocalCluster, a killed worker.

The batch tests run real reductions (ball-and-stick, a tiny training budget) as Dask tasks,
each a ``reduce-cell`` process, so they take a few minutes together.
"""

from __future__ import annotations

import csv
import os
import signal
import textwrap
import threading
import time
from pathlib import Path

import pytest

from reducer.batch import ManifestError, load_manifest, run_batch

# The smallest run that goes through every stage (as the end-to-end test's budget).
TINY = {"protocols": "small", "open-loop-steps": 30, "epochs": 1, "steps-per-epoch": 3,
        "timing-repeats": 1, "starts": 1}

NO_SOMA_HOC = "create dend\ndend { L = 200 diam = 2 insert pas }\n"


def _manifest(tmp: Path, cells: list[dict], name: str = "cells.yaml") -> Path:
    import yaml

    path = tmp / name
    path.write_text(yaml.safe_dump({"defaults": TINY, "cells": cells}, sort_keys=False))
    return path


def _rows(csv_path: Path) -> dict[str, dict[str, str]]:
    with open(csv_path, newline="") as f:
        return {r["cell"]: r for r in csv.DictReader(f)}


# --- manifest ------------------------------------------------------------------------------

def test_manifest_yaml_options_become_reduce_cell_argv(tmp_path):
    (tmp_path / "c.hoc").write_text("create soma\n")
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent("""\
        defaults:
          protocols: small
          seed: 3
        cells:
          - name: one
            cell: c.hoc
            template-arg: [a.asc, 2]
            load_file: b.hoc
            keep-stimuli: true
          - cell: ball_and_stick
            seed: 4
            use-table: false
        """))
    one, two = load_manifest(path)
    assert one.name == "one" and one.line == 5 and one.cwd == tmp_path.resolve()
    assert one.argv == ("c.hoc", "--protocols", "small", "--seed", "3", "--template-arg",
                        "a.asc", "--template-arg", "2", "--load-file", "b.hoc",
                        "--keep-stimuli")
    assert two.name == "ball_and_stick"
    assert two.argv == ("ball_and_stick", "--protocols", "small", "--seed", "4")


@pytest.mark.parametrize("body, line, words", [
    ("cells:\n  - cell: a.hoc\n    sead: 3\n", 3, "unknown option 'sead'"),
    ("cells:\n  - cell: a.hoc\n  - name: x\n    seed: 1\n", 3, "has no 'cell'"),
    ("cells:\n  - cell: a.hoc\n  - cell: b/a.hoc\n", 3, "already used on line 2"),
    ("cells:\n  - cell: a.hoc\n    protocols: huge\n", 2, "invalid choice: 'huge'"),
    ("cells:\n  - cell: a.hoc\n    seed: three\n", 2, "invalid int value"),
    ("cells:\n  - cell: a.hoc\n    out: elsewhere\n", 3, "cannot be set in a manifest"),
    ("cells:\n  - cell: a.hoc\n    keep-stimuli: maybe\n", 3, "is a flag"),
    ("defaults: {seed: 1}\ncell:\n  - cell: a.hoc\n", 1, "'cells' list"),
    ("cells:\n  - cell: a.hoc\n   seed: 1\n", 3, "not valid YAML"),
    ("cells:\n  - cell: a.hoc\n    name: 'a b'\n", 3, "becomes a folder name"),
])
def test_manifest_errors_name_the_line(tmp_path, body, line, words):
    path = tmp_path / "m.yaml"
    path.write_text(body)
    with pytest.raises(ManifestError) as exc:
        load_manifest(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:{line}:"), msg
    assert words in msg, msg


def test_manifest_csv(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("name,cell,template-arg,seed\n"
                    "a,x.hoc,m.asc;2,1\n"
                    "b,ball_and_stick,,\n"
                    "c,ball_and_stick,,many\n")
    with pytest.raises(ManifestError, match=r"m\.csv:4: cell 'c': .*invalid int value"):
        load_manifest(path)
    path.write_text("name,cell,template-arg,seed\na,x.hoc,m.asc;2,1\nb,ball_and_stick,,\n")
    a, b = load_manifest(path)
    assert a.argv == ("x.hoc", "--template-arg", "m.asc", "--template-arg", "2", "--seed", "1")
    assert b.argv == ("ball_and_stick",) and b.line == 3


def test_batch_cli_reports_a_bad_manifest_in_one_line(tmp_path, capsys):
    from reducer.cli import main

    path = tmp_path / "m.yaml"
    path.write_text("cells:\n  - cell: a.hoc\n    epoch: 2\n")
    assert main(["batch", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"reduce-cell batch: error: {path}:3:"), err


# --- real batches -------------------------------------------------------------------------

def test_batch_of_two_cells_one_failing_then_rerun(tmp_path):
    (tmp_path / "nosoma.hoc").write_text(NO_SOMA_HOC)
    manifest = _manifest(tmp_path, [{"name": "bas", "cell": "ball_and_stick"},
                                    {"name": "nosoma", "cell": "nosoma.hoc"}])
    out = tmp_path / "out"
    res = run_batch(manifest, out, n_workers=2, status_interval_s=10)
    assert res.failed == ["nosoma"]
    rows = _rows(out / "summary.csv")
    assert rows["bas"]["status"] == "done" and rows["nosoma"]["status"] == "failed"
    assert float(rows["bas"]["gamma_4ms"]) > 0.5 and float(rows["bas"]["speedup"]) > 0
    assert rows["bas"]["report"] == "bas/report.html" and (out / "bas/report.html").is_file()
    assert "no identifiable soma" in rows["nosoma"]["error"] and "nosoma.hoc" in \
        rows["nosoma"]["error"]
    assert rows["nosoma"]["gamma_4ms"] == ""
    html = (out / "index.html").read_text()
    assert 'href="bas/report.html"' in html and 'href="logs/nosoma.log"' in html
    metrics_mtime = (out / "bas/metrics.json").stat().st_mtime_ns

    # Rerun: the finished cell is not touched, the failing one is tried again and fails again.
    res2 = run_batch(manifest, out, n_workers=2, status_interval_s=10)
    assert res2.failed == ["nosoma"]
    assert (out / "bas/metrics.json").stat().st_mtime_ns == metrics_mtime
    assert _rows(out / "summary.csv")["bas"]["status"] == "done"


def _reduce_cell_pids(run_dir: Path) -> list[int]:
    """The running reduce-cell processes (and their NEURON workers) writing into run_dir."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(run_dir).encode() in cmd:
            pids.append(int(p.name))
    return pids


def test_killed_worker_loses_nothing_and_rerun_finishes_the_rest(tmp_path):
    """Kill the worker that runs a cell's training: that cell fails (the others go on), its
    NEURON work stays on disk, and the rerun finishes only what was not done."""
    import dask
    from distributed import Client, LocalCluster

    manifest = _manifest(tmp_path, [{"name": "bas", "cell": "ball_and_stick"}])
    out = tmp_path / "out"
    # allowed-failures 0: the first lost worker fails the task (Dask's default retries 3 times).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as cluster, Client(cluster) as client:
        killed = {}

        def kill_when_training():
            deadline = time.time() + 600
            while time.time() < deadline:
                for addr, keys in client.processing().items():
                    if any(str(k).startswith("train-bas") for k in keys):
                        time.sleep(3)  # well inside the training task
                        pid = client.run(os.getpid, workers=[addr])[addr]
                        killed["pids"] = _reduce_cell_pids(out / "bas")
                        os.kill(pid, signal.SIGKILL)
                        return
                time.sleep(0.5)

        killer = threading.Thread(target=kill_when_training, daemon=True)
        killer.start()
        res = run_batch(manifest, out, scheduler=cluster.scheduler_address, status_interval_s=5)
        killer.join(timeout=10)
        assert killed.get("pids"), "the training task never ran"
        assert res.failed == ["bas"]
        row = _rows(out / "summary.csv")["bas"]
        assert row["status"] == "failed" and "KilledWorker" in row["error"]
        # The reduce-cell process the dead worker started went with it.
        time.sleep(2)
        assert not _reduce_cell_pids(out / "bas")
        targets = out / "bas/data/targets.json"
        calibration = out / "bas/calibration.json"
        before = (targets.stat().st_mtime_ns, calibration.stat().st_mtime_ns)

        res2 = run_batch(manifest, out, scheduler=cluster.scheduler_address, status_interval_s=5)
    assert res2.failed == []
    assert _rows(out / "summary.csv")["bas"]["status"] == "done"
    assert (out / "bas/metrics.json").is_file()
    # The simulations finished before the kill were not redone.
    assert (targets.stat().st_mtime_ns, calibration.stat().st_mtime_ns) == before
