"""Batch reduction: many cells from a manifest, each cell's stages as Dask tasks.

``reduce-cell batch MANIFEST --out DIR`` (:mod:`reducer.batch.cli`) reads the manifest
(:mod:`reducer.batch.manifest`), runs each cell as a chain of ``reduce-cell`` processes on a
Dask cluster (:mod:`reducer.batch.runner`, :mod:`reducer.batch.tasks`) and writes the summary
table (:mod:`reducer.batch.summary`).
"""

from reducer.batch.manifest import BatchCell, ManifestError, load_manifest
from reducer.batch.runner import BatchResult, run_batch
from reducer.batch.summary import COLUMNS, write_summary
from reducer.batch.tasks import TASKS, install_group_kill, run_cell_task

__all__ = ["COLUMNS", "TASKS", "BatchCell", "BatchResult", "ManifestError", "install_group_kill",
           "load_manifest", "run_batch", "run_cell_task", "write_summary"]
