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
