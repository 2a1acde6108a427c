"""Where the page's files are: an installed package has them at `server/static` and
`server/templates` (pyproject maps the top-level folders there); a source checkout has them at
the repository root. `Settings.static_dir` and `templates_dir` override either (tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import backprop_lab.server as server_package


class Overrides(Protocol):
    """Where a caller keeps the folders (`Settings`): None finds them next to the package."""

    @property
    def static_dir(self) -> Path | None: ...

    @property
    def templates_dir(self) -> Path | None: ...


def _asset_dir(name: str, override: Path | None) -> Path:
    if override is not None:
        return override
    installed = Path(server_package.__file__).parent / name
    if installed.is_dir():
        return installed
    return Path(server_package.__file__).resolve().parent.parent / name  # a source checkout


def static_dir(settings: Overrides) -> Path:
    return _asset_dir("static", settings.static_dir)


def templates_dir(settings: Overrides) -> Path:
    return _asset_dir("templates", settings.templates_dir)
