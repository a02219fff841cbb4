: A recorder, as published models carry (e.g. a peak-voltage tracker): it reads v and t
: and writes no current and no ion, so it cannot change the membrane voltage. Written for
: reduce-cell's tests; the file also keeps an RCS id as C text at file scope, as old files do.
VERBATIM
static const char rcsid[] = "$Id: vpeak_observer.mod,v 1.1 test $";
ENDVERBATIM
NEURON {
    SUFFIX vpeak_obs
    RANGE vpeak, tpeak
}
ASSIGNED {
    v (mV)
    vpeak (mV)
    tpeak (ms)
}
INITIAL {
    vpeak = v
    tpeak = t
}
BREAKPOINT {
    if (v > vpeak) {
        vpeak = v
        tpeak = t
    }
}
