"""The guided lessons in the browser: the list, and a walk through every step of every lesson in
English and in Indonesian with no console error, each step's network set up as its lesson file
says, its view highlighted, and its task performed until the page shows "done ✓"; the all-linear
network of lesson 2 measured straight on the output grid, lesson 7's large rate diverging with the
page saying so, lesson 2's drawn data trained on, the place kept over a reload, the keyboard, and a
viewer following the presenter's step."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_helpers import drawn, screenshot
from playwright.sync_api import expect
from test_draw_points import click_plane

LESSONS = Path(__file__).resolve().parents[2] / "static" / "lessons"
ORDER = json.loads((LESSONS / "catalogue.json").read_text())["lessons"]
TRAINING_SECONDS = 90_000  # a task that needs training, on this shared 2-core machine

# the output grid as classes (argmax of the output layer's heatmap), measured in the page's store;
# OUTPUT_CLASSES_WHEN_DONE: the same at the moment the step's task is done (null until then), as the
# page's own check saw it: a linear network trained on past that moment may push its boundary off
# the grid, which says nothing about its shape
LOAD_OUTPUT_IMAGE = """async () => {
  window.__lessonTestOutputImage = (await import('/static/js/render/heatmap.js')).OutputImage;
}"""
CLASSES_OF_GRID = """() => {
  const heatmaps = window.__backpropLab.store.heatmaps;
  const size = heatmaps.resolution;
  const rows = [];
  for (let row = 0; row < size; row++) {
    const classes = [];
    for (let column = 0; column < size; column++) {
      const values = window.__lessonTestOutputImage.valuesAt(heatmaps, column / (size - 1), row / (size - 1));
      classes.push(values.indexOf(Math.max(...values)));
    }
    rows.push(classes);
  }
  return rows;
}"""
OUTPUT_CLASSES = f"async () => {{ await ({LOAD_OUTPUT_IMAGE})(); return ({CLASSES_OF_GRID})(); }}"
# Read in the page the moment the done mark appears (a mutation observer's callback runs before
# the next message can change the heatmaps), not at the test's next poll: on a loaded machine the
# poll came after a newer heatmap had pushed a linear boundary off the grid.
WATCH_FOR_DONE = f"""() => {{
  window.__lessonDoneClasses = null;
  const seen = () => {{
    if (window.__lessonDoneClasses !== null || !document.querySelector('[data-testid=lesson-task-done]')) return false;
    window.__lessonDoneClasses = ({CLASSES_OF_GRID})();
    return true;
  }};
  if (seen()) return;
  const observer = new MutationObserver(() => {{ if (seen()) observer.disconnect(); }});
  observer.observe(document.body, {{ subtree: true, childList: true, attributes: true }});
}}"""
OUTPUT_CLASSES_WHEN_DONE = "() => window.__lessonDoneClasses"


def lesson(lesson_id: str) -> dict[str, Any]:
    return json.loads((LESSONS / f"{lesson_id}.json").read_text())


def worst_distance_from_a_line(classes: list[list[int]]) -> float:
    """The decision boundary's points (midpoints between neighbouring cells of different classes)
    and their largest distance, in cells, from the least-squares line through them."""
    grid = np.array(classes)
    rows, columns = np.nonzero(grid[:, 1:] != grid[:, :-1])
    points = [np.column_stack([columns + 0.5, rows])]
    rows, columns = np.nonzero(grid[1:, :] != grid[:-1, :])
    points.append(np.column_stack([columns, rows + 0.5]))
    boundary = np.concatenate(points).astype(float)
    assert len(boundary) >= 4, "no decision boundary on the output grid"  # as js/lessons/tasks.js asks
    centred = boundary - boundary.mean(axis=0)
    normal = np.linalg.svd(centred, full_matrices=False)[2][-1]  # the direction of least spread
    return float(np.abs(centred @ normal).max())


def pause(page: Any) -> None:
    if page.evaluate("() => window.__backpropLab.store.state") == "running":
        page.get_by_test_id("play-button").click()
        page.wait_for_function("() => window.__backpropLab.store.state !== 'running'")


def train_until_done(page: Any) -> list[list[int]]:
    """Play until the step's task is done, then pause; the output grid's classes when it was done."""
    page.evaluate(LOAD_OUTPUT_IMAGE)
    page.evaluate(WATCH_FOR_DONE)
    page.get_by_test_id("play-button").click()
    try:
        classes = page.wait_for_function(OUTPUT_CLASSES_WHEN_DONE, timeout=TRAINING_SECONDS).json_value()
    except Exception as error:  # say which task, and how far it got
        task = page.get_by_test_id("lesson-task").inner_text()
        raise AssertionError(f"not done after {TRAINING_SECONDS} ms of training: {task}") from error
    pause(page)
    return classes


def expect_step(page: Any, lesson_id: str, step: int) -> None:
    """The page shows `step` of the lesson: the address, the progress, the step's network and view."""
    entry = lesson(lesson_id)
    page.wait_for_url(f"**/lessons/{lesson_id}/{step}*")
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", str(step))
    config = {**entry.get("config", {}), **entry["steps"][step - 1].get("config", {})}
    page.wait_for_function(
        """(config) => { const now = window.__backpropLab?.store.config ?? null;
            return now !== null
              && Object.entries(config).every(([k, v]) => JSON.stringify(now[k]) === JSON.stringify(v)); }""",
        arg=config,
    )
    view = entry["steps"][step - 1]["highlight"]
    expect(page.get_by_test_id("lesson-panel")).to_have_attribute("data-highlight", view)
    expect(page.locator(f"#{view}")).to_have_class(re.compile(r"\blesson-highlight\b"))
    assert page.locator(".lesson-highlight").count() == 1
    expect(page.get_by_test_id("lesson-text")).not_to_be_empty()
    expect(page.get_by_test_id("lesson-task-done")).to_have_count(0)  # a fresh browser: nothing done yet


def do_neurons(page: Any, step: int) -> None:
    if step == 1:
        page.locator(".neuron-hit[data-column='1']").first.click()
        expect(page.get_by_test_id("neuron-inspector")).to_contain_text("z")
    elif step == 3:
        page.locator("#feature-list input:not(:checked)").first.check()
    else:
        train_until_done(page)


def do_activations(page: Any, step: int) -> None:
    if step == 2:
        page.locator("#add-layer").click()
        page.wait_for_function("() => window.__backpropLab.store.config.hidden_layers.length === 3")
    if step == 3:
        page.get_by_test_id("activation").select_option("tanh")
        page.wait_for_function("() => window.__backpropLab.store.config.activation === 'tanh'")
    if step == 5:
        draw_a_disc_inside_a_ring(page)
    classes = train_until_done(page)
    if step in (1, 2):  # measured here too, independently of the page's own check
        distance = worst_distance_from_a_line(classes)
        assert distance <= 1.5, f"the all-linear boundary strays {distance:.2f} cells from a straight line"
        expect(page.locator("#linear-notice")).to_be_visible()
    if step == 3:
        distance = worst_distance_from_a_line(page.evaluate(OUTPUT_CLASSES))
        # measured again a little later (training went on to the pause): clearly no line
        assert distance > 2, f"the tanh boundary is {distance:.2f} cells from a line: it did not curve"
    if step == 5:
        assert page.evaluate("() => window.__backpropLab.store.dataset.title") == "drawn.csv"  # trained on the drawing
        page.get_by_test_id("draw-points").click()  # drawing done: the plane is for choosing samples again
        expect(page.get_by_test_id("draw-points")).to_have_attribute("aria-pressed", "false")


def draw_a_disc_inside_a_ring(page: Any) -> None:
    """Draws what no straight line separates: four points of class 0 in the middle, eight of class 1 around."""
    page.get_by_test_id("draw-points").click()
    page.get_by_test_id("draw-clear").click()
    for du, dv in ((-0.05, -0.05), (0.05, -0.05), (-0.05, 0.05), (0.05, 0.05)):
        click_plane(page, 0.5 + du, 0.5 + dv)
    page.locator("#draw-classes button[data-class='1']").click()
    for k in range(8):
        angle = 2 * np.pi * k / 8
        click_plane(page, 0.5 + 0.35 * np.cos(angle), 0.5 + 0.35 * np.sin(angle))
    page.wait_for_function("() => { const d = window.__backpropLab.store.dataset; return d.title === 'drawn.csv'"
                           " && d.train.points.length + d.test.points.length === 12; }")


def do_learning_rate(page: Any, step: int) -> None:
    if step == 1:
        train_until_done(page)
    elif step == 2:
        # as a student would: read where the U's bottom is, type a rate past it, look again
        indonesian = page.evaluate("() => document.documentElement.lang") == "id"
        rate = page.get_by_test_id("learning-rate")
        for _ in range(4):
            page.wait_for_function(
                "() => { const s = window.__backpropLab.store; return s.lossLine?.status === 'done'"
                " && s.lossLine.result.current_rate === s.config.learning_rate; }",
                timeout=TRAINING_SECONDS,
            )
            line = page.evaluate("() => window.__backpropLab.store.lossLine.result")
            if line["current_rate"] > line["best_rate"]:
                break
            past = f"{line['best_rate'] * 2:.3g}"
            rate.fill(past.replace(".", ",") if indonesian else past)  # the page's decimal separator
            rate.press("Enter")
        page.get_by_test_id("lesson-task-done").wait_for(timeout=TRAINING_SECONDS)
        expect(page.get_by_test_id("lr-line-chart")).to_have_attribute("data-overshoots", "true")
    elif step == 3:
        rate = page.get_by_test_id("learning-rate")
        rate.fill("10")
        rate.press("Enter")
        page.wait_for_function("() => window.__backpropLab.store.config.learning_rate === 10")
        train_until_done(page)
        banner = page.locator("#divergence-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("10")
    else:
        page.get_by_test_id("lr-race-steps").fill("150")
        page.get_by_test_id("lr-race-start").click()
        page.get_by_test_id("lesson-task-done").wait_for(timeout=TRAINING_SECONDS)


def do_why_backprop(page: Any, step: int) -> None:
    page.get_by_test_id("gradient-check-button").click()
    page.get_by_test_id("lesson-task-done").wait_for(timeout=TRAINING_SECONDS)
    expect(page.get_by_test_id("lesson-task")).to_contain_text("×")  # the measured ratio, beside the task
    ratio = page.evaluate("() => { const r = window.__backpropLab.store.gradientCheck.result;"
                          " return r.numerical_seconds / r.backprop_seconds; }")
    assert ratio > 1, f"finite differences took {ratio:.2f} × backprop's time: they should cost more"
    shown = page.locator("#lesson-task .task-measure").inner_text()
    number = re.search(r"(\d[\d.,]*)\s*×", shown)
    assert number is not None, shown
    written = number.group(1)  # two significant digits, in the page's language (1.000 / 1,5 in Indonesian)
    indonesian = page.evaluate("() => document.documentElement.lang") == "id"
    value = float(written.replace(".", "").replace(",", ".") if indonesian else written.replace(",", ""))
    assert abs(value - ratio) <= 0.1 * ratio, f"the page shows {shown!r} for a measured ratio of {ratio:.3g}"
    expect(page.get_by_test_id("gradient-check-result")).not_to_be_empty()


def do_batches(page: Any, step: int) -> None:
    if step == 2:
        page.locator(".batch-presets [data-batch='1']").click()
        page.wait_for_function("() => window.__backpropLab.store.config.batch_size === 1")
    train_until_done(page)


def walk_phases_until_done(page: Any) -> None:
    """Presses Phase (→) until the step's task is met, each press after the last phase arrived."""
    for _ in range(12):  # a whole step of this network is 2·3 + 2 = 8 phases
        if page.get_by_test_id("lesson-task-done").count():
            return
        before = page.evaluate("() => window.__backpropLab.store.teaching.phases.length")
        page.get_by_test_id("phase-step-button").click()
        page.wait_for_function(
            "(n) => window.__backpropLab.store.teaching.phases.length !== n", arg=before)
        drawn(page)  # the panel has checked the new phase: one press too many would skip a step's task
    page.get_by_test_id("lesson-task-done").wait_for()


def do_forward_pass(page: Any, step: int) -> None:
    if step == 1:
        page.locator("#sample-index").fill("3")
        page.locator("#sample-index").press("Enter")
    walk_phases_until_done(page)
    expect(page.locator("#narration")).not_to_be_empty()


def do_loss(page: Any, step: int) -> None:
    if step == 2:
        expect(page.locator("#softmax-view")).to_be_visible()  # five probabilities for the chosen sample
    if step == 3:
        page.locator("#loss").select_option("mse")
        page.wait_for_function("() => window.__backpropLab.store.config.loss === 'mse'")
    train_until_done(page)


def do_backward_pass(page: Any, step: int) -> None:
    walk_phases_until_done(page)


def do_generalisation(page: Any, step: int) -> None:
    if step == 1:
        page.locator("#init").select_option("he")
        page.wait_for_function("() => window.__backpropLab.store.config.init === 'he'")
    if step == 3:
        page.locator("#regularization").select_option("l2")
        rate = page.locator("#regularization-rate")
        indonesian = page.evaluate("() => document.documentElement.lang") == "id"
        rate.fill("0,03" if indonesian else "0.03")
        rate.press("Enter")
        page.wait_for_function("() => window.__backpropLab.store.config.regularization_rate === 0.03")
    train_until_done(page)


DO: dict[str, Callable[[Any, int], None]] = {
    "generalisation": do_generalisation,
    "forward_pass": do_forward_pass,
    "loss": do_loss,
    "backward_pass": do_backward_pass,
    "neurons": do_neurons,
    "activations": do_activations,
    "why_backprop": do_why_backprop,
    "learning_rate": do_learning_rate,
    "batches": do_batches,
}


def test_every_lesson_file_has_a_walk_in_this_test():
    assert sorted(DO) == sorted(ORDER)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_step_of_every_lesson_sets_up_its_network_highlights_its_view_and_its_task_can_be_done(
    open_page, server, lang
):
    page, watch = open_page(f"lessons/{ORDER[0]}/1#lang={lang}", width=1366, height=768, chart=False)
    for index, lesson_id in enumerate(ORDER):
        steps = len(lesson(lesson_id)["steps"])
        for step in range(1, steps + 1):
            expect_step(page, lesson_id, step)
            expect(page.get_by_test_id("lesson-progress")).to_contain_text(
                f"{step} of {steps}" if lang == "en" else f"{step} dari {steps}")
            DO[lesson_id](page, step)
            expect(page.get_by_test_id("lesson-task-done")).to_have_text("done ✓" if lang == "en" else "selesai ✓")
            if (lesson_id, step) == ("activations", 3):
                for width in (1366, 1024):
                    page.set_viewport_size({"width": width, "height": 768})
                    page.evaluate("() => window.scrollTo(0, 0)")
                    screenshot(page, f"40-lesson-{width}-{lang}")
                page.set_viewport_size({"width": 1366, "height": 768})
            next_button = page.get_by_test_id("lesson-next")
            if step == steps and index + 1 == len(ORDER):
                expect(next_button).to_have_text("All lessons" if lang == "en" else "Semua pelajaran")
            else:
                next_button.click()
    watch.assert_clean()


def test_the_list_links_every_lesson_and_shows_what_this_browser_did_and_where_to_carry_on(open_page, server):
    page, watch = open_page(f"lessons/{ORDER[0]}/1", chart=False)
    page.locator(".neuron-hit[data-column='1']").first.click()
    page.get_by_test_id("lesson-task-done").wait_for()
    page.get_by_test_id("lesson-next").click()
    page.wait_for_url("**/lessons/neurons/2*")
    page.goto(f"{server}/lessons")
    items = page.get_by_test_id("lesson-list").locator("li")
    expect(items).to_have_count(len(ORDER))
    expect(items.first).to_contain_text("Neurons, weights and biases")
    expect(items.first.get_by_test_id("lesson-item-progress")).to_have_text("1 of 4 steps done")
    page.get_by_test_id("language-select").select_option("id")
    expect(items.first).to_contain_text("Neuron, bobot, dan bias")
    expect(items.first.get_by_test_id("lesson-item-progress")).to_have_text("1 dari 4 langkah selesai")
    resume = page.get_by_test_id("lesson-resume").locator("a")
    expect(resume).to_have_attribute("href", "/lessons/neurons/2")
    screenshot(page, "41-lesson-list-id")
    page.goto(f"{server}/")
    page.get_by_test_id("lessons-link").click()
    page.wait_for_url("**/lessons")
    watch.assert_clean()


def test_a_reload_keeps_the_step_its_done_mark_and_the_student_s_own_network(open_page):
    page, watch = open_page("lessons/activations/3", chart=False)
    page.get_by_test_id("activation").select_option("relu")
    page.wait_for_function("() => window.__backpropLab.store.config.activation === 'relu'")
    train_until_done(page)
    page.reload()
    page.wait_for_function("() => window.__backpropLab?.store.config?.activation === 'relu'")
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "3")
    expect(page.get_by_test_id("lesson-task-done")).to_be_visible()
    page.wait_for_timeout(500)  # the step's own config (linear) must not come back
    assert page.evaluate("() => window.__backpropLab.store.config.activation") == "relu"
    watch.assert_clean()


def test_the_keyboard_walks_the_steps_and_the_browser_s_back_returns(open_page):
    page, watch = open_page("lessons/learning_rate/1", chart=False)
    page.locator("body").press("n")
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "2")
    page.wait_for_url("**/lessons/learning_rate/2*")
    page.get_by_test_id("lesson-next").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "3")
    page.locator("body").press("b")
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "2")
    page.go_back()
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "3")
    page.get_by_test_id("learning-rate").press("n")  # typing in a field never turns the page
    expect(page.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "3")
    watch.assert_clean()


def test_a_viewer_follows_the_presenter_s_lesson_step_read_only(open_page, server):
    presenter, watch = open_page("lessons/neurons/1#lang=en", chart=False)
    presenter.get_by_test_id("share-button").click()
    expect(presenter.get_by_test_id("share-code")).not_to_be_empty()
    code = presenter.get_by_test_id("share-code").inner_text().replace(" ", "")

    viewer, viewer_watch = open_page(f"watch/{code}#lang=id", chart=False)  # a browser of its own
    panel = viewer.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-highlight", "network-panel")  # the view the step talks about
    expect(viewer.locator("#network-panel")).to_have_class(re.compile(r"\blesson-highlight\b"))
    expect(viewer.locator("#lesson-step-title")).to_have_text("Satu neuron")  # in the viewer's language
    expect(viewer.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "1")
    expect(viewer.get_by_test_id("lesson-text")).not_to_be_empty()
    expect(viewer.get_by_test_id("lesson-next")).to_have_count(0)  # the presenter turns the pages
    expect(viewer.get_by_test_id("lesson-back")).to_have_count(0)
    expect(viewer.get_by_test_id("lesson-task-done")).to_have_count(0)

    presenter.locator(".neuron-hit[data-column='1']").first.click()  # the presenter does the task
    expect(presenter.get_by_test_id("lesson-task-done")).to_be_visible()
    expect(viewer.get_by_test_id("lesson-task-done")).to_have_text("selesai ✓")
    drawn(viewer)
    screenshot(viewer, "lesson-viewer-follows-id-1280")

    presenter.get_by_test_id("lesson-next").click()
    expect(viewer.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "2")
    expect(panel).to_have_attribute("data-highlight", "neuron-inspector")
    expect(viewer.get_by_test_id("lesson-task-done")).to_have_count(0)

    presenter.get_by_test_id("lessons-link").click()  # the presenter leaves the lesson for the list …
    presenter.wait_for_url("**/lessons")
    presenter.goto(f"{server}/")  # … and the lab, on the same session
    expect(panel).to_be_hidden()
    assert viewer.locator(".lesson-highlight").count() == 0
    watch.assert_clean()
    viewer_watch.assert_clean()


def test_the_language_switches_live_on_a_lesson_step(open_page):
    page, watch = open_page("lessons/activations/4#lang=en", chart=False)
    expect(page.locator("#lesson-step-title")).to_have_text("sigmoid, tanh and ReLU")
    expect(page.get_by_test_id("lesson-task")).to_contain_text("at least 95")
    page.evaluate("() => { window.__notReloaded = true; }")
    page.get_by_test_id("language-select").select_option("id")
    expect(page.locator("#lesson-step-title")).to_have_text("sigmoid, tanh, dan ReLU")
    expect(page.get_by_test_id("lesson-task")).to_contain_text("paling sedikit 95")
    expect(page.get_by_test_id("lesson-task")).to_contain_text("Capai akurasi pengujian")
    expect(page.get_by_test_id("lesson-progress")).to_contain_text("Langkah 4 dari 5")
    expect(page.get_by_test_id("lesson-next")).to_have_text("Lanjut")
    assert page.evaluate("() => window.__notReloaded") is True  # the same page, its network kept
    watch.assert_clean()
