"""Analyses beside training: loss surfaces, the live learning-rate race, and the REST learning-rate
experiments (sweep, loss line, range test)."""
