"""Files a lesson makes (issue 23): a saved run's export and metrics files are named by the run
(a safe file name and its step), an imported run is listed once and marked as imported, and
PNG pictures of the views are large enough for a projector and say what they show."""

from __future__ import annotations

import struct

from browser_helpers import SCREENSHOTS, api, session_id
from playwright.sync_api import expect

NAME = "Kelas 7: spiral ü"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_run_files_are_named_by_the_run_and_an_import_is_listed_once(open_page, tmp_path):
    page, watch = open_page(chart=False)
    api(watch.base, "POST", f"/api/v1/sessions/{session_id(page)}/step", {"steps": 40})
    expect(page.get_by_test_id("step-counter")).to_have_text("40")
    page.get_by_test_id("run-name-input").fill(NAME)
    page.get_by_test_id("save-run-button").click()
    item = page.get_by_test_id("run-item").first
    expect(item.get_by_test_id("run-name")).to_have_text(NAME)

    with page.expect_download() as caught:
        item.locator('[data-action="export"]').click()
    export = caught.value
    assert export.suggested_filename == "Kelas-7-spiral-ü-step-40.json"  # the UTF-8 name (filename*)
    with page.expect_download() as caught:
        item.locator('[data-action="csv"]').click()
    assert caught.value.suggested_filename == "Kelas-7-spiral-ü-step-40-metrics.csv"

    before = api(watch.base, "GET", "/api/v1/runs?limit=100")["total"]
    path = tmp_path / export.suggested_filename
    export.save_as(path)
    page.get_by_test_id("run-import-input").set_input_files(str(path))
    expect(page.locator("#runs-status")).to_contain_text("Imported")
    listed = api(watch.base, "GET", "/api/v1/runs?limit=100")
    assert listed["total"] == before + 1, "one import, one new run"
    names = [run["name"] for run in listed["runs"] if run["name"].startswith(NAME)]
    assert names == [NAME, NAME], "the copy keeps the name: a document round-trips exactly"
    expect(page.get_by_test_id("run-item")).to_have_count(listed["total"] if listed["total"] < 20 else 20)
    # the copy is told apart from the run it was exported from: it says it was imported
    copies = page.get_by_test_id("run-item").filter(has_text=NAME)
    expect(copies).to_have_count(2)
    expect(copies.first.get_by_test_id("run-imported")).to_have_text("imported")  # newest first: the copy
    expect(copies.nth(1).get_by_test_id("run-imported")).to_have_count(0)
    watch.assert_clean()


def test_png_pictures_are_twice_the_view_and_carry_a_caption(open_page):
    page, watch = open_page("#lang=id", width=1366, height=768, chart=False)
    api(watch.base, "POST", f"/api/v1/sessions/{session_id(page)}/step", {"steps": 25})
    page.wait_for_function("() => window.__backpropLab.store.step === 25")
    for button, view, name in (("png-output", "#decision-boundary", "backprop-lab-output-circle-step-25.png"),
                               ("png-network", "#network-view", "backprop-lab-network-circle-step-25.png")):
        box = page.locator(view).bounding_box()
        with page.expect_download() as caught:
            page.get_by_test_id(button).click()
        download = caught.value
        assert download.suggested_filename == name
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}"
        download.save_as(path)
        width, height = png_size(path.read_bytes())
        assert width >= 2 * round(box["width"]) - 1 and height > 2 * box["height"], (width, height, box)
        # the caption strip under the picture holds dark text pixels (the picture above is the view)
        dark = page.evaluate(
            """async (bytes) => {
                const image = await createImageBitmap(new Blob([new Uint8Array(bytes)], {type: "image/png"}));
                const canvas = new OffscreenCanvas(image.width, image.height);
                const context = canvas.getContext("2d");
                context.drawImage(image, 0, 0);
                const strip = context.getImageData(0, image.height - 30, image.width, 30).data;
                let dark = 0;
                for (let k = 0; k < strip.length; k += 4) if (strip[k] < 100) dark++;
                return dark;
            }""",
            list(path.read_bytes()),
        )
        assert dark > 200, "a caption is drawn under the picture"
    caption = page.evaluate("async () => (await import('/static/js/png_export.js')).caption('export.view_output')")
    assert caption.startswith("Backprop Lab · Output dan batas keputusan · kumpulan data: lingkaran · langkah 25")
    assert "kerugian pelatihan 0," in caption
    watch.assert_clean()
