"""CSV injection: the text a user uploads (column names, class labels) and a run's name never
reach a cell of the run's metrics CSV (server/saved/capture.py `metrics_csv`), so a spreadsheet opening
it has no formula to run: its header is the metric names the server chose and every other cell
is a number. (The page's download of the data set does carry such text, neutralised:
tests/browser/test_csv_injection.py.)"""

from __future__ import annotations

import csv
import io

from formula_tables import formula_table

# Cells a spreadsheet would run as formulas, as the column names and class labels of an upload.
COLUMNS = ("=1+2", "@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "+x")
LABELS = ('=HYPERLINK("http://127.0.0.1/")', "+danger", "@me", "-1")


def upload_text(rows: int = 60) -> str:
    return formula_table(COLUMNS, LABELS, rows)


def test_a_runs_metrics_csv_carries_no_uploaded_text(live, http):
    upload = http.post("/api/v1/datasets", files={"file": ("formulas.csv", upload_text().encode(), "text/csv")})
    assert upload.status_code == 201, upload.text
    table = upload.json()
    assert table["features"] == list(COLUMNS) and table["class_names"] == sorted(LABELS)
    sid = live.new_session(dataset=table["id"], hidden_layers=[4])
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 40}).status_code == 200
    run = http.post("/api/v1/runs", json={"session_id": sid, "name": "=cmd|' /C calc'!A0"}).json()
    response = http.get(f"/api/v1/runs/{run['id']}/metrics.csv")
    assert response.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == ["step", "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
    assert rows and all(float(cell) >= 0 for row in rows for cell in row)  # numbers, no text
