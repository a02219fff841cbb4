"""The options of ``reduce-cell`` (one cell): one parser for the command and the batch manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from reducer import __version__
from reducer.protocols import DC_KEEP_BELOW_MV

DEFAULT_CELL = "ca1_n120"


# Options given once per value (--template-arg A --template-arg B): lists in a manifest.
REPEATABLE = ("template_args", "load_files")


def build_parser() -> argparse.ArgumentParser:
    from reducer.train import TrainConfig

    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="reduce-cell",
        description=(
            "Reduce a multicompartment NEURON cell to its soma (own channels kept) plus a learned "
            "axial current, export it as an NMODL mechanism and a hoc template, and report "
            "accuracy on held-out stimuli and speed in NEURON. Stages: calibrate, targets "
            "(NEURON), train (JAX), export, validate (NEURON), report. Re-running the same "
            "command resumes after the last finished stage."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("cell", nargs="?", default=None,
                   help="a model folder with cell.json, a .swc file (with --biophysics), or a "
                        ".hoc file (plain, or with --template); default: the bundled "
                        f"models/{DEFAULT_CELL}; a bare name selects a bundled model")
    p.add_argument("--out", "-o", type=Path, default=None,
                   help="output folder (default: runs/<cell name> in the current folder)")
    p.add_argument("--biophysics", type=Path, help="biophysics JSON/YAML for a .swc cell")
    p.add_argument("--mechanisms", type=Path, help="folder of the cell's .mod files")
    p.add_argument("--template", help="hoc template name to instantiate (for a .hoc file)")
    p.add_argument("--template-arg", action="append", default=None, dest="template_args",
                   help="constructor argument of the template (repeat for several)")
    p.add_argument("--load-file", action="append", default=None, dest="load_files",
                   type=Path, help="hoc file to load before the template (repeat)")
    p.add_argument("--soma", help="name of the soma section or SectionList, if not obvious")
    p.add_argument("--keep-stimuli", action="store_true",
                   help="keep the stimuli the cell's own hoc places (IClamp, SEClamp, VClamp, "
                        "AlphaSynapse, NetCons from NetStim/VecStim into its synapses); by "
                        "default they are found, switched off and listed in the log and report")
    p.add_argument("--celsius", type=float, help="temperature (default: the cell's)")
    p.add_argument("--v-init", type=float, dest="v_init_mV", help="initial voltage in mV")
    p.add_argument("--dt", type=float, dest="dt_ms", help="fixed time step in ms (default 0.025)")
    p.add_argument("--seed", type=int, default=0, help="random seed (training, windows)")
    p.add_argument("--starts", type=int, default=3,
                   help="train this many seeds (--seed, --seed + 1, ...) and keep the one with "
                        "the best validation score; each start costs one training stage's time "
                        "(on CA1 n120 about 2.5 min; 1 = the seed alone)")
    p.add_argument("--protocols", choices=["default", "default+synaptic", "small",
                                           "small+synaptic"], default="default",
                   help="stimulus set: 'small' is a short set for smoke tests; '+synaptic' adds "
                        "training under somatic synaptic drive (better under synaptic input, "
                        "see README)")
    holds = p.add_mutually_exclusive_group()
    holds.add_argument("--holds", type=_holds, default="on", metavar="{on,off,auto}",
                       help="the training steps that hold the soma depolarised, and the DC "
                            f"I-V above {DC_KEEP_BELOW_MV:g} mV: they stop the reduced cell "
                            "locking near -20 mV under strong input, and cost accuracy on a "
                            "cell whose reduced model does not lock. 'auto' trains without "
                            "them, runs the synaptic check and trains again with them only "
                            "if that model locks (the old one is kept in OUT/no_holds; a "
                            "second training's time when it does)")
    holds.add_argument("--no-holds", action="store_false", dest="holds",
                       default=argparse.SUPPRESS,
                       help="the same as --holds off (about 1 min less than on)")
    p.add_argument("--workers", type=int, default=2,
                   help="parallel NEURON processes for the full-cell simulations")
    p.add_argument("--settle-ms", type=float, default=500.0,
                   help="time the full cell relaxes before every protocol")
    p.add_argument("--states", type=int, default=d.n_states, help="learned gating states K")
    p.add_argument("--hidden", type=int, default=d.n_hidden, help="hidden units H")
    p.add_argument("--open-loop-steps", type=int, default=d.open_loop_steps,
                   help="Adam steps of the open-loop stage")
    p.add_argument("--epochs", type=int, default=d.closed_loop_epochs,
                   help="closed-loop epochs (0: stop after the open loop)")
    p.add_argument("--steps-per-epoch", type=int, default=d.closed_loop_steps_per_epoch,
                   help="closed-loop Adam steps per epoch")
    p.add_argument("--lr-open", type=float, default=d.open_loop_lr,
                   help="open-loop learning rate")
    p.add_argument("--lr-closed", type=float, default=d.closed_loop_lr,
                   help="closed-loop learning rate")
    p.add_argument("--step-weight", type=float, default=d.step_weight,
                   help="open-loop weight of the samples inside the depolarising training "
                        "steps, relative to the rest: near threshold a step's spike times "
                        "hang on a few pA during each slow approach (1 = uniform)")
    p.add_argument("--no-trim", dest="trim", action="store_false",
                   help="skip the linear conductance trim chosen on the training and "
                        "validation steps after the closed loop (reducer.train.trim)")
    p.add_argument("--window-ms", type=float, default=d.window_ms,
                   help="closed-loop training window length")
    gates = p.add_mutually_exclusive_group()
    gates.add_argument("--exact-gates", action="store_false", dest="use_table",
                       help="compute z_inf(V), tau(V) exactly at every step in the exported "
                            "NMODL (about 10%% slower in NEURON); the default tabulates them "
                            "(NMODL TABLE, 0.1 mV grid) and the JAX model reads the same table")
    # The default since the TABLE export's JAX twin interpolates as NEURON does; kept so that
    # older command lines still run.
    gates.add_argument("--use-table", action="store_true", dest="use_table",
                       help=argparse.SUPPRESS)
    p.set_defaults(use_table=True)
    p.add_argument("--coreneuron", action="store_true",
                   help="also build the exported mechanisms for CoreNEURON (nrnivmodl "
                        "-coreneuron; about 20 s more) and check that CoreNEURON gives the "
                        "same voltages; export.json's coreneuron_lib names the library")
    p.add_argument("--timing-repeats", type=int, default=3,
                   help="repeats of the full-cell timing run (reduced cells: 7)")
    p.add_argument("--sensitivity", type=_sensitivity, default="0.3%,1%",
                   help="also run the full cell on each held-out protocol with each of these "
                        "constant currents added and subtracted, and report how far its own "
                        "spikes move (Γ of the full cell against itself: what Γ is "
                        "attainable); comma-separated, each in %% of the rheobase (1%%) or in "
                        "pA (2pA); 0 = off")
    p.add_argument("--force", action="store_true",
                   help="discard this output folder's earlier results (every stage's and what "
                        "the benchmarks/ scripts wrote there; other files stay) and start "
                        "over")
    p.add_argument("--stop-after", choices=["targets", "train"], default=None,
                   help="stop after this stage: 'targets' does the NEURON simulations only, "
                        "'train' also the JAX training; the same command without it finishes "
                        "the run (how `reduce-cell batch` splits a cell into tasks)")
    p.add_argument("--version", action="version", version=f"reduce-cell {__version__}")
    return p


def _sensitivity(text: str) -> tuple[str, ...]:
    """``"0.3%,1%"`` -> ("0.3%", "1%"); ``"0"`` -> () (off)."""
    from reducer.targets import parse_sensitivity

    try:
        return parse_sensitivity(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; 0 turns the runs off") from exc


def _holds(text: str) -> bool | str:
    """``--holds``: on -> True, off -> False, auto -> "auto"."""
    try:
        return {"on": True, "off": False, "auto": "auto"}[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"{text!r}: use on, off or auto") from None
