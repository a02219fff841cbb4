"""Where things are in a .mod file: comment-stripped text and line lookup for error messages.

``neuron.nmodl``'s Python AST does not expose token positions, so lines are found by
searching the source text with comments blanked out (``:`` and ``?`` line comments,
``COMMENT ... ENDCOMMENT`` blocks). Blanking keeps line numbers unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

from reducer.errors import NmodlTranslationError


class ModSource:
    """The text of one .mod file with comments blanked out, for locating constructs."""

    def __init__(self, path: Path | str, text: str) -> None:
        self.path = str(path)
        self.text = text
        self.lines = _strip_comments(text).split("\n")

    def find_line(self, pattern: str, start_line: int = 1, flags: int = 0) -> int | None:
        """First line number (1-based) at or after ``start_line`` matching regex ``pattern``."""
        rx = re.compile(pattern, flags)
        for i in range(max(start_line, 1) - 1, len(self.lines)):
            if rx.search(self.lines[i]):
                return i + 1
        return None

    def block_line(self, keyword: str, name: str | None = None) -> int | None:
        """Line of a block header such as ``DERIVATIVE states`` or ``BREAKPOINT``."""
        pat = rf"\b{keyword}\b" + (rf"\s+{re.escape(name)}\b" if name else "")
        return self.find_line(pat)

    def word_line(self, word: str, start_line: int = 1) -> int | None:
        """Line of the first whole-word occurrence of ``word`` at or after ``start_line``."""
        return self.find_line(rf"(?<![\w']){re.escape(word)}(?![\w])", start_line)

    def error(self, line: int | None, construct: str, what: str) -> NmodlTranslationError:
        """An :class:`NmodlTranslationError` naming this file, the line and the construct."""
        where = f"{self.path}:{line}" if line else self.path
        return NmodlTranslationError(f"{where}: {construct}: {what}")


def _strip_comments(text: str) -> str:
    out: list[str] = []
    in_block = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_block:
            if re.match(r"^\s*ENDCOMMENT\b", line):
                in_block = False
            out.append("")
            continue
        if re.match(r"^\s*COMMENT\b", line):
            in_block = True
            out.append("")
            continue
        if stripped.startswith("VERBATIM") or stripped.startswith("ENDVERBATIM"):
            out.append(line)
            continue
        # ':' and '?' start a comment outside strings
        cut = len(line)
        in_str = False
        for j, ch in enumerate(line):
            if ch == '"':
                in_str = not in_str
            elif ch in ":?" and not in_str:
                cut = j
                break
        out.append(line[:cut])
    return "\n".join(out)
