"""Lesson links (issue 20, point 3; docs/lessons.md, "Lesson links"): a link sets up the lab for
whoever opens it (the network and data, the pace, the language) and hides the panels the teacher
chose, for a student with a session of their own and for a viewer of a shared one; the builder
makes such a link from the page, and a bad link still opens, saying what it ignored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import PLOTLY_STAND_IN, drawn, screenshot
from playwright.sync_api import expect
from test_accessibility import serious_violations

# every panel a link can hide: its name in the URL → its element's id (static/js/link_params.js)
PANELS = {
    "data": "data-panel",
    "hyperparameters": "hyper-form",
    "network": "network-panel",
    "output": "output-panel",
    "loss_chart": "chart-panel",
    "teaching": "teaching-panel",
    "inspector": "neuron-inspector",
    "gradient_check": "gradcheck-panel",
    "saved_runs": "runs-panel",
    "loss_surface": "loss-surface-view",
    "lr_lab": "lr-lab",
}
# what a viewer's page never shows anyway (the controls that would steer the presenter's session)
VIEWER_ABSENT = {"data", "hyperparameters", "gradient_check"}


@pytest.fixture
def visit(browser: Any, server: str) -> Iterator[Any]:
    """`visit(path)` → (page, errors): a page of a new browser context (its own cookies, its own
    session), opened at `path` and connected; `errors` collects its console errors."""
    contexts = []

    def _open(path: str, width: int = 1366, height: int = 768) -> tuple[Any, list[str]]:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_init_script(RECORD_SENT)
        context.route(
            "**/vendor/plotly.min.js", lambda route: route.fulfill(body=PLOTLY_STAND_IN, content_type="text/javascript")
        )
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.goto(path if path.startswith("http") else f"{server}{path}")
        # not wait_connected: it waits for the network's neurons, which a link may hide
        page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
        page.wait_for_function("() => window.__backpropLab.store.network !== null")
        return page, errors

    yield _open
    for context in contexts:
        context.close()


def expect_hidden_exactly(page: Any, hidden: set[str], absent: frozenset[str] = frozenset()) -> None:
    for name, element_id in PANELS.items():
        panel = page.locator(f"#{element_id}")
        if name in hidden or name in absent:
            expect(panel).to_be_hidden()
        else:
            expect(panel).to_be_visible()


# the page's socket lives in a worker (static/js/socket.js): the messages the page sends pass
# through Worker.postMessage, recorded here so a test can say what a key press sent
RECORD_SENT = """
const post = Worker.prototype.postMessage;
window.__sent = [];
Worker.prototype.postMessage = function (data, ...rest) {
  if (data && data.cmd === "send") window.__sent.push(JSON.parse(data.text).type);
  return post.call(this, data, ...rest);
};
"""


SET_HIDE = "(names) => { location.hash = location.hash.replace(/hide=[^&]*/, `hide=${names}`); }"


def sent_types(page: Any) -> list[str]:
    return list(page.evaluate("() => window.__sent"))


def config(page: Any) -> dict:
    return page.evaluate("() => window.__backpropLab.store.config")


def test_a_students_link_sets_up_the_network_pace_and_language_and_hides_exactly_the_chosen_panels(visit):
    hidden = {"data", "teaching", "gradient_check", "lr_lab"}
    link = (
        "/#dataset=xor&hidden_layers=5,3&activation=tanh&learning_rate=0.1"
        f"&hide={','.join(sorted(hidden))}&pace=30&lang=id"
    )
    page, errors = visit(link)
    expect(page.locator("#activation")).to_have_value("tanh")  # the preset, read from the controls
    expect(page.locator("#learning-rate")).to_have_value("0,1")  # in the Indonesian way of writing it
    expect(page.locator("#layer-count")).to_have_text("2")
    expect(page.locator("#dataset")).to_have_value("xor")
    expect(page.locator("#speed")).to_have_value("30")
    expect(page.get_by_test_id("language-select")).to_have_value("id")
    expect(page.get_by_test_id("play-button")).to_contain_text("Putar")
    assert config(page)["hidden_layers"] == [5, 3]
    expect_hidden_exactly(page, hidden)
    expect(page.get_by_test_id("phase-step-button")).to_be_hidden()  # the teaching mode's button goes with it
    expect(page.get_by_test_id("link-note")).to_be_hidden()  # nothing in the link was ignored

    # → walks the teaching mode's phases: with the panel hidden the key sends nothing
    page.locator("body").press("ArrowRight")
    page.locator("body").press("s")  # a shortcut of the transport still works, and its step comes back
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", "1")
    assert "phase" not in sent_types(page)
    # the same page with the panel shown again (the hash edited in place): → walks the phases
    page.evaluate(SET_HIDE, "data")
    expect_hidden_exactly(page, {"data"})
    page.locator("body").press("ArrowRight")
    page.wait_for_function("() => window.__backpropLab.store.teaching.last !== null")
    assert "phase" in sent_types(page)
    page.evaluate(SET_HIDE, ",".join(sorted(hidden)))
    expect_hidden_exactly(page, hidden)

    # the page keeps the hidden panels in its address: a reload hides the same ones
    page.wait_for_function("() => location.hash.includes('hide=')")
    page.reload()
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
    expect_hidden_exactly(page, hidden)
    drawn(page)
    screenshot(page, "lesson-link-opened-id-1366")
    assert errors == []


def test_a_viewers_link_hides_the_same_panels_and_sets_the_language_while_the_network_is_the_presenters(visit):
    presenter, errors = visit("/#dataset=circle&hidden_layers=6&activation=relu&lang=en")
    presenter.get_by_test_id("share-button").click()
    expect(presenter.get_by_test_id("share-code")).not_to_be_empty()
    code = presenter.get_by_test_id("share-code").inner_text().replace(" ", "")
    assert len(code) == 6

    hidden = {"output", "saved_runs", "loss_surface"}
    # a config in a viewer's link is the presenter's to set: the viewer's page ignores it
    viewer, viewer_errors = visit(f"/watch/{code}#hide={','.join(sorted(hidden))}&lang=id&activation=sigmoid")
    expect_hidden_exactly(viewer, hidden, absent=frozenset(VIEWER_ABSENT))
    expect(viewer.get_by_test_id("language-select")).to_have_value("id")
    expect(viewer.get_by_test_id("watched-dataset")).to_have_text("lingkaran")
    assert config(viewer)["activation"] == "relu"
    assert config(viewer)["hidden_layers"] == [6]
    assert config(presenter)["activation"] == "relu"  # nothing reached the presenter's session
    drawn(viewer)
    screenshot(viewer, "lesson-link-viewer-id-1366")
    assert errors == [] and viewer_errors == []


def open_builder(page: Any) -> None:
    page.get_by_test_id("link-builder-button").click()
    expect(page.get_by_test_id("link-builder")).to_be_visible()
    expect(page.get_by_test_id("link-url")).not_to_have_value("")


def test_the_builder_makes_a_link_that_opens_the_same_state_in_another_browser(visit):
    page, errors = visit("/#dataset=spiral&hidden_layers=8,4&activation=tanh&learning_rate=0.03&batch_size=5&lang=en")
    open_builder(page)
    expect(page.get_by_test_id("link-start")).to_be_focused()  # keyboard first: the first choice has the focus
    for name in ("inspector", "saved_runs", "loss_surface"):
        page.get_by_test_id(f"link-panel-{name}").uncheck()
    page.get_by_test_id("link-pace").select_option("10")
    page.get_by_test_id("link-lang").select_option("id")
    drawn(page)
    screenshot(page, "lesson-link-builder-en-1366")
    assert serious_violations(page) == []
    url = page.get_by_test_id("link-url").input_value()
    assert "hide=inspector,saved_runs,loss_surface" in url and "pace=10" in url and "lang=id" in url
    page.get_by_test_id("link-copy").click()
    expect(page.get_by_test_id("link-copied")).not_to_be_empty()
    # a dialog: Escape closes it and the focus goes back to the button that opened it
    page.get_by_test_id("link-lang").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("link-builder")).to_be_hidden()
    expect(page.get_by_test_id("link-builder-button")).to_be_focused()
    expect(page.get_by_test_id("link-builder-button")).to_have_attribute("aria-expanded", "false")
    open_builder(page)  # it opens again, from the page's language
    page.get_by_test_id("link-lang").select_option("id")

    student, student_errors = visit(url)
    expect_hidden_exactly(student, {"inspector", "saved_runs", "loss_surface"})
    expect(student.locator("#speed")).to_have_value("10")
    expect(student.get_by_test_id("language-select")).to_have_value("id")
    expect(student.locator("#activation")).to_have_value("tanh")
    expect(student.get_by_test_id("batch-size")).to_have_value("5")
    built, opened = config(page), config(student)
    assert opened == built  # the same network and data, seed and all
    assert student.evaluate("() => window.__backpropLab.store.sessionId") != page.evaluate(
        "() => window.__backpropLab.store.sessionId"
    )  # in a session of the student's own

    # the builder in Indonesian, and a link to a lesson step
    page.get_by_test_id("language-select").select_option("id")
    expect(page.get_by_test_id("link-builder")).to_contain_text("Panel yang ditampilkan")
    page.get_by_test_id("link-start").select_option("activations/2")
    expect(page.locator("#link-start option:checked")).to_contain_text("Pelajaran 2, langkah 2")
    drawn(page)
    screenshot(page, "lesson-link-builder-id-1366")
    url = page.get_by_test_id("link-url").input_value()
    assert "/lessons/activations/2#" in url and "activation=" not in url  # the step sets its own network
    lesson, lesson_errors = visit(url)
    expect(lesson.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "2")
    expect_hidden_exactly(lesson, {"inspector", "saved_runs", "loss_surface"})
    expect(lesson.get_by_test_id("language-select")).to_have_value("id")
    assert errors == [] and student_errors == [] and lesson_errors == []


def test_a_bad_link_still_opens_and_says_on_the_page_what_it_ignored(visit):
    page, errors = visit("/#hide=inspector,nonsense&pace=fast&lang=xx&bogus=1&learning_rate=abc&activation=tanh")
    note = page.get_by_test_id("link-note")
    expect(note).to_be_visible()
    for ignored in ("nonsense", "pace=fast", "lang=xx", "bogus=1", "learning_rate=abc"):
        expect(note).to_contain_text(ignored)
    expect_hidden_exactly(page, {"inspector"})  # what could be read applies
    expect(page.locator("#activation")).to_have_value("tanh")
    drawn(page)
    screenshot(page, "lesson-link-ignored-en-1366")
    page.get_by_test_id("play-button").click()  # and the page works
    page.wait_for_function("() => window.__backpropLab.store.step > 0")
    page.get_by_test_id("play-button").click()
    note.get_by_role("button").click()
    expect(note).to_be_hidden()

    too_fast, too_fast_errors = visit("/#pace=123456789")  # a number the server would refuse
    expect(too_fast.get_by_test_id("link-note")).to_contain_text("pace=123456789")
    expect(too_fast.locator("#speed")).not_to_have_value("123456789")
    assert errors == [] and too_fast_errors == []


def test_a_lesson_link_that_hides_the_panel_a_step_highlights_shows_that_panel_for_that_step(visit):
    # step 1 of lesson 1 talks about the network, step 2 about the inspector: the link hides both
    page, errors = visit("/lessons/neurons/1#hide=network,inspector,saved_runs&lang=en")
    expect(page.get_by_test_id("lesson-panel")).to_have_attribute("data-highlight", "network-panel")
    expect(page.locator("#network-panel")).to_be_visible()
    expect(page.locator("#network-panel")).to_have_class(re.compile(r"\blesson-highlight\b"))
    expect_hidden_exactly(page, {"inspector", "saved_runs"})
    page.locator('.neuron-hit[data-column="1"][data-index="0"]').click()  # its task can be done
    expect(page.get_by_test_id("lesson-task-done")).to_be_visible()

    page.get_by_test_id("lesson-next").click()
    expect(page.get_by_test_id("lesson-panel")).to_have_attribute("data-highlight", "neuron-inspector")
    expect_hidden_exactly(page, {"network", "saved_runs"})  # the network hides again, the inspector shows
    assert "hide=network,inspector,saved_runs" in page.evaluate("() => location.hash")  # the link's choice stays
    # the builder on a lesson step starts from that step and from the link's hidden panels
    open_builder(page)
    expect(page.get_by_test_id("link-start")).to_have_value("neurons/2")
    url = page.get_by_test_id("link-url").input_value()
    assert "/lessons/neurons/2#" in url and "hide=network,inspector,saved_runs" in url, url
    page.keyboard.press("Escape")
    page.get_by_test_id("lesson-back").click()
    expect_hidden_exactly(page, {"inspector", "saved_runs"})
    assert errors == []
