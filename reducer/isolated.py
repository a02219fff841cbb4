"""Run NEURON work in a fresh Python process.

NEURON cannot unload mechanisms, refuses a second library that defines an already
loaded mechanism name, auto-loads ``./x86_64`` from the current directory, and some hoc
templates delete all sections when instantiated. Each piece of NEURON work that loads a
cell therefore runs in its own process, started in an empty working directory.

Usage::

    result = run_isolated("reducer.targets:simulate_protocols", spec=spec, protocols=p)

The function is imported by its dotted path in the child, called with the keyword
arguments (pickled), and its return value is pickled back. A :class:`ReduceCellError`
raised in the child is re-raised in the parent with the same type and message; any other
exception becomes a :class:`ReduceCellError` carrying the child's traceback text.
The child's stdout/stderr are passed through, so progress bars stay visible.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from reducer.errors import ReduceCellError


def _project_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def run_isolated(target: str, /, *, timeout_s: float | None = None, **kwargs: Any) -> Any:
    """Call ``target`` ("package.module:function") in a fresh process and return its result."""
    with tempfile.TemporaryDirectory(prefix="reduce-cell-") as tmp:
        tmp_path = Path(tmp)
        job = tmp_path / "job.pkl"
        out = tmp_path / "result.pkl"
        with open(job, "wb") as f:
            pickle.dump({"target": target, "kwargs": kwargs}, f)
        env = dict(os.environ)
        # No GUI in worker processes (also silences NEURON's "no DISPLAY" warning).
        env.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
        # The child must import this very package even when it is not installed.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in [_project_root(), env.get("PYTHONPATH", "")] if p
        )
        workdir = tmp_path / "cwd"
        workdir.mkdir()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "reducer.isolated", str(job), str(out)],
                cwd=workdir,
                env=env,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as exc:
            raise ReduceCellError(f"{target} did not finish within {timeout_s} s") from exc
        if not out.exists():
            raise ReduceCellError(
                f"{target} crashed in its NEURON process (exit code {proc.returncode}) "
                "without reporting an error; see the output above"
            )
        with open(out, "rb") as f:
            status, payload = pickle.load(f)
        if status == "ok":
            return payload
        exc_type, message, tb_text = payload
        if isinstance(exc_type, type) and issubclass(exc_type, ReduceCellError):
            raise exc_type(message)
        raise ReduceCellError(f"{target} failed: {message}\n{tb_text}")


def _resolve(target: str):
    module_name, _, func_name = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, func_name)


def _child_main(job_path: str, out_path: str) -> int:
    with open(job_path, "rb") as f:
        job = pickle.load(f)
    try:
        result = _resolve(job["target"])(**job["kwargs"])
        payload = ("ok", result)
    except BaseException as exc:  # report everything to the parent, which decides
        exc_type = type(exc) if isinstance(exc, ReduceCellError) else None
        payload = ("error", (exc_type, f"{type(exc).__name__}: {exc}"
                             if exc_type is None else str(exc), traceback.format_exc()))
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(payload, f)
    os.replace(tmp, out_path)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: NEURON's atexit handlers can be slow or noisy.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1], sys.argv[2]))
