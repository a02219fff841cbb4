TITLE cad_d94: Ca concentration in a submembrane shell with first-order decay (Destexhe et al. 1994)

COMMENT
Reference: Destexhe A, Contreras D, Sejnowski TJ, Steriade M (1994) A model of spindle
  rhythmicity in the isolated thalamic reticular nucleus. J Neurophysiol 72:803-818,
  equation for intracellular calcium (influx into a shell of depth d, first-order
  removal to a resting level):
    d[Ca]i/dt = drive + ([Ca]inf - [Ca]i) / tau_r
    drive     = max(0, -10000 * ica / (2 F d))   (mM/ms; ica in mA/cm2, d in um)
  default values: d = 0.1 um, tau_r = 5 ms, [Ca]inf = 2.4e-4 mM. Only inward current
  raises [Ca]i (the pump model does not run backwards), hence the max(0, .).
Written for reduce-cell from that equation.
Idioms: USEION ca READ ica WRITE cai, INITIAL that sets the concentration STATE, if
inside a DERIVATIVE block, METHOD euler (forward Euler; tau_r = 5 ms >> dt).
ENDCOMMENT

NEURON {
    SUFFIX cad_d94
    USEION ca READ ica WRITE cai
    RANGE depth, taur, cainf, drive
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}

PARAMETER {
    depth = 0.1 (um)
    taur = 5 (ms)
    cainf = 2.4e-4 (mM)
}

ASSIGNED {
    ica (mA/cm2)
    drive (mM/ms)
}

STATE {
    cai (mM)
}

INITIAL {
    cai = cainf
}

BREAKPOINT {
    SOLVE state METHOD euler
}

DERIVATIVE state {
    UNITSOFF
    drive = -10000 * ica / (2 * FARADAY * depth)
    if (drive < 0) {
        drive = 0
    }
    UNITSON
    cai' = drive + (cainf - cai) / taur
}
