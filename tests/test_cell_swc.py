"""SWC: strict validation with file:line messages, and the odd layouts Import3d must handle."""

from __future__ import annotations

from pathlib import Path

import pytest

from reducer.cell import load_cell_spec, validate_swc
from reducer.errors import CellLoadError
from reducer.isolated import run_isolated

DATA = Path(__file__).parent / "data" / "cells"
SWC = DATA / "swc"
GOOD = "# header\n1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n3 3 0 20 0 1 2\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.swc"
    path.write_text(text)
    return path


def test_good_text_parses(tmp_path):
    samples = validate_swc(_write(tmp_path, GOOD + "\n# trailing comment\n"))
    assert [(s.id, s.type, s.parent, s.line) for s in samples] == [
        (1, 1, -1, 2), (2, 3, 1, 3), (3, 3, 2, 4)]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (GOOD + "4 3 0 30 0 1\n", r"bad\.swc:5: expected 7 columns .* found 6"),
        (GOOD + "4 3 0 30 0 1 3 7\n", r"bad\.swc:5: expected 7 columns .* found 8"),
        (GOOD + "4 3 0 thirty 0 1 3\n", r"bad\.swc:5: y 'thirty' is not a number"),
        (GOOD + "4 3 0 30 0 1 2.5\n", r"bad\.swc:5: parent id '2.5' must be an integer"),
        (GOOD + "4 3 0 30 0 1 9\n", r"bad\.swc:5: sample 4 has parent 9, which is not defined"),
        (GOOD + "3 3 0 30 0 1 2\n", r"bad\.swc:5: sample id 3 is defined twice \(first on line 4"),
        (GOOD + "4 3 0 30 0 0 3\n", r"bad\.swc:5: sample 4 has radius 0.0"),
        (GOOD + "4 3 0 30 0 nan 3\n", r"bad\.swc:5: radius 'nan' is not finite"),
        (GOOD + "4 3 0 30 0 1 -1\n", r"bad\.swc:5: sample 4 is a second root"),
        ("# only comments\n\n", r"bad\.swc: no samples"),
        ("1 3 0 0 0 1 -1\n2 3 0 5 0 1 1\n", r"bad\.swc: no soma samples \(type 1"),
    ],
)
def test_malformed_swc_names_file_and_line(tmp_path, text, pattern):
    with pytest.raises(CellLoadError, match=pattern):
        validate_swc(_write(tmp_path, text))


def test_odd_files_that_cannot_be_a_cell():
    with pytest.raises(CellLoadError, match=r"morph_multiple_roots\.swc:7: sample 3 is a second"):
        validate_swc(SWC / "morph_multiple_roots.swc")
    for name in ("morph_single_branch.swc", "morph_non_somatic_branchpoint.swc"):
        with pytest.raises(CellLoadError, match=rf"{name}: no soma samples"):
            load_cell_spec(SWC / name, biophysics=DATA / "hh_pas.json")


def test_odd_layouts_build(tmp_path):
    names = ["morph_minimal", "morph_interrupted_soma", "morph_soma_both_ends",
             "morph_somatic_branchpoint"]
    specs = [load_cell_spec(SWC / f"{n}.swc", biophysics=DATA / "hh_pas.json") for n in names]
    got = {n: s for n, s in zip(names, run_isolated(
        "tests.cell_workers:many_summaries", specs=specs), strict=True)}

    def children(name):
        return sorted((c.split(".")[-1], s.split(".")[-1], x)
                      for c, s, x in got[name]["soma_children"])

    # two soma samples → one soma section; dendrites at both its ends, apicals too
    assert got["morph_minimal"]["n_sections"] == 4
    assert children("morph_minimal") == [
        ("apic[0]", "soma[0]", 1.0), ("apic[1]", "soma[0]", 0.0), ("dend[0]", "soma[0]", 1.0)]
    # soma samples on both sides of the root → two soma sections, both in cell.soma
    assert len(got["morph_interrupted_soma"]["soma_sections"]) == 2
    assert children("morph_interrupted_soma") == [("dend[0]", "soma[0]", 1.0)]
    assert children("morph_soma_both_ends") == [
        ("dend[0]", "soma[0]", 1.0), ("dend[1]", "soma[0]", 0.0)]
    assert len(got["morph_somatic_branchpoint"]["soma_sections"]) == 2
    assert children("morph_somatic_branchpoint") == [
        ("axon[0]", "soma[0]", 0.0), ("dend[0]", "soma[0]", 1.0)]
    for info in got.values():
        assert info["soma_area_um2"] > 0


def test_multi_point_soma_ca1():
    spec = load_cell_spec(SWC / "morph_ca1_n120.swc", biophysics=DATA / "hh_pas.json")
    info = run_isolated("tests.cell_workers:cell_summary", spec=spec)
    assert [s.split(".")[-1] for s in info["soma_sections"]] == ["soma[0]", "soma[1]"]
    assert info["n_sections"] == 156
    # group order all → soma → dend → apic: later groups override earlier ones
    for name, sec in info["sections"].items():
        if ".soma[" in name:
            assert sec["mechs"] == ["hh", "pas"] and sec["cm"] == 1.5 and sec["Ra"] == 150.0
        elif ".apic[" in name:
            assert sec["mechs"] == ["pas"] and sec["Ra"] == 120.0
        else:
            assert sec["mechs"] == ["pas"] and sec["Ra"] == 150.0 and sec["cm"] == 1.0
    # the soma voltage is read in the soma section most stems attach to
    stems = {}
    for _, soma, _ in info["soma_children"]:
        stems[soma] = stems.get(soma, 0) + 1
    assert info["soma_seg"] == max(stems, key=stems.get) + "(0.5)"
    balance = run_isolated("tests.cell_workers:axial_balance", spec=spec, amp_nA=0.3)
    assert balance["max_abs_axial_nA"] > 0.05 and balance["max_abs_diff_nA"] < 1e-11


def test_swc_cell_twice_in_one_process():
    spec = load_cell_spec(SWC / "morph_minimal.swc", biophysics=DATA / "hh_pas.json")
    first, second = run_isolated("tests.cell_workers:build_twice", spec=spec)
    assert first["n_sections"] == second["n_sections"] == 4
    assert first["soma_sections"] == ["morph_minimal.soma[0]"]
    assert second["soma_sections"] == ["morph_minimal_1.soma[0]"]
    assert len(first["soma_children"]) == len(second["soma_children"]) == 3
