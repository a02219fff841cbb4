"""``export_reduced_cell``: trained model + soma description -> a loadable NEURON export.

Layout of ``out_dir`` (paths in export.json are relative to it)::

    export.json                 what a script needs: hoc_file, template, mechanisms_dir, ...
    <Template>.hoc              hoc template: soma + its mechanisms + POINT_PROCESS 'axial'
    build_reduced_cell.py       standalone Python loader (needs only NEURON)
    mechanisms/<mech>.mod       the learned axial current
    mechanisms/<name>.mod       copies of the soma's own mechanisms (built-ins need none)
    mechanisms/x86_64/          compiled by nrnivmodl

export.json is written last and removed first, so its presence marks a complete export.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mod_export.axial_mod import TableSpec, check_nmodl_syntax, render_axial_mod
from mod_export.compile import CORENEURON_LIB, compile_mechanisms
from mod_export.fileio import atomic_copy, atomic_write_text
from mod_export.mod_info import ModInfo, read_mod_info
from mod_export.naming import content_hash, template_name
from mod_export.soma import parse_soma_description
from mod_export.template_hoc import render_template
from reducer.errors import ExportError
from reducer.hybrid.axial import GatedAxialCurrent

EXPORT_JSON = "export.json"
MECHANISMS_DIR = "mechanisms"
BUILDER_FILE = "build_reduced_cell.py"
_TEMPLATE_PLACEHOLDER = "@TEMPLATE@"


@dataclass(frozen=True)
class ExportResult:
    """Where an export's pieces are (absolute paths) and what export.json says.

    Attributes:
        out_dir: the export folder.
        export_json: path of export.json.
        hoc_file: path of the hoc template file.
        template: hoc template name (``h.<template>()`` makes a cell).
        mechanisms_dir: folder with the .mod files and the compiled library.
        mechanism: POINT_PROCESS name of the learned axial current.
        mod_file: path of the axial current's .mod file.
        compiled: whether nrnivmodl was run (and the smoke test passed, if requested).
        info: the content of export.json.
    """

    out_dir: Path
    export_json: Path
    hoc_file: Path
    template: str
    mechanisms_dir: Path
    mechanism: str
    mod_file: Path
    compiled: bool
    info: dict[str, Any]

    @property
    def soma_section(self) -> str:
        """Attribute of a cell holding its soma section."""
        return self.info["soma_section"]

    @property
    def point_process(self) -> str:
        """Attribute of a cell holding its axial-current point process."""
        return self.info["point_process"]


def _mod_infos(spec) -> dict[str, ModInfo]:
    infos = {}
    for mech in spec.mechanisms:
        if mech.mod_file is None:
            continue
        info = read_mod_info(mech.mod_file)
        if info.name != mech.name:
            raise ExportError(
                f"soma mechanism '{mech.name}': its mod file {mech.mod_file} defines "
                f"'{info.name}' instead; fix 'mod_file' in the soma description"
            )
        infos[mech.name] = info
    return infos


def _clear_previous(out_dir: Path, keep_mods: set[str]) -> None:
    """Remove what an earlier export into ``out_dir`` left that this one does not rewrite."""
    old_json = out_dir / EXPORT_JSON
    if old_json.is_file():
        try:
            old_hoc = json.loads(old_json.read_text()).get("hoc_file")
        except (json.JSONDecodeError, AttributeError):
            old_hoc = None
        old_json.unlink()
        if isinstance(old_hoc, str) and "/" not in old_hoc and old_hoc.endswith(".hoc"):
            (out_dir / old_hoc).unlink(missing_ok=True)
    mech_dir = out_dir / MECHANISMS_DIR
    for mod in mech_dir.glob("*.mod"):
        if mod.name not in keep_mods:
            mod.unlink()
    for arch in ("x86_64", "aarch64", "arm64"):
        shutil.rmtree(mech_dir / arch, ignore_errors=True)


def export_reduced_cell(
    model: GatedAxialCurrent,
    soma_description: dict[str, Any],
    out_dir: str | Path,
    cell_name: str = "cell",
    *,
    v_init_mV: float,
    dt_ms: float = 0.025,
    use_table: bool = False,
    compile: bool = True,
    table: TableSpec | None = None,
    verify: bool = True,
    coreneuron: bool = False,
) -> ExportResult:
    """Write the reduced cell for NEURON into ``out_dir`` and (by default) compile and test it.

    Args:
        model: the trained axial current.
        soma_description: the soma's geometry, mechanisms and ions
            (``reducer.nmodl2jax.describe_soma`` format, see :mod:`mod_export.soma`).
        out_dir: export folder (created; an earlier export there is replaced cleanly).
        cell_name: name of the original cell (goes into mechanism and template names).
        v_init_mV: initial voltage of the original simulations (recorded in export.json).
        dt_ms: time step the model was trained with (recorded in export.json).
        use_table: tabulate z_inf and tau with an NMODL TABLE (faster, interpolation error).
        compile: run nrnivmodl in ``out_dir/mechanisms``.
        table: range / resolution of the table (default :class:`TableSpec`).
        verify: after compiling, load the export in a fresh NEURON process, make two cells
            and simulate 1 ms (catches hoc errors such as a mechanism missing from NEURON);
            with ``coreneuron`` also in CoreNEURON, which must give the same voltages.
        coreneuron: compile with ``nrnivmodl -coreneuron`` so the cell also runs in
            CoreNEURON; export.json's ``coreneuron_lib`` names the library
            (``CORENEURONLIB``), otherwise it is null.

    Returns:
        The :class:`ExportResult`.

    Raises:
        ExportError: NaN weights, bad soma description, missing soma mod file, generated
            text that does not parse, a compile failure (file + nocmodl's message) or a
            failed smoke test.
    """
    from reducer import __version__

    spec = parse_soma_description(soma_description)
    mod_infos = _mod_infos(spec)
    mechanism, mod_text = render_axial_mod(model, cell_name, use_table=use_table, table=table)
    check_nmodl_syntax(mod_text, f"mechanism {mechanism}")
    hoc_body = render_template(spec, _TEMPLATE_PLACEHOLDER, mechanism, cell_name, mod_infos,
                               v_init_mV=v_init_mV, dt_ms=dt_ms)
    template = template_name(cell_name, content_hash(mod_text, hoc_body))
    hoc_text = hoc_body.replace(_TEMPLATE_PLACEHOLDER, template)

    out_dir = Path(out_dir).resolve()
    mech_dir = out_dir / MECHANISMS_DIR
    soma_mods = {f"{m.name}.mod": m.mod_file for m in spec.mechanisms if m.mod_file is not None}
    axial_mod = f"{mechanism}.mod"
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir, {axial_mod, *soma_mods})
    for name, src in soma_mods.items():
        atomic_copy(src, mech_dir / name)
    mod_path = atomic_write_text(mech_dir / axial_mod, mod_text)
    hoc_path = atomic_write_text(out_dir / f"{template}.hoc", hoc_text)
    atomic_copy(Path(__file__).with_name("loader.py"), out_dir / BUILDER_FILE)

    info: dict[str, Any] = {
        "hoc_file": hoc_path.name,
        "template": template,
        "mechanisms_dir": MECHANISMS_DIR,
        "soma_section": "soma",
        "point_process": "axial",
        "mechanism": mechanism,
        "mod_file": f"{MECHANISMS_DIR}/{axial_mod}",
        "soma_mechanisms": [m.name for m in spec.mechanisms],
        "soma_area_um2": spec.area_um2,
        "celsius_degC": spec.celsius_degC,
        "v_init_mV": float(v_init_mV),
        "dt_ms": float(dt_ms),
        "n_states": model.n_states,
        "n_hidden": model.n_hidden,
        "use_table": bool(use_table),
        "table": None,
        "coreneuron_lib": None,
        "builder": BUILDER_FILE,
        "cell_name": cell_name,
        "created_by": f"reduce-cell {__version__}",
    }
    if use_table:
        spec_t = table or TableSpec()
        info["table"] = {"vmin_mV": spec_t.vmin_mV, "vmax_mV": spec_t.vmax_mV,
                         "n_intervals": spec_t.n_intervals}
    if compile:
        arch_dir = compile_mechanisms(mech_dir, coreneuron=coreneuron)
        if coreneuron:
            info["coreneuron_lib"] = (arch_dir / CORENEURON_LIB).relative_to(out_dir).as_posix()
        if verify:
            from reducer.isolated import run_isolated

            run_isolated("mod_export.verify:smoke_test", timeout_s=300,
                         folder=str(out_dir), info=info)
    json_path = atomic_write_text(out_dir / EXPORT_JSON, json.dumps(info, indent=2) + "\n")
    return ExportResult(out_dir, json_path, hoc_path, template, mech_dir, mechanism, mod_path,
                        bool(compile), info)
