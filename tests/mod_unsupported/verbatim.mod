: expect: 11 VERBATIM
: A density mechanism with embedded C code.
NEURON {
    SUFFIX verbatim
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT {
    i = 0.001 * (v + 65)
}
VERBATIM
static double twice(double x) { return 2 * x; }
ENDVERBATIM
