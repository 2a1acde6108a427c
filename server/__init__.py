"""The Backprop Lab server: REST API v1, the live WebSocket stream and the page, over the engine.

`create_app(settings)` in `backprop_lab.server.app` builds the FastAPI application; `backprop_lab.server.cli` runs it
under uvicorn (`backprop-lab`, or `python -m backprop_lab`). docs/architecture.md walks the
sub-packages, each one concern: `wire` (what travels), `live` (a session and its manager),
`runtime` (threads, pacing, fan-out), `analyses`, `saved` (runs), `classroom` (who may do what),
`web` (HTTP guards) and `routes`.
"""

from backprop_lab import __version__

__all__ = ["__version__"]
