"""`Client.datasets`: a CSV uploaded from text, bytes or a file becomes a data set a session
trains on; a bad file is an ApiError naming its row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_lab.client import ApiError, Client

CSV = "width,height,kind\n" + "".join(f"{i % 7}.5,{(3 * i) % 5}.25,{'ab'[i % 2]}\n" for i in range(40))


def test_an_uploaded_file_is_a_data_set_a_session_trains_on(lab: Client, tmp_path: Path):
    path = tmp_path / "shapes.csv"
    path.write_text(CSV)
    upload = lab.datasets.upload(path)
    assert (upload.name, upload.features, upload.target, upload.rows) == ("shapes.csv", ["width", "height"], "kind", 40)
    assert not upload.regression and upload.classes == 2 and upload.class_names == ["a", "b"]
    session = lab.sessions.create(dataset=upload.id, hidden_layers=[3])
    assert session.layer_sizes == [2, 3, 2] and lab.sessions.step(session.id, 10).step == 10
    assert lab.sessions.dataset(session.id).features == ["width", "height"]
    lab.sessions.delete(session.id)


def test_text_and_bytes_upload_alike(lab: Client):
    from_text = lab.datasets.upload(CSV, name="text.csv")
    from_bytes = lab.datasets.upload(CSV.encode())
    assert (from_text.name, from_bytes.name) == ("text.csv", "upload.csv")
    assert from_text.id != from_bytes.id and from_text.rows == from_bytes.rows == 40


def test_a_bad_file_names_its_row_and_column(lab: Client):
    with pytest.raises(ApiError) as refused:
        lab.datasets.upload("a,b,label\n1,2,x\n3,oops,y\n", name="bad.csv")
    error = refused.value
    assert (error.status, error.code, error.field) == (422, "not_a_number", "file")
    assert error.params["row"] == 3 and error.params["column"] == "b" and error.params["value"] == "oops"
