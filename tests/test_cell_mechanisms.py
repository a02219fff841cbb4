"""nrnivmodl with a content-hash cache: reuse, invalidation, errors, concurrency, clashes."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reducer.cell import compile_mechanisms, load_cell_spec, mechanism_names
from reducer.cell.mechanisms import library_path
from reducer.errors import MechanismError
from reducer.isolated import run_isolated

ROOT = Path(__file__).resolve().parent.parent
LEAK = ROOT / "models" / "ca1_n120" / "mechanisms" / "leak_p08.mod"

BAD_MOD = """NEURON {
    SUFFIX broken_leak
    NONSPECIFIC_CURRENT i
    RANGE g
}
PARAMETER { g = 0.001 (S/cm2) }
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT {
    i = g * (v -
}
"""


def test_mechanism_names_ignore_comments(tmp_path):
    mod = tmp_path / "a.mod"
    mod.write_text(
        "COMMENT\nSUFFIX fake\nENDCOMMENT\nNEURON {\n  : SUFFIX other\n  POINT_PROCESS Syn1\n}\n"
    )
    assert mechanism_names([mod, LEAK]) == ({"leak_p08"}, {"Syn1"})


def test_compile_once_then_reuse(tmp_path):
    cache = tmp_path / "cache"
    folder = compile_mechanisms([LEAK], cache_dir=cache)
    lib = library_path(folder)
    assert folder.parent == cache and lib is not None
    assert lib.parent.name == platform.machine() or lib.parent.parent.name == platform.machine()
    assert (folder / "leak_p08.mod").read_text() == LEAK.read_text()
    mtime = lib.stat().st_mtime_ns
    start = time.perf_counter()
    assert compile_mechanisms(LEAK, cache_dir=cache) == folder  # a single file works too
    assert time.perf_counter() - start < 1.0 and lib.stat().st_mtime_ns == mtime
    assert not [p for p in cache.iterdir() if p.name.startswith(".build")]

    edited = tmp_path / "src" / "leak_p08.mod"
    edited.parent.mkdir()
    edited.write_text(LEAK.read_text().replace("g = 1e-4", "g = 2e-4"))
    assert edited.read_text() != LEAK.read_text()
    assert compile_mechanisms(edited.parent, cache_dir=cache) != folder


def test_cache_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("REDUCE_CELL_CACHE", str(tmp_path / "env-cache"))
    from reducer.cell import cache_root

    assert cache_root() == tmp_path / "env-cache" / "mechanisms"


def test_compile_error_names_the_file_and_line(tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    shutil.copy(LEAK, mods)
    (mods / "broken_leak.mod").write_text(BAD_MOD)
    with pytest.raises(MechanismError) as err:
        compile_mechanisms(mods, cache_dir=tmp_path / "cache")
    msg = str(err.value)
    assert f"failed to compile {mods / 'broken_leak.mod'}" in msg
    assert "line 10" in msg and "broken_leak.mod" in msg
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_concurrent_compiles_of_the_same_files(tmp_path):
    mod = tmp_path / "src" / "leak_twin.mod"
    mod.parent.mkdir()
    mod.write_text(LEAK.read_text().replace("SUFFIX leak_p08", "SUFFIX leak_twin"))
    code = (
        "import sys; from reducer.cell import compile_mechanisms; "
        "print(compile_mechanisms(sys.argv[1], cache_dir=sys.argv[2])); "
        "assert 'neuron' not in sys.modules  # compiling leaves this process NEURON-free"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(mod.parent), str(tmp_path / "cache")],
            stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs[0] == outs[1] and library_path(Path(outs[0])) is not None
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [Path(outs[0]).name]


def test_mechanism_shadowing_a_builtin_is_refused(tmp_path):
    folder = tmp_path / "cell"
    (folder / "mechanisms").mkdir(parents=True)
    (folder / "mechanisms" / "my_pas.mod").write_text(
        LEAK.read_text().replace("SUFFIX leak_p08", "SUFFIX pas"))
    shutil.copy(ROOT / "models" / "ball_and_stick" / "ball_and_stick.hoc", folder / "c.hoc")
    spec = load_cell_spec(folder / "c.hoc")
    with pytest.raises(MechanismError, match=r"my_pas\.mod defines mechanism 'pas', which is "
                       "built into NEURON"):
        run_isolated("tests.cell_workers:cell_summary", spec=spec)
