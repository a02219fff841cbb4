: expect: 7 INCLUDE
: INCLUDE of another file's text.
NEURON {
    SUFFIX include_file
    NONSPECIFIC_CURRENT i
}
INCLUDE "other.inc"
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT {
    i = 0.001 * (v + 65)
}
