"""The page in the rooms a lesson is given in: a school laptop (1366×768), a classroom screen
(1920×1080), an old projector (1024×768) and projector mode, in English and in Indonesian. In
each, the network, the output's decision boundary and the loss chart are on the first screen
together, no menu cuts its choice, and a screenshot of the first screen is kept under
test-output/screenshots/ to be looked at."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import SCREENSHOTS, drawn
from playwright.sync_api import expect

# (width, height, projector mode, whether the Data panel starts folded)
ROOMS = [
    pytest.param(1366, 768, False, False, id="laptop-1366x768"),
    pytest.param(1920, 1080, False, False, id="screen-1920x1080"),
    pytest.param(1024, 768, False, True, id="old-projector-1024x768"),
    pytest.param(1366, 768, True, True, id="projector-mode-1366x768"),
    pytest.param(1024, 768, True, True, id="projector-mode-1024x768"),
]
LESSON_STEP = "lessons/neurons/1"  # the first step of the first lesson
FIRST_SCREEN = {"network-view": 200, "decision-boundary": 200, "loss-chart": 100}  # test id: its least height

# every visible <select>: the width its choice needs (a copy of it sized to its content, in the
# same place so the same font) against the width it has; and the choice's text, measured
SELECT_FITS = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('select')].filter((s) => s.getClientRects().length).map((select) => {
    const copy = select.cloneNode(true);
    copy.removeAttribute('id');
    copy.style.cssText = 'position:absolute;visibility:hidden;width:auto;min-width:0;max-width:none;'
      + 'field-sizing:content';
    copy.selectedIndex = select.selectedIndex;
    select.parentElement.append(copy);
    const needs = copy.getBoundingClientRect().width;
    copy.remove();
    const style = getComputedStyle(select);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const text = select.options[select.selectedIndex]?.text ?? '';
    const inner = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {id: select.id, text, text_width: canvas.measureText(text).width, inner, needs,
            has: select.getBoundingClientRect().width};
  });
}"""


def open_room(open_page: Any, width: int, height: int, projector: bool, lang: str, path: str = "") -> Any:
    hash_ = f"{path}#lang={lang}" + ("&projector=1" if projector else "")
    page, watch = open_page(hash_, width=width, height=height, reduced_motion=True)
    if projector:
        page.wait_for_selector("html.projector")
    page.wait_for_function("() => document.querySelector('#loss-chart .main-svg') !== null")
    page.wait_for_function("() => window.__backpropLab.store.heatmaps !== null")
    drawn(page)
    return page, watch


@pytest.mark.parametrize("lesson", [False, True], ids=["lab", "lesson-step"])
@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize(("width", "height", "projector", "folded"), ROOMS)
def test_the_network_the_boundary_and_the_loss_chart_share_the_first_screen(
    open_page, width, height, projector, folded, lang, lesson
):
    # a lesson step's panel takes the Data panel's column (folded to a bar), its text and task beside
    # the three views
    page, watch = open_room(open_page, width, height, projector, lang, LESSON_STEP if lesson else "")
    toggle = page.get_by_test_id("data-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false" if folded or lesson else "true")
    if folded or lesson:
        expect(page.get_by_test_id("dataset")).to_be_hidden()
    else:
        expect(page.get_by_test_id("dataset")).to_be_visible()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the first screen, kept to be looked at
    room = f"{width}x{height}" + ("-projector" if projector else "") + ("-lesson" if lesson else "")
    page.screenshot(path=str(SCREENSHOTS / f"layout-{room}-{lang}.png"))

    assert page.evaluate("() => window.scrollY") == 0
    for test_id, least in FIRST_SCREEN.items():
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None, test_id
        inside = box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] + box["width"] <= width
        assert inside and box["height"] >= least, f"{test_id} at {box} is not all on the {width}×{height} screen"
    # nothing spills sideways, and the output column shows all it holds (the confusion matrix
    # included) without a scroll bar of its own
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    output = page.evaluate(
        "() => { const o = document.getElementById('output-panel'); return [o.scrollHeight, o.clientHeight]; }"
    )
    assert output[0] <= output[1] + 1, f"the output panel needs {output[0]}px and has {output[1]}px"
    confusion = page.locator("#confusion table").bounding_box()
    assert confusion is not None and confusion["y"] + confusion["height"] <= height

    if lesson:  # the step's panel is whole on the first screen, its task and next in sight
        for test_id in ("lesson-panel", "lesson-task", "lesson-next"):
            box = page.get_by_test_id(test_id).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (test_id, box)
        expect(page.get_by_test_id("lesson-text")).not_to_be_empty()

    cut = [s for s in page.evaluate(SELECT_FITS) if s["has"] + 0.5 < s["needs"] or s["text_width"] > s["inner"]]
    assert cut == [], f"menus whose choice does not fit: {cut}"

    watch.assert_clean()


def test_the_folded_data_panel_opens_and_closes_from_the_keyboard(open_page):
    page, _ = open_page("#dataset=xor", width=1024, height=768, chart=False)
    toggle = page.get_by_test_id("data-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("dataset")).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("dataset")).to_be_visible()
    expect(page.get_by_test_id("dataset")).to_have_value("xor")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("dataset")).to_be_hidden()

    # the reader's choice holds until the room changes: projector mode on folds it, off at a
    # wide screen opens it again
    page.keyboard.press("Enter")
    page.set_viewport_size({"width": 1366, "height": 768})
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.get_by_test_id("projector-toggle").click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.get_by_test_id("projector-toggle").click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def test_the_inspector_and_the_narration_come_into_view_when_opened(open_page):
    page, _ = open_page(width=1366, height=768, reduced_motion=True, chart=False)
    inspector = page.get_by_test_id("neuron-inspector")
    assert inspector.bounding_box()["y"] >= 768 * 0.85, "the inspector starts below the first screen"
    page.locator('.neuron-hit[data-column="1"][data-index="0"]').click()
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="z"]')
    page.wait_for_function(
        "() => document.getElementById('neuron-inspector').getBoundingClientRect().top < innerHeight * 0.6 + 1"
    )
    # its maths at reading size, in a panel as tall as it needs
    sizes = page.evaluate(
        """() => { const i = document.getElementById('neuron-inspector');
                   return [parseFloat(getComputedStyle(i.querySelector('.eq')).fontSize),
                           parseFloat(getComputedStyle(document.documentElement).fontSize),
                           i.scrollHeight - i.clientHeight]; }"""
    )
    assert sizes[0] >= 0.9 * sizes[1] and sizes[2] <= 1, sizes
    # the network's lower part stays in sight above it
    network = page.get_by_test_id("network-view").bounding_box()
    assert network["y"] + network["height"] > 0.1 * 768, network
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "layout-1366x768-inspector-opened.png"))

    page.evaluate("() => window.scrollTo(0, 0)")
    page.get_by_test_id("phase-step-button").click()
    page.wait_for_selector('#phase-track li.current[data-index="0"]')
    page.wait_for_function("() => document.getElementById('narration').getBoundingClientRect().top < innerHeight")
    page.screenshot(path=str(SCREENSHOTS / "layout-1366x768-narration-opened.png"))


def test_numbers_on_the_edges_are_plain_decimals_a_class_can_read(open_page):
    page, _ = open_page(chart=False)
    shown = page.evaluate(
        """async () => {
            const { plainDecimal } = await import('/static/js/format.js');
            return [[4.21e-5, 'id'], [-0.30215, 'en'], [-0.30215, 'id'], [1e-9, 'id'], [123456.7, 'id'], [0, 'en']]
              .map(([value, lang]) => plainDecimal(value, 3, lang));
        }"""
    )
    assert shown == ["0,00004", "−0.302", "−0,302", "≈ 0", "123.457", "0"]
