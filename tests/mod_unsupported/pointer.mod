: expect: 6 POINTER
: A density mechanism reading another model's variable through a POINTER.
NEURON {
    SUFFIX pointer
    NONSPECIFIC_CURRENT i
    POINTER gref
}
ASSIGNED { v (mV) i (mA/cm2) gref }
BREAKPOINT {
    i = gref * (v + 65)
}
