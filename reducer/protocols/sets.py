"""The default protocol sets, in multiples of the cell's rheobase, and the DC holds."""

from __future__ import annotations

import dataclasses

from reducer.protocols.protocol import Protocol, ProtocolSet


def _step(name, amp, delay=50.0, dur=400.0, tail=100.0, note="", holds=None):
    params = {"delay_ms": delay, "dur_ms": dur, "amp_nA": amp}
    if holds:
        params["holds"] = [list(map(float, h)) for h in holds]
    return Protocol(name, "step", delay + dur + tail, params, note)


def _held_step(name, amp, levels_mV, delay=50.0, free_ms=90.0, hold_ms=60.0, tail=100.0):
    """A step during which the soma is held at each level in turn for ``hold_ms``, with
    ``free_ms`` of free firing before each hold and after the last."""
    holds = [(delay + free_ms + k * (free_ms + hold_ms), hold_ms, v)
             for k, v in enumerate(levels_mV)]
    dur = len(levels_mV) * (free_ms + hold_ms) + free_ms
    return _step(name, amp, delay=delay, dur=dur, tail=tail, holds=holds,
                 note="soma held depolarised between free firing: the dendrites' current "
                      "there and after release")


def _synaptic(name, r, drive, seed, delay=50.0, dur=700.0, tail=50.0):
    """Somatic Poisson excitation and inhibition (two ExpSyn, see :mod:`reducer.validate.synaptic`)
    whose mean current at rest is ``drive`` rheobases ``r``; no current is injected."""
    syn = {"drive": float(drive), "seed": int(seed), "delay_ms": float(delay),
           "dur_ms": float(dur), "tail_ms": float(tail), "rheobase_nA": float(r)}
    return Protocol(name, "step", delay + dur + tail,
                    {"delay_ms": delay, "dur_ms": dur, "amp_nA": 0.0, "synapses": syn},
                    note="spikes under a shunting synaptic conductance (recorded as current)")


DC_HOLD_MS = 600.0  # each DC level is held this long ...
DC_AVERAGE_MS = 200.0  # ... and its axial current averaged over the last this many ms


def dc_hold(level_mV: float, hold_ms: float = DC_HOLD_MS) -> Protocol:
    """The soma clamped at ``level_mV`` from the settled state, no current injected."""
    return Protocol(f"dc_hold_{level_mV:g}mV", "step", hold_ms,
                    {"delay_ms": 0.0, "dur_ms": hold_ms, "amp_nA": 0.0,
                     "holds": [[0.0, hold_ms, float(level_mV)]]},
                    note="steady-state axial current under somatic voltage clamp")


def default_protocols(rheobase_nA: float, scale: str = "default",
                      holds: bool = True) -> ProtocolSet:
    """The standard protocol set, with amplitudes in units of the cell's rheobase.

    Args:
        rheobase_nA: smallest step amplitude (of a 300 ms step) that makes the cell spike.
        scale: "default" (about 5 s of training stimulus) or "small" (short protocols for
            tests); "+synaptic" (e.g. "default+synaptic") adds training under somatic
            synaptic drive (:func:`_synaptic`), for cells meant to be driven by synapses.
        holds: keep the training steps that hold the soma depolarised and the whole DC I-V
            (``dc`` split); False keeps only its levels at or below -70 mV. The held steps
            stop the reduced CA1 cell locking near -20 mV under strong input; on a cell whose
            reduced model never locks they cost accuracy (README).
    """
    r = float(rheobase_nA)
    scale, plus, extra = scale.partition("+")
    if plus and extra != "synaptic":
        raise ValueError(f"unknown protocol set {scale + plus + extra!r}; the only addition "
                         "is '+synaptic'")
    synaptic = bool(plus)
    if scale == "small":
        train = (
            _step("train_step_1.6R", 1.6 * r, delay=20, dur=150, tail=30),
            _step("train_step_-1R", -1.0 * r, delay=20, dur=100, tail=40),
            Protocol("train_ou", "ou_noise", 250.0, dict(delay_ms=20, dur_ms=220, mean_nA=1.2 * r,
                                                         sigma_nA=0.6 * r, tau_ms=3.0, seed=11)),
            _held_step("train_hold_1.6R", 1.6 * r, (-20.0,), delay=20, free_ms=50, hold_ms=30,
                       tail=30),
        ) + ((_synaptic("train_syn_3R", r, 3.0, seed=101, delay=20, dur=150, tail=30),)
             if synaptic else ())
        validation = (_step("val_step_2R", 2.0 * r, delay=20, dur=150, tail=30),)
        test = (
            _step("test_step_2.4R", 2.4 * r, delay=20, dur=200, tail=30,
                  note="out of distribution: amplitude above the trained range"),
            Protocol("test_ou_seed", "ou_noise", 250.0, dict(delay_ms=20, dur_ms=220,
                     mean_nA=1.3 * r, sigma_nA=0.7 * r, tau_ms=3.0, seed=97),
                     note="held out: new noise seed"),
        )
        fi = tuple(_step(f"fi_{a:.2f}R", a * r, delay=20, dur=200, tail=10) for a in (1.5, 2.5))
        dc = tuple(dc_hold(v, hold_ms=300.0) for v in (-90.0, -60.0, -30.0, 0.0))
        return _without_holds(ProtocolSet(train, validation, test, fi, dc), holds)
    if scale != "default":
        raise ValueError(f"unknown protocol scale {scale!r}")
    # Steps across the f-I range, not at two points: the firing rate (and its adaptation) must
    # be learned where it is judged. The 3.0R step covers the held-out f-I steps up to 2.8R
    # (without it four of eight CA1 seeds fired 6-17 spikes too many there in 500 ms), the
    # -2.5R step the held-out -2R step (without it one seed ran away below -100 mV).
    train = (
        _step("train_step_1.1R", 1.1 * r),
        _step("train_step_1.3R", 1.3 * r),
        _step("train_step_1.8R", 1.8 * r),
        _step("train_step_2.0R", 2.0 * r),
        _step("train_step_3.0R", 3.0 * r),
        _step("train_step_-1R", -1.0 * r, dur=300.0),
        _step("train_step_-2.5R", -2.5 * r, dur=300.0),
        Protocol("train_ramp", "ramp", 900.0, dict(delay_ms=50, dur_ms=800, amp_start_nA=-0.5 * r,
                                                   amp_end_nA=2.0 * r)),
        Protocol("train_ou_a", "ou_noise", 1000.0, dict(delay_ms=50, dur_ms=950, mean_nA=1.1 * r,
                                                        sigma_nA=0.5 * r, tau_ms=5.0, seed=1)),
        Protocol("train_ou_b", "ou_noise", 1000.0, dict(delay_ms=50, dur_ms=950, mean_nA=0.6 * r,
                                                        sigma_nA=1.0 * r, tau_ms=2.0, seed=2)),
        # Held depolarised (-40 .. -10 mV) between bursts of free firing; see the module doc.
        _held_step("train_hold_1.8R", 1.8 * r, (-40.0, -30.0, -20.0, -10.0)),
        _held_step("train_hold_2.0R", 2.0 * r, (-30.0, -20.0, -10.0, -40.0)),
    )
    if synaptic:
        # Shunted spikes: under synaptic conductance the axial current after a spike differs
        # by up to 1.5 nA from that after a spike under injected current. The synaptic
        # benchmark's drives are 1.5, 2.5, 3.5 R with event seeds 0 and 1; these are others.
        train += (_synaptic("train_syn_2R", r, 2.0, seed=101),
                  _synaptic("train_syn_3R", r, 3.0, seed=102))
    # Five validation protocols: model selection on spike timing needs more than two traces
    # (Γ of a single 14-spike step jumps by 0.07 per spike); the hyperpolarising one scores the
    # subthreshold current between the trained depths.
    validation = (
        _step("val_step_1.2R", 1.2 * r),
        _step("val_step_1.5R", 1.5 * r),
        _step("val_step_-1.5R", -1.5 * r, dur=300.0),
        Protocol("val_ou", "ou_noise", 800.0, dict(delay_ms=50, dur_ms=750, mean_nA=0.9 * r,
                                                   sigma_nA=0.7 * r, tau_ms=3.0, seed=3)),
        Protocol("val_ou_b", "ou_noise", 600.0, dict(delay_ms=50, dur_ms=550, mean_nA=1.3 * r,
                                                     sigma_nA=0.4 * r, tau_ms=8.0, seed=5)),
    )
    # Held out, on the principle of the single-neuron benchmarks (Jolivet et al. 2008): spike
    # timing is judged under fluctuating input, where the cell's own spike times are
    # reproducible (Mainen & Sejnowski 1995); steps are judged by rate, latency, ISI statistics
    # and subthreshold voltage (their Γ stays in the report as a diagnostic). The noise seeds
    # are new (training 1-2, validation 3 and 5). Somatic synaptic drive, the third kind of
    # fluctuating input, is held out in the validate stage (reducer.validate.synaptic).
    test = (
        Protocol("test_ou_seed", "ou_noise", 1000.0, dict(delay_ms=50, dur_ms=950, mean_nA=1.0 * r,
                 sigma_nA=0.8 * r, tau_ms=4.0, seed=4),
                 note="held out: new noise seed and statistics"),
        Protocol("test_ou_0.7R_sd1R", "ou_noise", 1000.0, dict(delay_ms=50, dur_ms=950,
                 mean_nA=0.7 * r, sigma_nA=1.0 * r, tau_ms=2.0, seed=41),
                 note="held out: low mean, large fast fluctuations, new seed"),
        Protocol("test_ou_1.4R_sd0.6R", "ou_noise", 1000.0, dict(delay_ms=50, dur_ms=950,
                 mean_nA=1.4 * r, sigma_nA=0.6 * r, tau_ms=6.0, seed=42),
                 note="held out: high mean, slow fluctuations, new seed"),
        Protocol("test_chirp", "chirp", 1000.0, dict(delay_ms=50, dur_ms=900, offset_nA=0.8 * r,
                 amp_nA=0.8 * r, f0_hz=1.0, f1_hz=20.0),
                 note="out of distribution: stimulus kind never trained on"),
        _step("test_step_2.2R_long", 2.2 * r, dur=1000.0,
              note="out of distribution: 2.5x longer than every trained step"),
        _step("test_step_1.15R", 1.15 * r, dur=1000.0,
              note="held out: near-threshold amplitude never trained on"),
        _step("test_step_0.6R", 0.6 * r, dur=1000.0,
              note="held out: subthreshold depolarising step"),
        _step("test_step_-2R", -2.0 * r, dur=1000.0,
              note="held out: hyperpolarisation between the trained depths, 3.3x longer"),
    )
    fi = tuple(
        _step(f"fi_{a:.2f}R", a * r, delay=50, dur=500, tail=0)
        for a in (0.8, 1.2, 1.6, 2.0, 2.4, 2.8)
    )
    dc = tuple(dc_hold(float(v)) for v in range(-100, 1, 5))
    return _without_holds(ProtocolSet(train, validation, test, fi, dc), holds)


# Without the held steps the DC I-V keeps its levels at or below this: they anchor the
# learned current below the free-running traces (about -86 mV on CA1), and the depolarised
# levels belong with the held steps.
DC_KEEP_BELOW_MV = -70.0


def _without_holds(ps: ProtocolSet, holds: bool) -> ProtocolSet:
    """``ps`` as it is, or (``holds=False``) without the training steps that hold the soma
    depolarised and without the DC I-V levels above :data:`DC_KEEP_BELOW_MV`.

    Why keep the hyperpolarised levels: without them the CA1 model trained with
    ``+synaptic`` fell to -228 mV on the -2R held-out step (the full cell stays above -102 mV),
    and the Allen cell's model fitted worse below threshold (README).
    """
    if holds:
        return ps
    return dataclasses.replace(
        ps, train=tuple(p for p in ps.train if not p.params.get("holds")),
        dc_holds=tuple(p for p in ps.dc_holds
                       if max(h[2] for h in p.params["holds"]) <= DC_KEEP_BELOW_MV))
