"""The runs panel's tags, note and comparison: runs ticked from the keyboard and compared (their
loss curves overlaid in one chart, a table of the settings that differ), tags and a note edited
in a run's row and kept by the server, in English and in Indonesian."""

from __future__ import annotations

from browser_helpers import SCREENSHOTS, api
from playwright.sync_api import expect

TRACES = "() => document.querySelector('[data-testid=runs-compare-chart]').data?.length ?? 0"
FITS = """() => {
  const chart = document.querySelector('[data-testid=runs-compare-chart]');
  const panel = document.querySelector('[data-testid=runs-panel]').getBoundingClientRect();
  const svg = chart.querySelector('svg.main-svg')?.getBoundingClientRect();
  return svg !== undefined && svg.right <= panel.right + 1;
}"""


def screenshot(page, name: str) -> None:
    """The runs panel alone, to look at (test-output/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("runs-panel").screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def saved_runs(base: str) -> list[dict]:
    """Two runs that differ in their learning rate and activation, newest last."""
    runs = []
    for name, rate, activation in (("slow <b>tanh</b>", 0.03, "tanh"), ("fast relu", 0.3, "relu")):
        session = api(base, "POST", "/api/v1/sessions", {"learning_rate": rate, "activation": activation})
        api(base, "POST", f"/api/v1/sessions/{session['id']}/step", {"steps": 200, "record_every": 20})
        runs.append(api(base, "POST", "/api/v1/runs", {"session_id": session["id"], "name": name}))
    return runs


def test_two_runs_ticked_from_the_keyboard_are_compared_in_a_chart_and_a_table(open_page, server):
    slow, fast = saved_runs(server)
    page, watch = open_page(width=1366, height=768)
    rows = {run["id"]: page.locator(f'[data-testid=run-item][data-run-id="{run["id"]}"]') for run in (slow, fast)}
    button = page.get_by_test_id("runs-compare-button")
    expect(button).to_be_disabled()
    for run in (fast, slow):
        box = rows[run["id"]].get_by_test_id("run-select")
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    expect(button).to_be_enabled()
    button.focus()
    page.keyboard.press("Enter")
    view = page.get_by_test_id("runs-compare")
    expect(view).to_be_visible()
    page.wait_for_function(f"() => ({TRACES})() === 4")  # each run's training and test loss
    table = page.get_by_test_id("runs-compare-table")
    expect(table.locator("tr[data-field=learning_rate] td")).to_have_text(["0.3", "0.03"])  # the list's order
    expect(table.locator("tr[data-field=activation] td")).to_have_text(["ReLU", "tanh"])
    expect(table.locator("tr[data-field=dataset]")).to_have_count(0)  # the same in both: not listed
    assert table.locator("b").count() == 0  # a name is text
    view.scroll_into_view_if_needed()
    screenshot(page, "runs-compare-en-1366")

    page.get_by_test_id("language-select").select_option("id")
    expect(table.locator("caption")).to_have_text("Pengaturan yang berbeda")
    expect(table.locator("tr[data-field=learning_rate] td")).to_have_text(["0,3", "0,03"])
    expect(button).to_have_text("Bandingkan rekaman terpilih (2)")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_function(FITS)  # the chart follows the narrower panel
    view.scroll_into_view_if_needed()
    screenshot(page, "runs-compare-id-1024")

    page.get_by_test_id("runs-compare-close").click()
    expect(view).to_be_hidden()
    expect(button).to_be_focused()
    watch.assert_clean()


def test_tags_and_a_note_edited_in_a_runs_row_are_kept_by_the_server(open_page, server):
    (run, _) = saved_runs(server)
    page, watch = open_page(width=1024, height=768, chart=False)
    row = page.locator(f'[data-testid=run-item][data-run-id="{run["id"]}"]')
    row.get_by_test_id("run-organise").click()
    tags = row.get_by_test_id("run-tags-input")
    expect(tags).to_be_focused()
    row.get_by_test_id("run-note-input").fill("Batas keputusan <i>muncul</i> di langkah 150.")
    tags.fill("sweep, lesson 3, sweep")
    tags.press("Enter")
    expect(row.get_by_test_id("run-tags").locator(".run-tag")).to_have_text(["lesson 3", "sweep"])
    expect(row.get_by_test_id("run-note")).to_have_text("Batas keputusan <i>muncul</i> di langkah 150.")
    kept = api(server, "GET", f"/api/v1/runs/{run['id']}")
    assert kept["tags"] == ["lesson 3", "sweep"] and kept["note"].startswith("Batas keputusan <i>")
    assert api(server, "GET", "/api/v1/runs?tag=lesson%203")["runs"][0]["id"] == run["id"]
    screenshot(page, "runs-tags-en-1024")

    page.get_by_test_id("language-select").select_option("id")
    row.get_by_test_id("run-organise").click()
    expect(row.get_by_test_id("run-organise-save")).to_have_text("Simpan tag dan catatan")
    page.keyboard.press("Escape")  # leaves them as they were
    expect(row.get_by_test_id("run-organiser")).to_have_count(0)
    expect(row.get_by_test_id("run-organise")).to_be_focused()
    page.set_viewport_size({"width": 1366, "height": 768})
    screenshot(page, "runs-tags-id-1366")
    watch.assert_clean()
