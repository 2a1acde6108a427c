"""What is computed from a trainer beside its training: readouts (gradients, traces, probes),
neuron heatmaps, loss surfaces, the live learning-rate race, and the REST learning-rate
experiments (sweep, loss line, range test). Nothing here knows a live session."""
