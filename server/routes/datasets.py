"""REST v1: upload a CSV as a data set. Its id then works as `dataset` in a config."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, File, UploadFile

from backprop_lab.engine.datasets import is_regression_dataset
from backprop_lab.engine.tabular import CsvError, Table, parse_csv
from backprop_lab.server.deps import IdentityDep, ManagerDep, SettingsDep
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.error_models import ErrorOut, error_responses
from backprop_lab.server.wire.problems import InvalidInput
from backprop_lab.server.wire.session_models import UploadOut

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    responses={400: {"model": ErrorOut, "description": "Not a multipart upload."}, **error_responses(413, 429)},
    summary="Upload a CSV: a header line, numeric input columns, the target in the last column",
    description="Multipart, field `file`. Text or whole-number targets make a classification set, other numbers "
    "regression. The answer's `id` then works as `dataset` in a config. A bad file is a 422 at `file` whose `code` "
    "and `params` name the row and the column; past the row, column or upload caps a 422 or 429 naming the cap.",
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"example": {
        "file": "sepal,petal,kind\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n"}}}}},
)
async def upload_dataset(
    manager: ManagerDep,
    settings: SettingsDep,
    identity: IdentityDep,
    file: Annotated[UploadFile, File(description="The CSV file (UTF-8).")],
) -> JSONBody:
    data = await file.read()
    name = (file.filename or "upload").rsplit("/", 1)[-1][:64] or "upload"
    limits = settings.limits
    try:
        table: Table = await anyio.to_thread.run_sync(
            lambda: parse_csv(data, name=name, max_rows=limits.max_rows, max_columns=limits.max_columns)
        )
    except CsvError as error:  # names the row and the column, for the student fixing the file
        params = {**error.params, "row": error.row, "column": error.column}
        raise InvalidInput(("body", "file"), f"{name}: {error}", "csv_error", error.code, params) from None
    table_id = manager.add_table(table, identity)
    return JSONBody(
        {
            "id": table_id,
            "name": name,
            "features": list(table.column_names),
            "target": table.target_name,
            "regression": is_regression_dataset(table_id, table),
            "classes": table.classes,
            "class_names": None if table.class_names is None else list(table.class_names),
            "rows": table.rows,
        },
        status_code=201,
    )
