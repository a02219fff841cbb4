"""What a Dask worker runs: one stage group of one cell, as a ``reduce-cell`` process.

A cell's work runs in a process of its own (NEURON cannot unload mechanisms, and a template may
delete every section), started by the worker and tied to it: if the worker dies, the process
group it started is killed too, and the next try resumes from the stages the run folder holds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The env variable that asks reduce-cell to take its whole process group down on SIGTERM.
KILL_GROUP_ENV = "REDUCE_CELL_KILL_GROUP_ON_TERM"

# The task groups of one cell: NEURON simulations, JAX training, then export, validation
# (NEURON) and report. Splitting them lets a GPU worker (a Dask resource) take the training.
TASKS = (("simulate", "targets"), ("train", "train"), ("finish", None))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the worker dies
    except OSError:
        pass  # not Linux: a dead worker leaves the process to finish on its own


def run_cell_task(name: str, argv: list[str], cwd: str, out_dir: str, log_path: str,
                  task: str, stop_after: str | None, upstream: dict | None = None
                  ) -> dict[str, Any]:
    """Run ``reduce-cell ARGV --out OUT_DIR [--stop-after STOP_AFTER]`` in ``cwd``.

    Args:
        upstream: the result of this cell's previous task (Dask passes it; a failed one makes
            this task a no-op that reports the same failure).

    Returns:
        {"name", "task", "ok", "seconds", "error", "log"}; ``error`` is reduce-cell's own
        one-line message (the last line starting with "reduce-cell:" in the log).
    """
    if upstream is not None and not upstream["ok"]:
        return {**upstream, "task": task, "seconds": 0.0}
    cmd = [sys.executable, "-m", "reducer.cli", *argv, "--out", out_dir]
    if stop_after:
        cmd += ["--stop-after", stop_after]
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, NEURON_MODULE_OPTIONS="-nogui", PYTHONUNBUFFERED="1",
               **{KILL_GROUP_ENV: "1"})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log_path, "a") as log:
        log.write(f"\n### {time.strftime('%Y-%m-%d %H:%M:%S')} task {task}: {' '.join(cmd)}\n")
        log.flush()
        rc = subprocess.call(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    seconds = time.perf_counter() - t0
    error = None
    if rc != 0:
        error = last_message(Path(log_path)) or f"reduce-cell exited with status {rc}"
    return {"name": name, "task": task, "ok": rc == 0, "seconds": seconds, "error": error,
            "log": log_path}


def last_message(log_path: Path) -> str | None:
    """The last line reduce-cell wrote for the user ("reduce-cell: error: ...")."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("reduce-cell:"):
            msg = line[len("reduce-cell:"):].strip()
            return msg[len("error:"):].strip() if msg.startswith("error:") else msg
    return None


def install_group_kill() -> None:
    """In a reduce-cell started by a batch task: SIGTERM (the worker died) kills the whole
    process group, so the NEURON processes it started do not run on as orphans."""
    if os.environ.get(KILL_GROUP_ENV) != "1" or os.getpgid(0) != os.getpid():
        return

    def _kill_group(signum, frame):  # noqa: ARG001
        os.killpg(0, signal.SIGKILL)

    signal.signal(signal.SIGTERM, _kill_group)
