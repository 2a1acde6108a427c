"""Backprop Lab: watch a neural network learn by backpropagation, live.

Three sub-packages: `backprop_lab.engine`, the training engine (NumPy and compiled kernels, nothing
of the web; a notebook imports it alone), `backprop_lab.server`, the app that streams it to the
page, and `backprop_lab.client`, the Python client of the app's REST API (httpx and NumPy only;
docs/notebook.md). `python -m backprop_lab` (or the `backprop-lab` command) starts the app.

In a source checkout `engine/` and `server/` are the repository's top-level folders, linked here;
an installed copy maps them in (pyproject.toml, `package-dir`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("backprop-lab")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.0.0+source"
