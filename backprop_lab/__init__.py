"""Backprop Lab: watch a neural network learn by backpropagation, live.

Two sub-packages: `backprop_lab.engine`, the training engine (NumPy and compiled kernels, nothing
of the web; a notebook imports it alone), and `backprop_lab.server`, the app that streams it to the
page. `python -m backprop_lab` (or the `backprop-lab` command) starts the app.

In a source checkout `engine/` and `server/` are the repository's top-level folders, linked here;
an installed copy maps them in (pyproject.toml, `package-dir`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("backprop-lab")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.0.0+source"
