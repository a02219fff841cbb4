"""The batch manifest: which cells to reduce, each with the options of ``reduce-cell``.

YAML::

    defaults:                 # optional: options every cell gets unless it sets its own
      protocols: small
    cells:
      - name: ca1             # optional: the cell's folder in the batch output (default: the
        cell: ca1_n120        #   file's stem); cell: a bundled model name or a path
      - name: hay
        cell: L5PC/models/L5PCtemplate.hoc
        template: L5PCtemplate
        template-arg: [L5PC/morphologies/cell1.asc]
        load-file: [L5PC/models/L5PCbiophys3.hoc]
        mechanisms: L5PC/mod
        celsius: 34

CSV: a header row ``name,cell,<option>,...`` and one row per cell; an empty field leaves the
option unset, a list (template-arg, load-file) is separated by ``;``.

Option keys are the long options of ``reduce-cell`` without the dashes (``-`` or ``_``
both work); ``true`` turns a flag on. Relative paths are read from the manifest's folder, as
if ``reduce-cell`` ran there. ``out`` and ``force`` are the batch's own business and are
refused, as is any key ``reduce-cell`` does not know.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reducer.arguments import REPEATABLE
from reducer.errors import ReduceCellError

# Options a manifest may not set: the batch chooses each cell's output folder, and --force in
# one of a cell's tasks would discard what its earlier tasks wrote.
_REFUSED = {"out": "the batch puts each cell in OUT/<name>",
            "force": "delete the cell's folder in the batch output to start it over",
            "stop_after": "the batch splits each cell into tasks itself",
            "help": "not an option of a cell", "version": "not an option of a cell"}
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ManifestError(ReduceCellError):
    """The manifest cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class BatchCell:
    """One cell of the batch.

    Attributes:
        name: the cell's folder in the batch output (unique, file-name safe).
        argv: the ``reduce-cell`` arguments (without ``--out``), as a user would type them.
        cwd: the folder relative paths are read from (the manifest's).
        line: the manifest line that defines the cell (for messages).
    """

    name: str
    argv: tuple[str, ...]
    cwd: Path
    line: int


def load_manifest(path: str | Path) -> list[BatchCell]:
    """Read and check a YAML or CSV manifest.

    Raises:
        ManifestError: naming the file, line and what is wrong, for the first problem found.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest file")
    text = path.read_text()
    if path.suffix.lower() == ".csv":
        entries = _csv_entries(path, text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        entries = _yaml_entries(path, text)
    else:
        raise ManifestError(f"{path}: a manifest is a .yaml/.yml or .csv file")
    if not entries:
        raise ManifestError(f"{path}: lists no cells")
    cells, seen = [], {}
    for entry, line in entries:
        cell = _to_cell(path, entry, line)
        if cell.name in seen:
            raise ManifestError(f"{path}:{line}: cell name {cell.name!r} is already used on line "
                                f"{seen[cell.name]}; give each cell its own name")
        seen[cell.name] = line
        cells.append(cell)
    return cells


def _yaml_entries(path: Path, text: str) -> list[tuple[dict[str, Any], int]]:
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml is a dependency
        raise ManifestError(f"{path}: YAML manifests need pyyaml (pip install pyyaml), or "
                            "write the manifest as CSV") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
                            ) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise ManifestError(f"{path}:1: the manifest is a mapping with a 'cells' list (and "
                            "optionally 'defaults'); see `reduce-cell batch --help`")
    lines = {k.value: v for k, v in root.value}
    unknown = set(data) - {"cells", "defaults"}
    if unknown:
        key = sorted(unknown)[0]
        line = next(k.start_mark.line + 1 for k, _ in root.value if k.value == key)
        raise ManifestError(f"{path}:{line}: unknown top-level key {key!r} (use 'cells' and "
                            "'defaults')")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ManifestError(f"{path}:{lines['defaults'].start_mark.line + 1}: 'defaults' is a "
                            "mapping of option: value")
    if not isinstance(data["cells"], list):
        raise ManifestError(f"{path}:{lines['cells'].start_mark.line + 1}: 'cells' is a list "
                            "of cells, each a mapping with at least 'cell'")
    out = []
    for node, entry in zip(lines["cells"].value, data["cells"], strict=True):
        line = node.start_mark.line + 1
        if not isinstance(entry, dict):
            raise ManifestError(f"{path}:{line}: each cell is a mapping with at least 'cell' "
                                f"(got {entry!r})")
        key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
        out.append(({**defaults, **entry, "__lines__": key_lines}, line))
    return out


def _csv_entries(path: Path, text: str) -> list[tuple[dict[str, Any], int]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "cell" not in [f.strip() for f in reader.fieldnames]:
        raise ManifestError(f"{path}:1: the header row must name a 'cell' column (and "
                            "optionally 'name' and reduce-cell options)")
    out = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise ManifestError(f"{path}:{line}: more fields than the header has columns")
        entry = {}
        for k, v in row.items():
            v = (v or "").strip()
            if v == "":
                continue
            key = k.strip()
            entry[key] = [x.strip() for x in v.split(";") if x.strip()] if ";" in v else v
        if entry:
            out.append(({**entry, "__lines__": {}}, line))
    return out


def _to_cell(path: Path, entry: dict[str, Any], line: int) -> BatchCell:
    from reducer.arguments import build_parser

    key_lines = entry.pop("__lines__")
    where = lambda key: f"{path}:{key_lines.get(key, line)}"  # noqa: E731
    if "cell" not in entry or entry["cell"] in (None, ""):
        raise ManifestError(f"{path}:{line}: this cell has no 'cell' (a bundled model name, a "
                            "model folder, a .swc or a .hoc file)")
    parser = build_parser()
    by_dest = {}
    for action in parser._actions:  # argparse has no public list of its options
        for opt in action.option_strings:
            if opt.startswith("--"):
                by_dest[opt[2:].replace("-", "_")] = (opt, action)
        by_dest.setdefault(action.dest, (action.option_strings[-1] if action.option_strings
                                         else None, action))
    name = str(entry.pop("name", "") or Path(str(entry["cell"])).stem)
    if not _NAME_OK.match(name):
        raise ManifestError(f"{where('name')}: cell name {name!r}: use letters, digits, '_', "
                            "'-' and '.' (it becomes a folder name)")
    argv = [str(entry.pop("cell"))]
    for key, value in entry.items():
        norm = str(key).strip().replace("-", "_")
        if norm in _REFUSED:
            raise ManifestError(f"{where(key)}: {key!r} cannot be set in a manifest: "
                                f"{_REFUSED[norm]}")
        if norm not in by_dest or by_dest[norm][0] is None:
            raise ManifestError(f"{where(key)}: unknown option {key!r} for cell {name!r}; the "
                                "options are those of reduce-cell (`reduce-cell --help`), "
                                "without the leading dashes")
        opt, action = by_dest[norm]
        argv += _option_argv(opt, action, value, where(key))
    parser.error = lambda msg: (_ for _ in ()).throw(  # argparse would print and exit
        ManifestError(f"{path}:{line}: cell {name!r}: {msg}"))
    parser.parse_args(argv)  # the single-cell command's own checks, now rather than on a worker
    return BatchCell(name=name, argv=tuple(argv), cwd=path.resolve().parent, line=line)


def _option_argv(opt: str, action: argparse.Action, value: Any, where: str) -> list[str]:
    if action.nargs == 0:  # a flag: --keep-stimuli, --coreneuron, ...
        if isinstance(value, str):
            value = {"true": True, "yes": True, "1": True, "false": False, "no": False,
                     "0": False}.get(value.lower(), value)
        if not isinstance(value, bool):
            raise ManifestError(f"{where}: {opt[2:]} is a flag: write true or false, not "
                                f"{value!r}")
        return [opt] if value else []
    values = value if isinstance(value, list) else [value]
    if len(values) > 1 and action.dest not in REPEATABLE:
        raise ManifestError(f"{where}: {opt[2:]} takes one value, got {len(values)}")
    out = []
    for v in values:
        out += [opt, _text(v)]
    return out


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"  # --holds: on/off
    return str(v)
