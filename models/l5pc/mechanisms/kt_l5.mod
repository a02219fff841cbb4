TITLE Fast inactivating (transient, A-type) K current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Korngreen A, Sakmann B (2000) Voltage-gated K+ channels in layer 5 neocortical pyramidal
  neurones from young rats: subtypes and gradients. J Physiol 525:621-639
  (fast, "K_T" component; fits at 21 degC),
  as Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "K_Tst", use them:
    I = gbar m^4 h (V - EK)
    m_inf = 1 / (1 + exp(-(V + 10)/19))
    tau_m = 0.34 + 0.92 exp(-((V + 81)/59)^2)     (ms)
    h_inf = 1 / (1 + exp((V + 76)/10))
    tau_h = 8 + 49 exp(-((V + 83)/23)^2)          (ms)
    tau_x divided by qt = q10^((celsius - 21)/10), q10 = 2.3.
  (Voltages include the 10 mV shift Hay et al. applied to the Korngreen & Sakmann fits.)
ENDCOMMENT

NEURON {
    SUFFIX kt_l5
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    GLOBAL q10, tref
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
    q10 = 2.3
    tref = 21 (degC)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE {
    m
    h
}

BREAKPOINT {
    SOLVE gating METHOD cnexp
    g = gbar * m * m * m * m * h
    ik = g * (v - ek)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
}

DERIVATIVE gating {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, dm, dh
    UNITSOFF
    qt = q10^((celsius - tref) / 10)
    minf = 1 / (1 + exp(-(vm + 10) / 19))
    dm = (vm + 81) / 59
    mtau = (0.34 + 0.92 * exp(-dm * dm)) / qt
    hinf = 1 / (1 + exp((vm + 76) / 10))
    dh = (vm + 83) / 23
    htau = (8 + 49 * exp(-dh * dh)) / qt
    UNITSON
}
