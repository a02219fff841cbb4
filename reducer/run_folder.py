"""What a run folder holds: the names every stage and benchmark writes there."""

from __future__ import annotations

HOLDS_CHOICE = "holds_choice.json"
SET_ASIDE = "no_holds"

# What --force clears (glob patterns in the run folder): every stage's output, and what the
# scripts in benchmarks/ write into a run. Theirs describe the model they measured; left beside
# a new model they would pass for its numbers. Anything else in the folder is the user's.
RUN_OUTPUTS = ("run.json", "cell_spec.pkl", "calibration.json", "data", "train", "export",
               "export_baseline", "validation.pkl", "metrics.json", "report.html",
               HOLDS_CHOICE, SET_ASIDE)
BENCHMARK_OUTPUTS = ("benchmark.json", "benchmark_export_table", "benchmark_export_exact",
                     "network_benchmark*.json",
                     "training_fit.json", "full_cell_timestep.json", "timestep",
                     "full_cell_sensitivity.json", "sensitivity_scan",
                     "synaptic_input.json", "synaptic_input.png", "benchmark_l5pc")
