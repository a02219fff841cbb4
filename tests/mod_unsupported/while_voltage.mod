: expect: 14 WHILE loop
: A WHILE loop whose condition depends on the membrane voltage.
NEURON {
    SUFFIX while_voltage
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT {
    i = 0.001 * halve(v + 65)
}
FUNCTION halve(x) {
    LOCAL y
    y = x
    WHILE (fabs(y) > 1) {
        y = y / 2
    }
    halve = y
}
