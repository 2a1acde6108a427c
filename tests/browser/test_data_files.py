"""The user's own data and files: CSV upload by file picker or drag and drop (errors named by
row and column), weights as JSON and the data set as CSV, and the regression metrics."""

from __future__ import annotations

import csv
import json
import re

from browser_helpers import api, screenshot, session_id
from playwright.sync_api import expect


def test_a_bad_csv_is_refused_with_its_row_and_column_and_a_good_one_is_trained_on(open_page, tmp_path):
    page, _ = open_page(chart=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    page.locator("#csv-file").set_input_files(str(bad))
    status = page.locator("#upload-status")
    page.wait_for_function("() => document.querySelector('#upload-status').classList.contains('error')")
    message = status.inner_text()
    assert "bad.csv" in message and "3" in message and "b" in message, message
    good = tmp_path / "good.csv"
    good.write_text("a,b,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40)))
    page.locator("#csv-file").set_input_files(str(good))
    page.wait_for_function(
        "() => window.__backpropLab.store.dataset && window.__backpropLab.store.dataset.planar === false"
    )
    expect(page.locator(".neuron-hit[data-column='0']")).to_have_count(2)
    screenshot(page, "10-uploaded-csv")


def test_a_csv_dropped_on_the_page_is_uploaded(open_page):
    page, _ = open_page(chart=False)
    text = "p,q,kind\n" + "".join(f"{i % 5},{(i * 7) % 3},{'a' if i % 3 else 'b'}\n" for i in range(30))
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], 'dropped.csv', {type: 'text/csv'}));
            const zone = document.getElementById('dropzone');
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: data, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        text,
    )
    page.wait_for_function(
        "() => window.__backpropLab.store.dataset && window.__backpropLab.store.dataset.planar === false"
    )
    expect(page.locator("#upload-status")).to_contain_text("dropped.csv")
    # the store has the new data set before the render loop selects it in the list
    page.wait_for_function(
        "() => { const s = document.querySelector('[data-testid=dataset]');"
        " return s.options[s.selectedIndex]?.textContent.endsWith('dropped.csv'); }"
    )


def test_the_weights_download_as_json_and_the_data_set_as_csv_that_uploads_again(open_page, tmp_path):
    page, watch = open_page(chart=False)
    page.get_by_test_id("step-button").click()
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '1'")
    with page.expect_download() as weights_download:
        page.locator("#download-weights").click()
    weights = json.loads(weights_download.value.path().read_text())
    assert weights["step"] == 1
    assert weights["layers"] == api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}/params")["layers"]

    with page.expect_download() as data_download:
        page.locator("#download-dataset").click()
    path = tmp_path / "circle.csv"
    data_download.value.save_as(path)
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["x1", "x2", "class"]
    assert len(rows) == 1 + 500
    # the file is in the upload format: it comes back as a data set of its own
    page.locator("#csv-file").set_input_files(str(path))
    page.wait_for_function(
        "() => window.__backpropLab.store.dataset && window.__backpropLab.store.dataset.planar === false"
    )
    expect(page.locator("#upload-status")).to_have_text(re.compile(r"^circle\.csv: 500 rows"))


def test_a_regression_set_shows_rmse_and_r2_instead_of_accuracy(open_page):
    page, _ = open_page("#dataset=plane&loss=mse", chart=False)
    expect(page.locator("#train-rmse")).to_be_visible()
    expect(page.locator("#test-r2")).to_be_visible()
    expect(page.locator("#train-accuracy")).to_be_hidden()
    expect(page.locator("#train-rmse")).to_have_text(re.compile(r"^\d"))  # "–" until the first metrics
    assert float(page.locator("#train-rmse").inner_text()) > 0
    expect(page.locator("#softmax-view")).to_be_hidden()
    screenshot(page, "12-regression")


def test_a_classification_set_shows_the_engines_confusion_matrix(open_page):
    page, watch = open_page("#dataset=five_class&noise=0.5&hidden_layers=6", chart=False)
    page.get_by_test_id("step-button").click()  # a paused step: metrics stand still for the comparison
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '1'")
    session = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")
    expected = session["metrics"]["test_confusion"]
    page.wait_for_function(
        "(rows) => [...document.querySelectorAll('#confusion tr')].slice(1)"
        "  .map(tr => [...tr.querySelectorAll('td')].map(td => Number(td.textContent)))"
        "  .every((row, k) => JSON.stringify(row) === JSON.stringify(rows[k]))",
        arg=expected,
    )
    expect(page.locator("#confusion td")).to_have_count(25)
    assert sum(map(sum, expected)) == 250
