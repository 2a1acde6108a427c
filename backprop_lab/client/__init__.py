"""A Python client for Backprop Lab's REST API (docs/notebook.md): sessions, analyses, saved runs
and jobs, with parameters and gradients as NumPy arrays.

    from backprop_lab.client import Client
    with Client("http://127.0.0.1:8000") as lab:
        ...
"""

from __future__ import annotations

from backprop_lab.client.transport import ApiError, Transport

__all__ = ["ApiError", "Transport"]
