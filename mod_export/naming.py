"""Valid, collision-proof NMODL / hoc identifiers for an export.

NEURON refuses a second library that defines an already loaded mechanism name, and hoc
templates share one global namespace, so every name carries a content hash: two different
exports never collide, the same export always gets the same names.
"""

from __future__ import annotations

import hashlib
import re

# Words NMODL or hoc treat specially: a name must neither equal nor start a clash with them.
RESERVED = frozenset(
    """
    sigmoid step threshold ramp pulse exp log log10 sin cos tan sinh cosh tanh sqrt fabs
    pow first last table depend from to with if else while for local global range pointer
    suffix point_process artificial_cell useion read write valence nonspecific_current
    electrode_current section create begintemplate endtemplate public external objref
    object strdef proc func iterator return break continue stop print double forall
    ifsec forsec insert uninsert access connect setpointer v t dt celsius secondorder
    """.split()
)

_CELL_PART_MAX = 24


def content_hash(*parts: str | bytes, n_hex: int = 8) -> str:
    """First ``n_hex`` hex digits of the SHA-256 of ``parts`` (separated, so order matters)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()[:n_hex]


def sanitize_identifier(text: str, fallback: str = "cell", max_len: int = _CELL_PART_MAX) -> str:
    """``text`` reduced to ``[A-Za-z0-9_]``, starting with a letter, at most ``max_len`` chars."""
    ident = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    ident = re.sub(r"_+", "_", ident)[:max_len].rstrip("_")
    if not ident or not ident[0].isalpha():
        ident = f"{fallback}_{ident}".rstrip("_") if ident else fallback
    if ident.lower() in RESERVED:
        ident = f"{ident}_{fallback}"
    return ident


def mechanism_name(cell_name: str, digest: str) -> str:
    """``ax_<cell>_<hash>``: the POINT_PROCESS name of the learned axial current."""
    return f"ax_{sanitize_identifier(cell_name)}_{digest}"


def template_name(cell_name: str, digest: str) -> str:
    """``Reduced_<cell>_<hash>``: the hoc template name of the reduced cell."""
    return f"Reduced_{sanitize_identifier(cell_name)}_{digest}"


def comment_safe(text: str, max_len: int = 60) -> str:
    """``text`` fit for a one-line hoc / NMODL comment or TITLE (no newlines or odd bytes)."""
    return re.sub(r"[^\w.\-\[\], ]", "_", str(text))[:max_len]
