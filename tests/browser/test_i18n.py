"""Languages: switching to Bahasa Indonesia rewrites every label without a reload, leaves no
English in the controls, and is remembered (localStorage) and carried in the URL."""

from __future__ import annotations

import json
import re

from browser_helpers import ROOT, api, drawn, screenshot
from playwright.sync_api import expect

EN = json.loads((ROOT / "static/i18n/en.json").read_text())
ID = json.loads((ROOT / "static/i18n/id.json").read_text())

# the regions with controls and labels (the narration and inspector hold numbers and prose)
REGIONS = [".topbar", "#data-panel", "#network-panel .panel-head", ".layer-buttons", "#output-panel", ".lower",
           "#loss-surface-view"]


def english_left(text: str) -> list[str]:
    """English UI strings (those that differ in Indonesian) that occur in `text`."""
    found = []
    for key, english in EN.items():
        if english == ID.get(key) or "{" in english or len(english) < 4:
            continue
        if re.search(rf"(?<![\w]){re.escape(english)}(?![\w])", text):
            found.append(f"{key}: {english!r}")
    return found


def visible_text(page) -> str:
    return "\n".join(page.locator(region).first.inner_text() for region in REGIONS)


def attribute_text(page) -> str:
    return page.evaluate(
        """() => [...document.querySelectorAll('[aria-label], [title], [data-help]')]
            .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.dataset.help].join('\\n'))
            .join('\\n')"""
    )


def test_indonesian_changes_every_label_without_a_reload_and_is_remembered(open_page):
    page, watch = open_page()
    assert english_left(visible_text(page)), "the check itself must see English first"
    page.evaluate("() => { window.__notReloaded = true; }")
    page.get_by_test_id("language-select").select_option("id")
    page.wait_for_function("() => document.documentElement.lang === 'id'")
    # the template's text is rewritten at once; what renderers build is redrawn on the next frame
    expect(page.get_by_test_id("play-button")).to_have_text(re.compile(r"Putar\s*$"))
    drawn(page)
    assert page.evaluate("() => window.__notReloaded") is True
    assert english_left(visible_text(page)) == []
    assert english_left(attribute_text(page)) == []
    page.wait_for_function("() => location.hash.includes('lang=id')")
    screenshot(page, "08-indonesian")

    # the choice survives a reload (localStorage), and a link carries it (URL)
    page.reload()
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
    expect(page.get_by_test_id("language-select")).to_have_value("id")
    watch.assert_clean()


def test_a_link_with_lang_id_opens_in_indonesian(open_page):
    page, _ = open_page("#lang=id&dataset=xor")
    assert page.evaluate("() => document.documentElement.lang") == "id"
    expect(page.get_by_test_id("language-select")).to_have_value("id")
    expect(page.get_by_test_id("connection-status")).to_have_text("Terhubung")
    expect(page.get_by_test_id("dataset")).to_have_value("xor")


def learning_rate_message(template: str, base: str) -> str:
    """The message with the range the server's options give (the page fills it in the same way)."""
    ui = api(base, "GET", "/api/v1/options")["ranges"]["learning_rate"]["ui"]
    return template.format(min=f"{ui['min']:g}", max=f"{ui['max']:g}")


def test_messages_already_showing_are_reworded_when_the_language_changes(open_page, tmp_path):
    page, watch = open_page(chart=False)
    rate = page.get_by_test_id("learning-rate")
    rate.fill("5000")  # above the cap of 1000
    rate.press("Enter")
    toast = page.locator("#toasts .toast").first
    toast.wait_for()
    assert learning_rate_message(EN["error.learning_rate"], watch.base) in toast.inner_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    page.locator("#csv-file").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('#upload-status').classList.contains('error')")
    assert page.locator("#upload-status").inner_text().startswith("bad.csv was not accepted:")

    page.get_by_test_id("language-select").select_option("id")
    page.wait_for_function("() => document.documentElement.lang === 'id'")
    page.wait_for_function(
        "(text) => document.querySelector('#toasts .toast')?.textContent.includes(text)",
        arg=learning_rate_message(ID["error.learning_rate"], watch.base),
    )
    assert page.locator("#upload-status").inner_text().startswith("bad.csv ditolak:")


def test_a_language_that_cannot_load_leaves_the_select_showing_the_language_in_use(open_page):
    page, _ = open_page(chart=False)
    page.route("**/static/i18n/id.json", lambda route: route.fulfill(status=503, body="unavailable"))
    page.get_by_test_id("language-select").select_option("id")
    expect(page.locator("#toasts .toast").first).to_contain_text("id translations")
    expect(page.get_by_test_id("language-select")).to_have_value("en")
    assert page.evaluate("() => document.documentElement.lang") == "en"
