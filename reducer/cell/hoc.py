"""Run users' hoc code (plain cell files, template files, template constructors) with clear errors.

NEURON reports hoc errors on the C-level stderr and Python only sees ``RuntimeError: hoc
error`` (or ``load_file`` returning 0). So stderr is captured at the file-descriptor level
while hoc runs, and on failure its ``NEURON: ...`` lines (message, file, line) become one
:class:`CellLoadError` — or :class:`MechanismError` when the problem is an unknown mechanism.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reducer.errors import CellLoadError, MechanismError

_MISSING_MECH = re.compile(
    r"(\w+) is not a MECHANISM|argument not a density mechanism name|not a point process"
)


class _Captured:
    text: str = ""


@contextlib.contextmanager
def capture_stderr() -> Iterator[_Captured]:
    """Capture everything written to file descriptor 2 (C and Python) inside the block."""
    captured = _Captured()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            captured.text = tmp.read().decode(errors="replace")


def _neuron_message(stderr_text: str) -> str:
    """The informative part of NEURON's error output (first error with its location)."""
    lines = [ln.rstrip() for ln in stderr_text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if "DISPLAY" not in ln and "No graphics" not in ln]
    start = next((i for i, ln in enumerate(lines) if ln.startswith("NEURON:")), None)
    if start is None:
        return "\n    ".join(lines[-8:]) if lines else "(NEURON printed no message)"
    block = [lines[start]]
    for ln in lines[start + 1:start + 5]:
        if ln.startswith("NEURON:"):
            break  # the next error
        block.append(ln)
        if ln.strip() == "^":
            break  # the caret under the offending token ends the message; the stack follows
    return "\n    ".join(block)


def _raise_hoc_error(subject: str, action: str, stderr_text: str,
                     mechanisms_dir: Path | None) -> None:
    message = _neuron_message(stderr_text)
    missing = _MISSING_MECH.search(stderr_text)
    if missing:
        name = repr(missing.group(1)) if missing.group(1) else "a mechanism"
        searched = f"no .mod file in {mechanisms_dir} defines it; add its .mod file there" if (
            mechanisms_dir) else ("no mechanisms folder is set: put its .mod file in a "
                                  "'mechanisms' folder beside the cell or name the folder with "
                                  "'mechanisms' in cell.json")
        raise MechanismError(
            f"{subject} uses mechanism {name}, which is not built into NEURON, and {searched}."
            f"\n    {message}"
        )
    raise CellLoadError(f"{action} {subject} failed with a hoc error:\n    {message}")


def load_hoc_file(h: Any, path: Path, mechanisms_dir: Path | None = None) -> None:
    """``load_file`` a hoc file; any hoc error → one message naming file, line and cause."""
    with capture_stderr() as cap:
        try:
            ok = h.load_file(str(path))
            error = not ok
        except RuntimeError:
            error = True
    if error:
        _raise_hoc_error(str(path), "loading", cap.text, mechanisms_dir)
    _echo(cap.text)


def instantiate_template(
    h: Any, name: str, args: tuple[Any, ...], load_files: tuple[Path, ...],
    mechanisms_dir: Path | None = None,
) -> Any:
    """Create one instance of hoc template ``name`` with constructor ``args``."""
    kind = int(h.name_declared(name))
    if kind != 1:
        loaded = ", ".join(str(f) for f in load_files)
        if kind == 0:
            raise CellLoadError(
                f"template {name!r} is not defined after loading {loaded}; check the name in "
                "'template' (hoc names are case-sensitive) and that 'load_files' includes the "
                "file with 'begintemplate " + name + "'"
            )
        raise CellLoadError(f"{name!r} (after loading {loaded}) is a hoc name but not a template")
    template = getattr(h, name)
    call = f"{name}({', '.join(repr(a) for a in args)})"
    with capture_stderr() as cap:
        try:
            cell = template(*args)
            error = False
        except RuntimeError:
            error = True
    if error:
        _raise_hoc_error(f"the cell {call}", "creating", cap.text, mechanisms_dir)
    _echo(cap.text)
    return cell


def _echo(text: str) -> None:
    # Warnings printed while loading are still the user's business: pass them on.
    if text.strip():
        sys.stderr.write(text)
        sys.stderr.flush()
