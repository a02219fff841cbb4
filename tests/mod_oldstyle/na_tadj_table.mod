: Transient Na current in the style of Mainen-era NEURON files, written for reduce-cell's
: tests: m^3 h kinetics with Hodgkin & Huxley's rates (Hodgkin & Huxley 1952, J Physiol
: 117:500, eqs. 20-21 and 23-24, shifted to a -65 mV rest) and a Q10 factor.
: The constructs under test, as in Hu et al. 2009's na.mod/kv.mod (ModelDB 123897):
:  - the GLOBAL temperature factor tadj is set only inside the tabulated trates(), so in
:    NEURON (usetable_na_tadj = 1) it keeps the value the table build left in it;
:  - the table holds the update factors mexp/hexp and DEPENDs on dt;
:  - v, dt and celsius are declared in PARAMETER; mexp/hexp are a file-scope LOCAL;
:  - the states PROCEDURE ends with a VERBATIM block that holds only a C comment.
INDEPENDENT { t FROM 0 TO 1 WITH 1 (ms) }
NEURON {
    SUFFIX na_tadj
    USEION na READ ena WRITE ina
    RANGE gbar
    GLOBAL q10, temp, tadj, vmin, vmax
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (S) = (siemens)
}
PARAMETER {
    gbar = 0.12 (S/cm2)
    q10 = 3
    temp = 6.3 (degC)
    v (mV)
    dt (ms)
    celsius (degC)
    vmin = -100 (mV)
    vmax = 100 (mV)
}
ASSIGNED {
    ena (mV)
    ina (mA/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
    tadj
}
STATE { m h }
INITIAL {
    trates(v)
    m = minf
    h = hinf
}
BREAKPOINT {
    SOLVE states
    ina = tadj * gbar * m * m * m * h * (v - ena)
}
LOCAL mexp, hexp
PROCEDURE states() {
    trates(v)
    m = m + mexp * (minf - m)
    h = h + hexp * (hinf - h)
    VERBATIM
    //return 0;
    ENDVERBATIM
}
PROCEDURE trates(v) {
    LOCAL tinc
    TABLE minf, mexp, hinf, hexp
    DEPEND dt, celsius, temp
    FROM vmin TO vmax WITH 200
    rates(v)
    tadj = q10 ^ ((celsius - temp) / 10)
    tinc = -dt * tadj
    mexp = 1 - exp(tinc / mtau)
    hexp = 1 - exp(tinc / htau)
}
PROCEDURE rates(v) {
    LOCAL a, b, x
    x = v + 40
    if (fabs(x) < 1e-6) {
        a = 1
    } else {
        a = 0.1 * x / (1 - exp(-x / 10))
    }
    b = 4 * exp(-(v + 65) / 18)
    mtau = 1 / (a + b)
    minf = a * mtau
    a = 0.07 * exp(-(v + 65) / 20)
    b = 1 / (1 + exp(-(v + 35) / 10))
    htau = 1 / (a + b)
    hinf = a * htau
}
