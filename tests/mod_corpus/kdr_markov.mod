TITLE kdr_markov: delayed-rectifier K channel as a five-state Markov scheme (Hodgkin & Huxley rates)

COMMENT
Reference: Hodgkin AL, Huxley AF (1952) A quantitative description of membrane current
  and its application to conduction and excitation in nerve. J Physiol 117:500-544,
  equations 12-13 (alpha_n, beta_n); the independent-subunit Markov scheme for n^4 as
  written in Chow CC, White JA (1996) Spontaneous action potentials due to channel
  fluctuations. Biophys J 71:3013-3021 (K channel kinetic diagram).
Written for reduce-cell from those equations, in the modern sign convention (rest
-65 mV, v in mV, rates in 1/ms):
  c0 <-> c1 <-> c2 <-> c3 <-> o
  forward rates 4a, 3a, 2a, a;  backward rates b, 2b, 3b, 4b
  a = 0.01 (v + 55) / (1 - exp(-(v + 55)/10)) * phi
  b = 0.125 exp(-(v + 65)/80) * phi,  phi = 3^((celsius - 6.3)/10)
  I_K = gbar o (v - ek);  c0 + c1 + c2 + c3 + o = 1
Idioms: KINETIC scheme linear in its states, CONSERVE, METHOD sparse, STEADYSTATE
sparse in INITIAL, 4-argument guard FUNCTION for the 0/0 at v = -55 mV.
ENDCOMMENT

NEURON {
    SUFFIX kdr_markov
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gbar = 0.036 (S/cm2)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    an (/ms)
    bn (/ms)
}

STATE {
    c0
    c1
    c2
    c3
    o
}

BREAKPOINT {
    SOLVE kin METHOD sparse
    g = gbar * o
    ik = g * (v - ek)
}

INITIAL {
    SOLVE kin STEADYSTATE sparse
}

KINETIC kin {
    rates(v)
    ~ c0 <-> c1 (4 * an, bn)
    ~ c1 <-> c2 (3 * an, 2 * bn)
    ~ c2 <-> c3 (2 * an, 3 * bn)
    ~ c3 <-> o (an, 4 * bn)
    CONSERVE c0 + c1 + c2 + c3 + o = 1
}

PROCEDURE rates(vm (mV)) {
    LOCAL phi
    UNITSOFF
    phi = 3 ^ ((celsius - 6.3) / 10)
    an = phi * linoid(vm, -55, 0.01, 10)
    bn = phi * 0.125 * exp(-(vm + 65) / 80)
    UNITSON
}

FUNCTION linoid(vm (mV), th (mV), rate (/ms-mV), q (mV)) (/ms) {
    : rate (vm - th) / (1 - exp(-(vm - th)/q)); tends to rate q (1 + (vm - th)/(2q)) at vm = th
    LOCAL x
    x = (vm - th) / q
    if (fabs(x) < 1e-6) {
        linoid = rate * q * (1 + x / 2)
    } else {
        linoid = rate * (vm - th) / (1 - exp(-x))
    }
}
