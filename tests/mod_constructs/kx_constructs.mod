TITLE Test K channel exercising translator constructs (not a model of a real channel)

COMMENT
Written for reduce-cell's translator tests. A Boltzmann-activated K conductance
(Hodgkin & Huxley 1952 form, n^2 gating; Boltzmann steady state as in Hille, Ion Channels of
Excitable Membranes, 3rd ed., ch. 2) with constructs the corpus lacks: CONSTANT, GLOBAL
PARAMETERs read from the process, a FROM loop, if / else if / else, TABLE in a PROCEDURE,
a q10 factor, and a slow inactivation s whose rate has s in a denominator, which makes
nocmodl (and the translator) solve METHOD cnexp with derivimplicit.
ENDCOMMENT

NEURON {
    SUFFIX kx_constructs
    USEION k READ ek WRITE ik
    RANGE gbar
    GLOBAL vhalf, q10
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

CONSTANT {
    slope = 9 (mV)
}

PARAMETER {
    gbar = 0.01 (S/cm2)
    vhalf = -30 (mV)
    q10 = 2.3
}

STATE { n s }

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    celsius (degC)
    ninf
    tau (ms)
    tadj
    sinf
}

INITIAL {
    tadj = q10^((celsius - 22) / 10)
    rates(v)
    n = ninf
    s = sinf
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * n * n * s * (v - ek)
}

DERIVATIVE states {
    rates(v)
    n' = (ninf - n) / tau
    s' = (sinf - s) / (80 * (1 + 0.5 * s))
}

PROCEDURE rates(v (mV)) {
    LOCAL s
    TABLE ninf, tau DEPEND celsius, vhalf FROM -100 TO 100 WITH 200
    UNITSOFF
    s = 0
    FROM i = 1 TO 3 {
        s = s + i
    }
    ninf = 1 / (1 + exp(-(v - vhalf) / slope))
    sinf = 1 / (1 + exp((v + 50) / 6))
    tau = s / (tadj * (exp((v + 40) / 20) + exp(-(v + 40) / 20)))
    if (tau < 0.2) {
        tau = 0.2
    } else if (tau > 50) {
        tau = 50
    } else {
        tau = tau * 1
    }
    UNITSON
}
