"""User-facing errors.

Every problem a user can fix (bad input file, missing mechanism, unsupported NMODL
construct, diverging training run ...) is raised as a :class:`ReduceCellError` whose
message names the file / line / construct and says what to do. The CLI prints that
one message instead of a traceback.
"""

from __future__ import annotations


class ReduceCellError(Exception):
    """Base class of all errors whose message is meant for the user."""


class CellLoadError(ReduceCellError):
    """The cell (hoc, hoc template, SWC, biophysics) could not be loaded."""


class MechanismError(ReduceCellError):
    """A .mod file failed to compile, or a mechanism the cell uses is missing."""


class NmodlTranslationError(ReduceCellError):
    """A .mod construct cannot be translated to JAX."""


class TrainingError(ReduceCellError):
    """Training diverged (NaN/inf) or could not proceed."""


class ExportError(ReduceCellError):
    """The trained model could not be exported or compiled as NMODL."""


def report_internal_error(exc: BaseException, prog: str = "reduce-cell") -> int:
    """Print one line for an unexpected exception, the traceback kept in a file; return 3.

    Called from an ``except Exception`` around a command's work, so the user sees one message
    that says it is our bug (not their files) and where the traceback is.
    """
    import sys
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="reduce-cell-error-", suffix=".txt",
                                     delete=False) as tb:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=tb)
    first = (str(exc).strip().splitlines() or [""])[0]
    print(f"{prog}: internal error: {type(exc).__name__}: {first} (a bug in reduce-cell, not in "
          f"your files; the traceback is in {tb.name}: please report it with the command you "
          "ran)", file=sys.stderr)
    return 3
