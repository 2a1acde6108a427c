"""The page and its files: `/` renders templates/index.html, `/static` serves static/, and
plotly.js and Swagger UI come from installed packages."""

from __future__ import annotations

from pathlib import Path

import httpx

from backprop_lab.server.routes.pages import plotly_js
from backprop_lab.server.settings import Settings
from backprop_lab.server.web.assets import static_dir, templates_dir


def test_the_index_page_renders_with_the_protocol_and_version(live_factory, tmp_path: Path):
    (tmp_path / "index.html").write_text(
        '<!doctype html><html data-protocol="{{ protocol_version }}" data-version="{{ version }}"></html>'
    )
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "main.js").write_text("export const answer = 42;\n")
    server = live_factory(templates_dir=tmp_path, static_dir=tmp_path)
    page = httpx.get(f"{server.base}/")
    assert page.status_code == 200 and 'data-protocol="3"' in page.text
    assert "text/html" in page.headers["content-type"]
    script = httpx.get(f"{server.base}/static/js/main.js")
    assert script.status_code == 200 and "answer" in script.text


def test_a_missing_page_is_a_clean_404(live_factory, tmp_path: Path):
    server = live_factory(templates_dir=tmp_path)
    response = httpx.get(f"{server.base}/")
    assert response.status_code == 404 and "index.html" in response.json()["detail"]


def test_plotly_is_served_from_the_installed_package(live):
    path = plotly_js()
    assert path is not None and path.name == "plotly.min.js"
    response = httpx.get(f"{live.base}/vendor/plotly.min.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert len(response.content) == path.stat().st_size > 1_000_000


def test_page_files_are_found_in_a_source_checkout():
    root = Path(__file__).resolve().parents[2]
    assert static_dir(Settings()) in (root / "static", root / "server" / "static")
    assert templates_dir(Settings()).name == "templates"


def test_the_real_page_renders_and_its_scripts_are_served(live):
    page = httpx.get(f"{live.base}/")
    assert page.status_code == 200 and 'data-protocol="3"' in page.text
    assert "/vendor/plotly.min.js" in page.text and "/static/js/main.js" in page.text
    assert httpx.get(f"{live.base}/static/js/main.js").status_code == 200
    assert httpx.get(f"{live.base}/static/js/../../server/app.py").status_code == 404


def test_the_api_explorer_loads_only_files_the_app_serves(live):
    page = httpx.get(f"{live.base}/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "cdn." not in page.text and "https://" not in page.text  # works offline in a classroom
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/vendor/swagger-ui/{asset}" in page.text
        response = httpx.get(f"{live.base}/vendor/swagger-ui/{asset}")
        assert response.status_code == 200 and len(response.content) > 500
    assert httpx.get(f"{live.base}/redoc").status_code == 404
