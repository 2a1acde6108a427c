"""REST v1 saved runs on a real server: save, list, read, rename, delete, export → import →
export, refused imports naming their problem, resuming bit for bit, metrics as CSV, and a
failing database answered with a 503 that says what failed."""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from store_helpers import damage, on_each_connection, refuse_writes, write_lock_held

from backprop_lab.server.saved.run_store import RunStore


@pytest.fixture(scope="module")
def live(runs_live):
    """This module's server keeps its runs in an SQLite file, then in PostgreSQL (conftest.py);
    test_runs_durable.py runs servers on a database and kills them."""
    return runs_live


def save(http: httpx.Client, session_id: str, name: str = "a run") -> dict:
    response = http.post("/api/v1/runs", json={"session_id": session_id, "name": name})
    assert response.status_code == 201, response.text
    return response.json()


def trained(live, http, steps: int, **config: object) -> str:
    sid = live.new_session(**config)
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": steps}).status_code == 200
    return sid


def weights(http: httpx.Client, session_id: str) -> list[np.ndarray]:
    layers = http.get(f"/api/v1/sessions/{session_id}/params").json()["layers"]
    return [np.array(part, dtype=np.float64) for layer in layers for part in (layer["weights"], layer["biases"])]


def strip(value):  # ids and timestamps may differ
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in ("id", "created", "exported")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def test_a_saved_run_holds_config_history_and_snapshots_up_to_its_step(live, http):
    sid = trained(live, http, 250, dataset="xor", seed=4, hidden_layers=[3])
    saved = save(http, sid, "xor, 250 steps")
    assert saved["step"] == 250 and saved["name"] == "xor, 250 steps"
    assert saved["owner"] == "teacher" and saved["published"] is False  # a server without accounts
    run = http.get(f"/api/v1/runs/{saved['id']}").json()
    assert run["config"]["dataset"] == "xor" and run["config"]["hidden_layers"] == [3]
    assert run["history"][-1]["step"] == 250 and run["history"][0]["step"] == 0
    steps = [snapshot["step"] for snapshot in run["snapshots"]]
    assert steps[0] == 0 and steps[-1] == 250 and steps == sorted(steps) and len(steps) > 2
    last = run["snapshots"][-1]["layers"]
    params = http.get(f"/api/v1/sessions/{sid}/params").json()["layers"]
    assert last == params  # the saved step's weights, exactly
    assert [len(layer["weights"]) for layer in last] == [2, 3]


def test_runs_are_listed_newest_first_and_paged(live, http):
    sid = live.new_session()
    ids = [save(http, sid, f"page {i}")["id"] for i in range(3)]
    listed = http.get("/api/v1/runs", params={"limit": 2}).json()
    assert [r["id"] for r in listed["runs"]] == ids[::-1][:2] and listed["total"] >= 3
    rest = http.get("/api/v1/runs", params={"offset": 2, "limit": 1}).json()
    assert rest["runs"][0]["id"] == ids[0]
    assert http.get("/api/v1/runs", params={"limit": 0}).status_code == 422


def test_rename_and_delete(live, http):
    run_id = save(http, live.new_session())["id"]
    renamed = http.patch(f"/api/v1/runs/{run_id}", json={"name": "<b>bold</b> & co"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "<b>bold</b> & co"
    assert http.get(f"/api/v1/runs/{run_id}").json()["name"] == "<b>bold</b> & co"  # stored as text
    assert http.patch(f"/api/v1/runs/{run_id}", json={"name": "   "}).json()["detail"][0]["loc"] == ["body", "name"]
    assert http.delete(f"/api/v1/runs/{run_id}").status_code == 204
    assert http.get(f"/api/v1/runs/{run_id}").status_code == 404
    assert http.delete(f"/api/v1/runs/{run_id}").status_code == 404
    assert http.patch(f"/api/v1/runs/{run_id}", json={"name": "x"}).status_code == 404


def test_saving_an_unknown_session_is_404(live, http):
    assert http.post("/api/v1/runs", json={"session_id": "nope", "name": "x"}).status_code == 404


CSV = "a,b,label\n" + "".join(f"{i * 0.37 % 3:.3f},{i * 1.13 % 2:.3f},{'xy'[i % 2]}\n" for i in range(120))


def test_a_run_on_an_uploaded_csv_keeps_its_data_and_resumes_bit_for_bit(live, http):
    upload = http.post("/api/v1/datasets", files={"file": ("two classes.csv", CSV.encode(), "text/csv")})
    sid = live.new_session(dataset=upload.json()["id"], optimizer="adam", batch_size=8, hidden_layers=[3])
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 45})
    run_id = save(http, sid, "my own data")["id"]
    document = http.get(f"/api/v1/runs/{run_id}/export").json()
    assert document["run"]["data"]["name"] == "two classes.csv"
    opened = http.post(f"/api/v1/runs/{run_id}/session").json()
    assert opened["step"] == 45 and opened["config"]["dataset"].startswith("csv_")
    assert http.get(f"/api/v1/sessions/{opened['id']}/dataset").json()["class_names"] == ["x", "y"]
    for session_id in (sid, opened["id"]):
        http.post(f"/api/v1/sessions/{session_id}/step", json={"steps": 100})
    for original, again in zip(weights(http, sid), weights(http, opened["id"]), strict=True):
        assert np.array_equal(original, again)
    imported = http.post("/api/v1/runs/import", json=document).json()  # it carries its data too
    assert imported["name"] == "my own data"
    assert strip(http.get(f"/api/v1/runs/{imported['id']}/export").json()) == strip(document)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_export_import_export_is_identical_but_for_ids_and_times(live, http, optimizer):
    sid = trained(live, http, 120, dataset="moons", optimizer=optimizer, learning_rate=0.01, batch_size=7)
    original = save(http, sid, f"round trip ünï <i>x</i> {optimizer}")
    document = http.get(f"/api/v1/runs/{original['id']}/export").json()
    assert document["format"] == "backprop-lab-run" and document["version"] == 2
    imported = http.post("/api/v1/runs/import", json=document)
    assert imported.status_code == 201, imported.text
    assert imported.json()["id"] != original["id"]
    # imported next to the run it came from: the same name (the document round-trips exactly), and
    # the copy says it was imported (the list marks it), the original that it was not
    assert imported.json()["name"] == original["name"]
    assert imported.json()["imported"] == imported.json()["created"] and original.get("imported") is None
    listed = {run["id"]: run for run in http.get("/api/v1/runs").json()["runs"]}
    assert listed[imported.json()["id"]]["imported"] and listed[original["id"]]["imported"] is None
    again = http.get(f"/api/v1/runs/{imported.json()['id']}/export").json()
    assert "imported" not in again["run"]
    assert strip(again) == strip(document)


def a_document(live, http) -> dict:
    sid = trained(live, http, 30, hidden_layers=[3, 2])
    return http.get(f"/api/v1/runs/{save(http, sid)['id']}/export").json()


def _non_finite(doc: dict) -> str:
    doc["run"]["resume"]["parameters"][0] = float("nan")
    return json.dumps(doc)  # writes NaN, which Python's JSON reader (and FastAPI's) parses


def _packed_nan(doc: dict) -> dict:
    rows = np.frombuffer(base64.b64decode(doc["run"]["snapshots"]["data"]), dtype="<f4").copy()
    rows[3] = np.nan
    doc["run"]["snapshots"]["data"] = base64.b64encode(rows.tobytes()).decode()
    return doc


def _packed_short(doc: dict) -> dict:
    doc["run"]["snapshots"]["data"] = base64.b64encode(base64.b64decode(doc["run"]["snapshots"]["data"])[:-4]).decode()
    return doc


def _set(path: tuple, value: object):
    def change(doc: dict) -> dict:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return doc

    return change


MALFORMED = [
    ("bad JSON", lambda doc: '{"format": "backprop-lab-run", "version": 1, "run": {', ["body"], "json_invalid"),
    ("not an object", lambda doc: [], ["body"], "valid dictionary"),
    ("future version", _set(("version",), 3), ["body", "version"], "newer"),
    ("wrong format", _set(("format",), "tensorboard"), ["body", "format"], "literal_error"),
    ("config of the wrong type", _set(("run", "config"), "x"), ["body", "run", "config"], "valid dictionary"),
    ("a learning rate that is text", _set(("run", "config", "learning_rate"), "0.5"),
     ["body", "run", "config", "learning_rate"], "float_type"),
    ("a step that is text", _set(("run", "step"), "ten"), ["body", "run", "step"], "int_type"),
    ("a non-finite weight", _non_finite, ["body", "run", "resume", "parameters", 0], "finite_number"),
    ("a non-finite snapshot", _packed_nan, ["body", "run", "snapshots", "data"], "finite"),
    ("snapshots too short for the config", _packed_short, ["body", "run", "snapshots", "data"], "expected shape"),
    ("snapshots that are not base64", _set(("run", "snapshots", "data"), "@@@"), ["body", "run", "snapshots", "data"],
     "base64"),
    ("a data set drawn differently", _set(("run", "dataset", "sha256"), "0" * 64),
     ["body", "run", "dataset", "sha256"], "not the one the run was trained on"),
    ("resume weights that do not fit", lambda doc: (doc["run"]["resume"]["parameters"].pop(), doc)[1],
     ["body", "run", "resume", "parameters"], "expected shape"),
    ("a negative row in an epoch order", lambda doc: (doc["run"]["resume"]["orders"][0].__setitem__(0, -1), doc)[1],
     ["body", "run", "resume", "orders", 0, 0], "greater_than_equal"),
    ("an epoch order with a repeated row", lambda doc: (doc["run"]["resume"]["orders"][0].__setitem__(
        0, doc["run"]["resume"]["orders"][0][1]), doc)[1], ["body", "run", "resume", "orders"], "permutation"),
    ("too many snapshots", lambda doc: (doc["run"]["snapshots"].__setitem__("steps", [0] * 600), doc)[1],
     ["body", "run", "snapshots", "steps"], "too_long"),
    ("a name with no letters", _set(("run", "name"), "  "), ["body", "run", "name"], "string_pattern_mismatch"),
    ("an unknown field", _set(("run", "weights_please"), 1), ["body", "run", "weights_please"], "extra_forbidden"),
    ("an uploaded data set without its data", _set(("run", "config", "dataset"), "csv_gone"), ["body", "run", "data"],
     "not a built-in data set"),
    ("data that is not a table", lambda doc: _set(("run", "data"), {"name": "t", "csv": "a\n1\n"})(
        _set(("run", "config", "dataset"), "csv_x")(doc)), ["body", "run", "data", "csv"], "csv_error"),
]


@pytest.mark.parametrize(("problem", "change", "loc", "says"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_import_is_422_naming_the_problem(live, http, problem, change, loc, says):
    changed = change(copy.deepcopy(a_document(live, http)))
    body = changed if isinstance(changed, str) else json.dumps(changed)
    response = http.post("/api/v1/runs/import", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"][: len(loc)] == loc
    assert says in error["type"] or says in error["msg"]


def test_an_import_is_the_importer_s_and_unpublished_whatever_the_document_says(live, http):
    from backprop_lab.server.saved import capture
    from backprop_lab.server.saved.run_models import RunDocument
    from backprop_lab.server.settings import Limits

    document = a_document(live, http)
    assert document["run"]["owner"] == "teacher" and document["run"]["published"] is False
    document["run"].update(owner="someone else", published=True)
    imported = http.post("/api/v1/runs/import", json=document)
    assert imported.status_code == 201, imported.text
    assert imported.json()["owner"] == "teacher" and imported.json()["published"] is False
    parsed = RunDocument.model_validate(document)  # what the routes will pass for a signed-in importer
    run = capture.import_run(parsed, *capture.document_config(parsed, Limits()), owner="ana", address="192.0.2.9")
    assert (run.summary.owner, run.summary.published, run.address) == ("ana", False, "192.0.2.9")


def test_an_import_past_the_body_cap_is_413(live, http):
    response = http.post("/api/v1/runs/import", content=b'{"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}',
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_a_resumed_run_trained_100_more_steps_has_the_original_s_weights(live, http, optimizer):
    # 97 steps of 13 on 250 rows: mid-epoch, with optimiser memory; 100 more cross epochs.
    sid = trained(live, http, 97, dataset="spiral", noise=0.1, optimizer=optimizer, learning_rate=0.01,
                  batch_size=13, hidden_layers=[5, 4], regularization="l2", regularization_rate=0.001)
    run_id = save(http, sid)["id"]
    opened = http.post(f"/api/v1/runs/{run_id}/session")
    assert opened.status_code == 201, opened.text
    resumed = opened.json()
    assert resumed["step"] == 97 and resumed["id"] != sid and resumed["state"] == "paused"
    assert resumed["config"] == http.get(f"/api/v1/sessions/{sid}").json()["config"]
    for session_id in (sid, resumed["id"]):
        assert http.post(f"/api/v1/sessions/{session_id}/step", json={"steps": 100}).status_code == 200
    for original, again in zip(weights(http, sid), weights(http, resumed["id"]), strict=True):
        assert np.array_equal(original, again)


def test_a_resumed_session_keeps_the_run_s_loss_curve_and_trajectory(live, http):
    sid = trained(live, http, 5000)  # long enough that the trajectory has thinned itself
    run = http.get(f"/api/v1/runs/{save(http, sid)['id']}").json()
    assert 128 < len(run["snapshots"]) <= 256 and run["snapshots"][-1]["step"] == 5000
    resumed = http.post(f"/api/v1/runs/{run['id']}/session").json()["id"]
    session = live.lab.manager.get(resumed)
    assert [point["step"] for point in session.history.points()] == [point["step"] for point in run["history"]]
    assert session.trajectory.steps == [snapshot["step"] for snapshot in run["snapshots"]]


def test_metrics_come_as_csv_one_row_per_history_point(live, http):
    sid = trained(live, http, 50, dataset="plane")
    run_id = save(http, sid, 'reg "quoted", <tag>')["id"]
    response = http.get(f"/api/v1/runs/{run_id}/metrics.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    history = http.get(f"/api/v1/runs/{run_id}").json()["history"]
    assert list(rows[0]) == ["step", "train_loss", "test_loss", "train_rmse", "test_rmse", "train_r2", "test_r2"]
    assert [int(row["step"]) for row in rows] == [point["step"] for point in history]
    assert float(rows[-1]["train_loss"]) == history[-1]["train_loss"]
    assert http.get("/api/v1/runs/nope/metrics.csv").status_code == 404


def test_every_answer_has_the_shape_the_openapi_document_gives(live, http):
    from backprop_lab.server.saved.run_models import ImportedOut, RunDocumentOut, RunListOut, RunOut, RunSummaryOut
    from backprop_lab.server.wire.session_models import SessionOut

    sid = trained(live, http, 20, dataset="five_class")
    saved = save(http, sid)
    RunSummaryOut.model_validate(saved)
    RunOut.model_validate(http.get(f"/api/v1/runs/{saved['id']}").json())
    RunListOut.model_validate(http.get("/api/v1/runs").json())
    document = http.get(f"/api/v1/runs/{saved['id']}/export").json()
    RunDocumentOut.model_validate(document)
    ImportedOut.model_validate(http.post("/api/v1/runs/import", json=document).json())
    SessionOut.model_validate(http.post(f"/api/v1/runs/{saved['id']}/session").json())


def test_a_name_that_is_not_unicode_text_is_422_not_a_crash(live, http):
    sid = live.new_session()
    run_id = save(http, sid)["id"]
    save_body = '{"session_id": ' + json.dumps(sid) + ', "name": "a\\ud800b"}'
    for method, path, body in (("POST", "/api/v1/runs", save_body),
                               ("PATCH", f"/api/v1/runs/{run_id}", '{"name": "\\udfff"}'),
                               ("POST", "/api/v1/runs/import", '{"version": 1, "\\ud800": 1}')):
        response = http.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][0] == "body"
    assert http.get(f"/api/v1/runs/{run_id}").json()["name"] == "a run"


def test_a_nul_character_in_a_name_tag_or_note_is_422_naming_the_field(live, http):
    sid = live.new_session()
    run_id = save(http, sid)["id"]
    for method, path, body, field in (("POST", "/api/v1/runs", {"session_id": sid, "name": "a\x00b"}, "name"),
                                      ("PATCH", f"/api/v1/runs/{run_id}", {"name": "\x00"}, "name"),
                                      ("PATCH", f"/api/v1/runs/{run_id}", {"tags": ["x\x00y"]}, "tags"),
                                      ("PATCH", f"/api/v1/runs/{run_id}", {"note": "a\x00"}, "note")):
        response = http.request(method, path, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    run = http.get(f"/api/v1/runs/{run_id}").json()
    assert (run["name"], run["tags"], run["note"]) == ("a run", [], "")


def test_a_run_whose_step_passes_32_bits_is_imported_and_read_back(live, http):
    document = http.get(f"/api/v1/runs/{save(http, trained(live, http, 30))['id']}/export").json()
    run = document["run"]
    big = 2**40
    run["step"] += big
    run["resume"]["step"] += big
    run["snapshots"]["steps"] = [step + big for step in run["snapshots"]["steps"]]
    imported = http.post("/api/v1/runs/import", json=document)
    assert imported.status_code == 201, imported.text
    back = http.get(f"/api/v1/runs/{imported.json()['id']}").json()
    assert back["step"] == run["step"] and [shot["step"] for shot in back["snapshots"]] == run["snapshots"]["steps"]


# --- a failing database: 503 with what failed, made for real on the server's database -------------------
I18N = Path(__file__).resolve().parents[2] / "static" / "i18n"


@contextmanager
def full_disk(store: RunStore, database: str) -> Iterator[None]:
    on_each_connection(store, "PRAGMA max_page_count = 1")  # the file cannot grow: SQLITE_FULL
    yield


@contextmanager
def read_only(store: RunStore, database: str) -> Iterator[None]:
    refuse_writes(store)  # SQLITE_READONLY; PostgreSQL's read_only_sql_transaction
    yield


@contextmanager
def held_by_another_program(store: RunStore, database: str) -> Iterator[None]:
    with write_lock_held(store):  # SQLITE_BUSY; PostgreSQL's lock_not_available
        yield


@contextmanager
def damaged(store: RunStore, database: str) -> Iterator[None]:
    with store.engine.connect() as connection:  # every page into the file itself, then no connection open
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.engine.dispose()
    damage(Path(database))  # SQLITE_CORRUPT on the next read
    yield


@contextmanager
def folder_removed(store: RunStore, database: str) -> Iterator[None]:
    store.engine.dispose()
    shutil.rmtree(Path(database).parent)  # SQLITE_CANTOPEN
    yield


@contextmanager
def database_dropped(store: RunStore, database: str) -> Iterator[None]:
    store.engine.dispose()
    url = sa.make_url(database)
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # PostgreSQL: the database no longer exists
        connection.execute(sa.text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
    engine.dispose()
    yield


SQLITE_FAILURES = [("disk_full", full_disk, "save"), ("read_only", read_only, "save"),
                   ("busy", held_by_another_program, "save"), ("damaged", damaged, "read"),
                   ("unavailable", folder_removed, "list")]
# a full disk and a damaged file are SQLite's to make on demand; PostgreSQL's codes for them are
# mapped the same way (run_store.POSTGRESQL_FAILURES)
POSTGRESQL_FAILURES = [("read_only", read_only, "save"), ("busy", held_by_another_program, "save"),
                       ("unavailable", database_dropped, "list")]


def answers_503_saying(live, database: str, code: str, failing, asking: str) -> dict:
    """The 503 a request `asking` gets while `failing` holds; `path` is how the server names its database."""
    with httpx.Client(base_url=live.base, timeout=60) as http:
        sid = trained(live, http, 300, hidden_layers=[16, 16])
        run_id = save(http, sid, "before")["id"]
        store = live.lab.store
        with failing(store, database):
            response = {"save": lambda: http.post("/api/v1/runs", json={"session_id": sid, "name": "during"}),
                        "read": lambda: http.get(f"/api/v1/runs/{run_id}"),
                        "list": lambda: http.get("/api/v1/runs")}[asking]()
            assert response.status_code == 503, response.text
            body = response.json()
            assert body == {"detail": body["detail"], "code": code, "field": None, "params": {"path": store.where}}
            assert response.headers.get("Retry-After") == ("5" if code == "busy" else None)
        if code == "busy":  # the lock let go: the same save now succeeds
            assert http.post("/api/v1/runs", json={"session_id": sid, "name": "after"}).status_code == 201
    english = {"disk_full": "the disk is full", "read_only": "the database is read-only",
               "damaged": f"the database file is damaged: {store.where}", "busy": "the database is busy, try again",
               "unavailable": "the runs database cannot be used right now"}[code]
    assert body["detail"].startswith(english)
    for language in ("en", "id"):  # the page says it in its reader's language
        assert f"refusal.{code}" in json.loads((I18N / f"{language}.json").read_text(encoding="utf-8"))
    return body


@pytest.mark.parametrize(("code", "failing", "asking"), SQLITE_FAILURES,
                         ids=[failure[0] for failure in SQLITE_FAILURES])
def test_a_failing_database_is_a_503_saying_what_failed_in_words_the_page_translates(
        live_factory, tmp_path, code, failing, asking):
    database = tmp_path / "db" / "runs.sqlite3"
    body = answers_503_saying(live_factory(db_path=database), str(database), code, failing, asking)
    assert body["params"] == {"path": str(database)}  # the file as it was given


@pytest.mark.parametrize(("code", "failing", "asking"), POSTGRESQL_FAILURES,
                         ids=[failure[0] for failure in POSTGRESQL_FAILURES])
def test_a_failing_postgresql_database_is_a_503_saying_the_same(live_factory, postgres, code, failing, asking):
    database = postgres.create_database()  # its own: a failure may leave it unusable
    body = answers_503_saying(live_factory(db_path=database), database, code, failing, asking)
    assert body["params"]["path"].endswith(sa.make_url(database).database)
    assert postgres.password not in json.dumps(body)  # the URL named without its password
