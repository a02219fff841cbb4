"""Untranslatable .mod constructs fail early with one message naming file, line, construct.

Each file in ``tests/mod_unsupported`` starts with ``: expect: <line> <construct>``.
``build_membrane`` must raise :class:`NmodlTranslationError` whose message contains the
file's path, ``:<line>`` and the construct.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reducer.errors import NmodlTranslationError
from reducer.nmodl2jax import build_membrane

CASES = sorted((Path(__file__).resolve().parent / "mod_unsupported").glob("*.mod"))


def _expectation(path: Path) -> tuple[int, str]:
    m = re.match(r":\s*expect:\s*(\d+)\s+(.+)", path.read_text().splitlines()[0])
    assert m, f"{path} lacks its ': expect: <line> <construct>' header"
    return int(m.group(1)), m.group(2).strip()


def _desc(path: Path) -> dict:
    return {"area_um2": 100.0, "celsius_degC": 6.3, "cm_uF_per_cm2": 1.0,
            "mechanisms": [{"name": path.stem, "mod_file": str(path), "range": {},
                            "global": {}}],
            "ions": {}, "ion_styles": {}}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_unsupported_construct_is_named(path: Path) -> None:
    line, construct = _expectation(path)
    with pytest.raises(NmodlTranslationError) as info:
        build_membrane(_desc(path))
    message = str(info.value)
    assert str(path) in message
    assert f":{line}:" in message
    assert construct in message
    assert "\n" not in message.strip()


def test_unknown_builtin_mechanism_is_named() -> None:
    desc = _desc(CASES[0])
    desc["mechanisms"] = [{"name": "fastpas", "mod_file": None}]
    with pytest.raises(NmodlTranslationError, match="fastpas"):
        build_membrane(desc)
