"""The engine stays pure: its modules import only NumPy, numba and the standard library, and
importing every one of them pulls in no web or server code. Inside it, the reference step a
student reads first imports NumPy alone, not the kernels; the frame codec, a wire format, stands
alone from the engine."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import backprop_lab.engine

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "numba", "backprop_lab.engine"}
SERVER = "backprop_lab.server"
FORBIDDEN = ("fastapi", "starlette", "uvicorn", "jinja2", "websockets", "pydantic", "httpx", "orjson")


def engine_modules() -> list[str]:
    packages = pkgutil.walk_packages(backprop_lab.engine.__path__, "backprop_lab.engine.")
    return [info.name for info in packages]


def top(name: str) -> str:
    """The package an import belongs to: `backprop_lab.engine` for the engine's own modules."""
    return "backprop_lab.engine" if name.startswith("backprop_lab.engine") else name.split(".")[0]


def imports_of(path: Path) -> set[str]:
    """The packages `path` imports (`top`), wherever in the file, TYPE_CHECKING blocks included."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {top(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(top(node.module))
    return imported


def test_every_engine_file_imports_only_numpy_numba_and_the_standard_library():
    files = sorted((ROOT / "engine").rglob("*.py"))
    assert len(files) >= 20
    for path in files:
        imported = imports_of(path)
        assert imported <= ALLOWED, f"{path.relative_to(ROOT)} imports {sorted(imported - ALLOWED)}"


def test_the_reference_step_imports_numpy_alone():
    assert imports_of(ROOT / "engine" / "reference.py") - set(sys.stdlib_module_names) == {"numpy"}


def test_the_frame_codec_imports_nothing_of_the_engine():
    assert "backprop_lab.engine" not in imports_of(ROOT / "server" / "wire" / "frame_codec.py")


def test_importing_every_engine_module_loads_no_web_package():
    modules = engine_modules()
    assert len(modules) >= 20
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or m.startswith({SERVER!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "", f"engine imported: {result.stdout.strip()}"


def server_imports() -> dict[str, set[str]]:
    """Which of the server's parts (a sub-package, or a top-level module such as `settings`)
    each part imports, from the source (`TYPE_CHECKING` imports count: they are still a
    dependency a reader has to follow)."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "server").rglob("*.py"):
        parts = path.relative_to(ROOT / "server").parts
        part = parts[0] if len(parts) > 1 else path.stem
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{SERVER}."):
                other = node.module.split(".")[2]
                if other != part:
                    graph.setdefault(part, set()).add(other)
    return graph


def test_the_servers_parts_depend_on_each_other_one_way():
    graph = server_imports()
    assert {"wire", "live", "runtime", "analyses", "saved", "classroom", "web", "routes"} <= set(graph) | {"wire"}
    done: set[str] = set()
    while len(done) < len(graph):
        ready = [part for part, needs in graph.items() if part not in done and needs <= done | (needs - set(graph))]
        left = {part: sorted(needs) for part, needs in graph.items() if part not in done}
        assert ready, f"a cycle among the server's parts: {left}"
        done |= set(ready)


def test_the_wire_format_stands_alone():
    """What travels (protocol, frame codec, REST models) imports only the engine's names."""
    assert server_imports().get("wire", set()) == set()
