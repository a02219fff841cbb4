"""Stimulus protocols: current-clamp waveforms injected at the soma, and the train / validation /
test split.

A training protocol may also hold the soma at set voltages for a while (``holds``: a somatic
voltage clamp switched on and off during the run). The recordings then show what the dendrites
do while the soma stays depolarised and after it is released, which free-running traces never
show for long; the learned current is otherwise unconstrained there and can hold the reduced
soma near -20 mV (depolarisation block) under strong synaptic input.

A training protocol may instead drive the soma with synapses (``synapses``; the ``+synaptic``
sets): their current is recorded as injected current, and shows shunted spikes.

A :class:`Protocol` is plain data (JSON-able) and renders to a per-step current array with
:meth:`Protocol.waveform_nA`. Amplitudes of the default sets are multiples of the cell's
rheobase, so the same recipe drives a small and a large cell into comparable regimes.
The test set holds regimes never trained on: other amplitudes (beyond the trained range),
longer stimuli, new noise seeds, and a stimulus kind (chirp) absent from training. Its
fluctuating inputs (OU noise, chirp; :attr:`Protocol.input_class`) are judged by spike timing,
its steps by rate, latency, ISI statistics and subthreshold voltage (the report's headline).
"""

from reducer.protocols.protocol import KINDS, OU_SAMPLE_MS, Protocol, ProtocolSet, ou_path
from reducer.protocols.sets import (
    DC_AVERAGE_MS,
    DC_HOLD_MS,
    DC_KEEP_BELOW_MV,
    dc_hold,
    default_protocols,
)
from reducer.protocols.synapses import SomaSynapses, SynapticDrive

__all__ = ["DC_AVERAGE_MS", "DC_HOLD_MS", "DC_KEEP_BELOW_MV", "KINDS", "OU_SAMPLE_MS", "Protocol",
           "ProtocolSet", "SomaSynapses", "SynapticDrive", "dc_hold", "default_protocols",
           "ou_path"]
