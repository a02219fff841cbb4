TITLE Low-voltage-activated (T-type) Ca current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Avery RB, Johnston D (1996) Multiple channel types contribute to the low-voltage-activated
  calcium current in hippocampal CA3 pyramidal neurons. J Neurosci 16:5567-5582;
  Randall AD, Tsien RW (1997) Contrasting biophysical and pharmacological properties of
  T-type and R-type calcium channels. Neuropharmacology 36:879-893,
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "Ca_LVAst"
  (including Hay et al.'s 10 mV shift):
    I = gbar m^2 h (V - ECa)
    m_inf = 1 / (1 + exp(-(V + 40)/6))
    tau_m = 5 + 20 / (1 + exp((V + 35)/5))        (ms)
    h_inf = 1 / (1 + exp((V + 90)/6.4))
    tau_h = 20 + 50 / (1 + exp((V + 50)/7))       (ms)
    tau_x divided by qt = q10^((celsius - 21)/10), q10 = 2.3.
  ECa is NEURON's Nernst potential from [Ca]i (written by cad_l5) and [Ca]o.
ENDCOMMENT

NEURON {
    SUFFIX calva_l5
    USEION ca READ eca WRITE ica
    RANGE gbar, g, ica
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
    eca (mV)
    ica (mA/cm2)
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
    ica = g * (v - eca)
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
    LOCAL qt
    UNITSOFF
    qt = q10^((celsius - tref) / 10)
    minf = 1 / (1 + exp(-(vm + 40) / 6))
    mtau = (5 + 20 / (1 + exp((vm + 35) / 5))) / qt
    hinf = 1 / (1 + exp((vm + 90) / 6.4))
    htau = (20 + 50 / (1 + exp((vm + 50) / 7))) / qt
    UNITSON
}
