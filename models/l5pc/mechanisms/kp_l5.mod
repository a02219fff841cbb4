TITLE Slowly inactivating (persistent) K current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Korngreen A, Sakmann B (2000) Voltage-gated K+ channels in layer 5 neocortical pyramidal
  neurones from young rats: subtypes and gradients. J Physiol 525:621-639
  (slow, "K_P" component; fits at room temperature, 21 degC),
  as Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "K_Pst", use them:
    I = gbar m^2 h (V - EK)
    m_inf = 1 / (1 + exp(-(V + 11)/12))
    tau_m = 1.25 + 175.03 exp( 0.026 (V + 10))   for V < -60 mV
            1.25 +  13    exp(-0.026 (V + 10))   for V >= -60 mV
    h_inf = 1 / (1 + exp((V + 64)/11))
    tau_h = 360 + (1010 + 24 (V + 65)) exp(-((V + 85)/48)^2)
    tau_x divided by qt = q10^((celsius - 21)/10), q10 = 2.3.
  (The voltages include the 10 mV shift Hay et al. applied to the Korngreen & Sakmann fits;
  the two branches of tau_m meet at -60 mV.)
ENDCOMMENT

NEURON {
    SUFFIX kp_l5
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
    g = gbar * m * m * h
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
    LOCAL qt, d
    UNITSOFF
    qt = q10^((celsius - tref) / 10)
    minf = 1 / (1 + exp(-(vm + 11) / 12))
    if (vm < -60) {
        mtau = (1.25 + 175.03 * exp(0.026 * (vm + 10))) / qt
    } else {
        mtau = (1.25 + 13 * exp(-0.026 * (vm + 10))) / qt
    }
    hinf = 1 / (1 + exp((vm + 64) / 11))
    d = (vm + 85) / 48
    htau = (360 + (1010 + 24 * (vm + 65)) * exp(-d * d)) / qt
    UNITSON
}
