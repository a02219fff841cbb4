: expect: 10 SOLVE states METHOD runge
: A DERIVATIVE block solved with a method nocmodl offers but the translator does not.
NEURON {
    SUFFIX runge_method
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (mA/cm2) }
STATE { x }
BREAKPOINT {
    SOLVE states METHOD runge
    i = 0.001 * x * (v + 65)
}
DERIVATIVE states {
    x' = 1 - x
}
