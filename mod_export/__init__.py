"""Write a trained hybrid model as an NMODL mechanism plus a reduced-cell builder for NEURON."""
