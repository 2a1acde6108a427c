"""The numba machinery the kernels build on, kept apart from the maths: views borrowed without
copies, a nanosecond clock, and the tanh polynomial. Read engine/reference.py and engine/kernels/
for the maths; this package is how it runs fast."""
