"""REST v1 weights as files (docs/api.md, "Weights as files"): a session's or a saved run's
weights and biases as `.npz` and `.safetensors`, in PyTorch's layout
(`backprop_lab.server.wire.weight_files`).

The same owners as the JSON routes: a session its owner (or the teacher) controls, a run its
owner sees or one that is published; anyone else's answers 404, as an unknown id does. A run's
file holds its saved step's weights, exactly (float64, as the run keeps them to resume).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Response

from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.deps import IdentityDep, SessionDep, StoreDep
from backprop_lab.server.routes.runs import RunIdPath, json_refusals, stored_run
from backprop_lab.server.saved.file_names import attachment
from backprop_lab.server.saved.run_store import StoredRun
from backprop_lab.server.web.query import known_query
from backprop_lab.server.wire.error_models import UNAUTHORIZED, error_responses
from backprop_lab.server.wire.weight_files import npz_bytes, safetensors_bytes, torch_tensors

router = APIRouter(tags=["weights"], dependencies=[Depends(known_query)])
MEDIA = "application/octet-stream"
LAYOUT_NOTE = (
    "PyTorch's layout: `layers.{l}.weight` (n_out × n_in, the JSON `weights` transposed) and "
    "`layers.{l}.bias` (n_out), float64, l counted from 0 from the first hidden layer."
)


def _binary(description: str, refusals: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {MEDIA: {"schema": {"type": "string", "format": "binary"}}}, "description": description},
            **refusals}


def _session_refusals() -> dict[int | str, dict[str, Any]]:
    """404, and what any route may answer (401; 503 while the engine is prepared), whose bodies are
    JSON even where the success is a file (FastAPI would document them in the file's media type)."""
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    preparing: dict[int | str, dict[str, Any]] = {503: {
        "description": "The engine is being prepared (a first start compiles it): `code` `engine_preparing` "
        "(docs/api.md, \"Errors\")."}}
    return {code: {"description": entry["description"], "content": {"application/json": {"schema": schema}}}
            for code, entry in {**UNAUTHORIZED, **error_responses(404), **preparing}.items()}


class WeightsFile(Response):
    media_type = MEDIA


def _about(layout: ParameterLayout, config: dict[str, Any], step: int) -> dict[str, Any]:
    """What a file's header says of its network (safetensors' metadata)."""
    return {"layer_sizes": list(layout.layer_sizes), "activation": config["activation"],
            "output": "softmax" if config["loss"] == "cross_entropy" else "linear", "step": step, "config": config}


async def _session_weights(session: SessionDep) -> tuple[ParameterLayout, np.ndarray, dict[str, Any], int]:
    def read(trainer: Trainer) -> tuple[ParameterLayout, np.ndarray, dict[str, Any], int]:
        network = trainer.network
        return network.layout, network.parameters.copy(), trainer.config.as_dict(), trainer.step_count

    return await session.read(read)


def _run_weights(run: StoredRun) -> tuple[ParameterLayout, np.ndarray]:
    layout = ParameterLayout(tuple(run.resume["layer_sizes"]))
    return layout, np.asarray(run.resume["parameters"], dtype=np.float64)  # (P,) the saved step's θ


@router.get("/api/v1/sessions/{session_id}/params.npz", response_class=WeightsFile,
            operation_id="session_params_npz", summary="The session's weights as a NumPy .npz file",
            description=f"`numpy.load` gives a dict of arrays. {LAYOUT_NOTE}",
            responses=_binary("An uncompressed .npz (numpy.savez).", _session_refusals()))
async def session_npz(session: SessionDep) -> Response:
    layout, parameters, config, step = await _session_weights(session)
    disposition = attachment(f"session-{session.id[:8]}", step, ".npz")
    return WeightsFile(npz_bytes(torch_tensors(layout, parameters)), headers={"Content-Disposition": disposition})


@router.get("/api/v1/sessions/{session_id}/params.safetensors", response_class=WeightsFile,
            operation_id="session_params_safetensors",
            summary="The session's weights as a .safetensors file (PyTorch, Hugging Face)",
            description=f"`safetensors.torch.load_file` or `safetensors.numpy.load_file` reads it. {LAYOUT_NOTE} "
            "The header's metadata (JSON text) gives `layer_sizes`, `activation`, `output`, `step` and `config`.",
            responses=_binary("A .safetensors file.", _session_refusals()))
async def session_safetensors(session: SessionDep) -> Response:
    layout, parameters, config, step = await _session_weights(session)
    body = safetensors_bytes(torch_tensors(layout, parameters), _about(layout, config, step))
    return WeightsFile(body, headers={"Content-Disposition": attachment(f"session-{session.id[:8]}", step,
                                                                        ".safetensors")})


@router.get("/api/v1/runs/{run_id}/params.npz", response_class=WeightsFile, operation_id="run_params_npz",
            summary="A saved run's weights at its step as a NumPy .npz file",
            description=f"Exactly the weights the run resumes from. {LAYOUT_NOTE}",
            responses=_binary("An uncompressed .npz (numpy.savez).", json_refusals(404)))
async def run_npz(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await stored_run(store, run_id, identity)
    layout, parameters = _run_weights(run)
    return WeightsFile(npz_bytes(torch_tensors(layout, parameters)),
                       headers={"Content-Disposition": attachment(run.summary.name, run.summary.step, ".npz")})


@router.get("/api/v1/runs/{run_id}/params.safetensors", response_class=WeightsFile,
            operation_id="run_params_safetensors",
            summary="A saved run's weights at its step as a .safetensors file (PyTorch, Hugging Face)",
            description=f"Exactly the weights the run resumes from. {LAYOUT_NOTE} The header's metadata (JSON "
            "text) gives `layer_sizes`, `activation`, `output`, `step` and `config`.",
            responses=_binary("A .safetensors file.", json_refusals(404)))
async def run_safetensors(run_id: RunIdPath, store: StoreDep, identity: IdentityDep) -> Response:
    run = await stored_run(store, run_id, identity)
    layout, parameters = _run_weights(run)
    body = safetensors_bytes(torch_tensors(layout, parameters), _about(layout, run.summary.config, run.summary.step))
    return WeightsFile(body, headers={"Content-Disposition": attachment(run.summary.name, run.summary.step,
                                                                        ".safetensors")})
