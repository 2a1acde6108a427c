"""Saved runs from the page: save with a name (HTML in it stays text), open a run and replay it
with the keyboard — the scrubber puts each snapshot's saved weights in the view — rename,
delete, import, PNG pictures of the views, and a reload that comes back to the same session."""

from __future__ import annotations

import json

from browser_helpers import api, session_id, step_count
from playwright.sync_api import expect

HTML_NAME = '<img src=x onerror="window.__owned=1"> spiral & <b>co</b>'

# The store's weights (typed arrays) equal these layers ([{weights: [[…]], biases: […]}]), exactly.
PARAMS_EQUAL = """(layers) => {
  const params = window.__backpropLab.store.params;
  if (!params || params.length !== layers.length) return false;
  return layers.every((layer, l) => {
    const weights = layer.weights.flat();
    return weights.length === params[l].weights.length && weights.every((w, i) => w === params[l].weights[i])
      && layer.biases.every((b, i) => b === params[l].biases[i]);
  });
}"""


def save_from_page(page, name: str) -> dict:
    page.get_by_test_id("run-name-input").fill(name)
    page.get_by_test_id("save-run-button").click()
    first = page.get_by_test_id("run-item").first
    expect(first.get_by_test_id("run-name")).to_have_text(name)
    return first


def test_a_run_saved_from_the_page_replays_its_saved_weights_at_each_snapshot(open_page):
    page, watch = open_page(chart=False)
    original = session_id(page)
    api(watch.base, "POST", f"/api/v1/sessions/{original}/step", {"steps": 300})
    expect(page.get_by_test_id("step-counter")).to_have_text("300")
    item = save_from_page(page, HTML_NAME)
    assert page.locator("[data-testid=runs-list] img, [data-testid=runs-list] b").count() == 0  # text, not markup
    assert page.evaluate("() => window.__owned") is None
    run_id = item.get_attribute("data-run-id")
    run = api(watch.base, "GET", f"/api/v1/runs/{run_id}")
    snapshots = run["snapshots"]
    assert len(snapshots) > 3 and snapshots[-1]["step"] == 300

    item.get_by_test_id("run-open").click()
    page.wait_for_function(f"() => window.__backpropLab.store.sessionId !== {json.dumps(original)}")
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
    expect(page.get_by_test_id("replay")).to_be_visible()
    expect(page.get_by_test_id("step-counter")).to_have_text("300")
    page.wait_for_function(PARAMS_EQUAL, arg=snapshots[-1]["layers"])

    scrubber = page.get_by_test_id("replay-scrubber")
    scrubber.focus()
    page.keyboard.press("Home")
    for index in range(4):  # the first snapshots, one arrow press each
        expect(scrubber).to_have_attribute("data-step", str(snapshots[index]["step"]))
        page.wait_for_function(PARAMS_EQUAL, arg=snapshots[index]["layers"])
        expect(page.get_by_test_id("play-button")).to_be_disabled()  # training waits during a replay
        page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    expect(scrubber).to_have_attribute("data-step", "300")
    page.wait_for_function(PARAMS_EQUAL, arg=snapshots[-1]["layers"])
    expect(page.get_by_test_id("play-button")).to_be_enabled()
    # back at the saved step the session is exactly the saved run: training carries on from it
    resumed = session_id(page)
    assert api(watch.base, "GET", f"/api/v1/sessions/{resumed}/params")["layers"] == snapshots[-1]["layers"]
    page.get_by_test_id("step-button").click()
    expect(page.get_by_test_id("step-counter")).to_have_text("301")
    expect(page.get_by_test_id("replay")).to_be_hidden()
    watch.assert_clean()


def test_a_reload_comes_back_to_the_same_session(open_page):
    page, watch = open_page(chart=False)
    before = session_id(page)
    api(watch.base, "POST", f"/api/v1/sessions/{before}/step", {"steps": 42})
    expect(page.get_by_test_id("step-counter")).to_have_text("42")
    page.reload()
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
    expect(page.get_by_test_id("step-counter")).to_have_text("42")
    assert session_id(page) == before
    watch.assert_clean()


def test_rename_delete_and_import_from_the_keyboard(open_page, tmp_path):
    page, watch = open_page(chart=False)
    item = save_from_page(page, "to be renamed")
    run_id = item.get_attribute("data-run-id")
    item.get_by_role("button", name="New name for the run").click()
    rename = page.locator(f'[data-run-id="{run_id}"] input.run-rename')
    expect(rename).to_be_focused()
    rename.fill("<i>renamed</i>")
    rename.press("Enter")
    row = page.locator(f'[data-run-id="{run_id}"]')
    expect(row.get_by_test_id("run-name")).to_have_text("<i>renamed</i>")
    assert api(watch.base, "GET", f"/api/v1/runs/{run_id}")["name"] == "<i>renamed</i>"

    document = api(watch.base, "GET", f"/api/v1/runs/{run_id}/export")
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    page.get_by_test_id("run-import-input").set_input_files(str(path))
    expect(page.locator("#runs-status")).to_contain_text("Imported")
    assert page.get_by_test_id("run-item").count() >= 2

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**document, "version": 99}))
    page.get_by_test_id("run-import-input").set_input_files(str(bad))
    expect(page.locator("#runs-status")).to_contain_text("version")

    delete = row.get_by_test_id("run-delete")
    delete.click()
    expect(delete).to_have_text("Delete for good?")  # asks once more
    delete.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f'[data-run-id="{run_id}"]')).to_have_count(0)
    assert page.evaluate("async (id) => (await fetch(`/api/v1/runs/${id}`)).status", run_id) == 404
    # the browser logs the two refusals asked for here (the future version, the deleted run), nothing else
    assert [("422" in error, "404" in error) for error in watch.console_errors] == [(True, False), (False, True)]
    assert watch.outside_requests == []


def test_the_network_and_output_views_download_as_png(open_page):
    page, watch = open_page(chart=False)
    for button, name in (("png-network", "backprop-lab-network-circle-step-0.png"),
                         ("png-output", "backprop-lab-output-circle-step-0.png")):
        with page.expect_download() as download:
            page.get_by_test_id(button).click()
        saved = download.value
        assert saved.suggested_filename == name
        with open(saved.path(), "rb") as picture:
            assert picture.read(8) == b"\x89PNG\r\n\x1a\n"
    assert step_count(page) == 0
    watch.assert_clean()


def test_a_run_of_an_uploaded_csv_opens_with_its_data_set_offered(open_page):
    page, watch = open_page(chart=False)
    rows = "".join(f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}\n" for i in range(60))
    upload = page.evaluate(
        """async (text) => {
            const form = new FormData();
            form.append("file", new Blob([text], {type: "text/csv"}), "class list.csv");
            return (await fetch("/api/v1/datasets", {method: "POST", body: form})).json();
        }""",
        "p,q,label\n" + rows,
    )
    sid = api(watch.base, "POST", "/api/v1/sessions", {"dataset": upload["id"], "hidden_layers": [3]})["id"]
    api(watch.base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 20})
    run_id = api(watch.base, "POST", "/api/v1/runs", {"session_id": sid, "name": "uploaded"})["id"]
    page.reload()
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
    page.locator(f'[data-run-id="{run_id}"]').get_by_test_id("run-open").click()
    expect(page.get_by_test_id("replay")).to_be_visible()
    dataset = page.get_by_test_id("dataset")
    expect(dataset.locator("option:checked")).to_contain_text("class list.csv")
    assert dataset.input_value().startswith("csv_") and dataset.input_value() != upload["id"]
    expect(page.get_by_test_id("step-counter")).to_have_text("20")
    watch.assert_clean()
