"""The Backprop Lab server: REST API v1, the live WebSocket stream and the page, over the engine.

`create_app(settings)` in `server.app` builds the FastAPI application; `server.cli` runs it
under uvicorn (`backprop-lab`, or `python -m server`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("backprop-lab")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.0.0+source"
