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
    """English UI strings (those that differ in Indonesian) that occur in `text`. A text with
    placeholders is looked for by its longest fixed part ("the output layer adds up its weighted
    inputs…"), so sentences the page fills in are checked too."""
    found = []
    for key, english in EN.items():
        indonesian = ID.get(key, "")
        if english == indonesian:
            continue
        fixed = max(re.split(r"\{\w+\}", english), key=len).strip(" ,.:;()")
        if len(fixed) < 4 or ("{" in english and (len(fixed) < 10 or fixed in indonesian)):
            continue
        if re.search(rf"(?<![\w]){re.escape(fixed)}(?![\w])", text):
            found.append(f"{key}: {fixed!r}")
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
    page, _ = open_page("#lang=id&dataset=xor", chart=False)
    assert page.evaluate("() => document.documentElement.lang") == "id"
    expect(page.get_by_test_id("language-select")).to_have_value("id")
    expect(page.get_by_test_id("connection-status")).to_have_text("Terhubung")
    expect(page.get_by_test_id("dataset")).to_have_value("xor")


def learning_rate_message(template: str, base: str, thousands: str) -> str:
    """The message with the range the server's options give, written as the page writes it in
    a sentence (whole numbers from 1000 up grouped by `thousands`)."""
    ui = api(base, "GET", "/api/v1/options")["ranges"]["learning_rate"]["ui"]

    def written(value: float) -> str:
        return f"{value:,.0f}".replace(",", thousands) if value == int(value) and value >= 1000 else f"{value:g}"

    return template.format(min=written(ui["min"]), max=written(ui["max"]))


def test_messages_already_showing_are_reworded_when_the_language_changes(open_page, tmp_path):
    page, watch = open_page(chart=False)
    rate = page.get_by_test_id("learning-rate")
    rate.fill("5000")  # above the cap of 1000
    rate.press("Enter")
    toast = page.locator("#toasts .toast").first
    toast.wait_for()
    assert learning_rate_message(EN["error.learning_rate"], watch.base, ",") in toast.inner_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    page.locator("#csv-file").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('#upload-status').classList.contains('error')")
    assert page.locator("#upload-status").inner_text().startswith("bad.csv was not accepted:")

    page.get_by_test_id("language-select").select_option("id")
    page.wait_for_function("() => document.documentElement.lang === 'id'")
    page.wait_for_function(
        "(text) => document.querySelector('#toasts .toast')?.textContent.includes(text)",
        arg=learning_rate_message(ID["error.learning_rate"], watch.base, "."),
    )
    assert page.locator("#upload-status").inner_text().startswith("bad.csv ditolak:")


def test_a_language_that_cannot_load_leaves_the_select_showing_the_language_in_use(open_page):
    page, _ = open_page(chart=False)
    page.route("**/static/i18n/id.json", lambda route: route.fulfill(status=503, body="unavailable"))
    page.get_by_test_id("language-select").select_option("id")
    # said in the language the page stays in, naming the one that failed
    said = EN["error.translations"].format(language="Bahasa Indonesia")
    expect(page.locator("#toasts .toast").first).to_contain_text(said)
    expect(page.get_by_test_id("language-select")).to_have_value("en")
    assert page.evaluate("() => document.documentElement.lang") == "en"


# --- the whole page in Indonesian ---------------------------------------------------------------

# English the server writes for scripts (its `msg`, `detail` and `message` texts) and the
# browser's own failure words: none of it may reach an Indonesian reader.
SERVER_ENGLISH = [
    "Input should be",
    "is not a number",
    "neurons per layer on this server",
    "network error",
    "Failed to fetch",
    "could not load",
    "The server says",
    "HTTP 5",
]


def everything_shown(page) -> str:
    """The page's text as a reader meets it: visible text, labels and tooltips, the chart's SVG."""
    return "\n".join(
        [
            page.evaluate("() => document.body.innerText"),
            attribute_text(page),
            page.evaluate("() => document.getElementById('loss-chart').textContent"),
        ]
    )


def assert_indonesian(page, where: str, server_english: list[str] = SERVER_ENGLISH) -> str:
    drawn(page)
    text = everything_shown(page)
    left = english_left(text) + [words for words in server_english if words in text]
    assert left == [], f"English left {where}: {left}"
    return text


def toast_with(page, text: str) -> None:
    page.wait_for_function("(text) => document.getElementById('toasts').textContent.includes(text)", arg=text)


def test_every_panel_and_state_in_indonesian_shows_no_english(open_page, tmp_path):
    page, watch = open_page("#lang=id", reduced_motion=True)
    base = watch.base
    expect(page.get_by_test_id("connection-status")).to_have_text(ID["connection.open"])
    assert_indonesian(page, "at the start")

    # training: counters, metrics, the chart's axes and the transport while running
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 50")
    assert_indonesian(page, "while training")
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => window.__backpropLab.store.state === 'paused'")
    assert "kerugian" in page.locator("#loss-chart").text_content()  # the axis title, translated

    # teaching mode, through every phase of one step (the narration names the activation)
    phases = page.locator("#phase-track li").count()
    for index in range(phases):
        page.get_by_test_id("phase-step-button").click()
        page.wait_for_selector(f'#phase-track li.current[data-index="{index}"]')
        text = assert_indonesian(page, f"in phase {index + 1} of {phases}")
        if index == 0:
            assert f"fungsi aktivasi {ID['activation.tanh']}" in text
    # the inspector on a hidden neuron, its one-parameter check, then an edge
    page.locator('.neuron-hit[data-column="1"][data-index="0"]').click()
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="z"]')
    assert_indonesian(page, "in the inspector on a neuron")
    page.get_by_test_id("parameter-check-button").click()
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="check-error"]')
    assert_indonesian(page, "after a parameter's check")
    page.locator('[data-testid="neuron-inspector"] .edge-list button').first.click()
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="weight-gradient"]')
    assert_indonesian(page, "in the inspector on an edge")

    # the whole-network gradient check
    page.get_by_test_id("gradient-check-button").click()
    page.wait_for_selector('[data-testid="gradient-check-result"] [data-name="ratio"]')
    text = assert_indonesian(page, "after the gradient check")
    assert ID["gradcheck.agree"] in text or ID["gradcheck.disagree"] in text

    # refusals: the page's own (a rate above the cap), and the server's over the socket (a
    # layer wider than this server allows), each a sentence in Indonesian with Indonesian numbers
    rate = page.get_by_test_id("learning-rate")
    rate.fill("5000")
    rate.press("Enter")
    toast_with(page, ID["error.learning_rate"].split("{")[0])
    neurons = api(base, "GET", "/api/v1/options")["ranges"]["neurons"]["cap"]
    page.evaluate(f"() => {{ location.hash = location.hash + '&hidden_layers={neurons + 1}'; }}")
    toast_with(page, ID["refusal.too_many_neurons"].format(maximum=f"{neurons:,}".replace(",", ".")))
    assert_indonesian(page, "after refused settings")

    # a bad CSV: row and column named in Indonesian, not the server's English
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    page.locator("#csv-file").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('#upload-status').classList.contains('error')")
    status = page.locator("#upload-status").inner_text()
    assert status == "bad.csv ditolak: baris 3, kolom “b”: “oops” bukan angka.", status
    assert_indonesian(page, "after a bad upload")

    # the network fails under a download, then the connection is lost and stays down a while
    page.route("**/api/v1/sessions/*/dataset", lambda route: route.abort())
    page.locator("#download-dataset").click()
    toast_with(page, ID["error.network"])
    page.route("**/api/v1/sessions/*", lambda route: route.abort())
    page.evaluate("() => window.__backpropLab.dropConnection()")
    page.wait_for_selector('[data-testid="connection-status"][data-status="offline"]')
    assert_indonesian(page, "with the connection lost")
    page.unroute("**/api/v1/sessions/*")
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]', timeout=20_000)
    screenshot(page, "13-indonesian-walk")


def test_an_invalid_link_is_refused_in_indonesian_and_the_page_starts_with_defaults(open_page):
    page, _ = open_page("#lang=id&learning_rate=5000&dataset=plane&loss=cross_entropy")
    toast_with(page, ID["error.link_config"].split("{")[0])
    text = assert_indonesian(page, "after an invalid link")
    assert ID["refusal.less_than_equal"].format(field=ID["hyper.learning_rate"], le="1.000") in text
    expect(page.get_by_test_id("learning-rate")).to_have_value("0,03")  # the default, in Indonesian


def test_numbers_follow_the_language_and_decimal_fields_take_either_separator(open_page):
    page, watch = open_page("#lang=id")
    rate = page.get_by_test_id("learning-rate")
    rate.fill("0,03")
    rate.press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.config.learning_rate === 0.03")
    rate.fill("0,1")
    rate.press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.config.learning_rate === 0.1")
    rate.fill("0.03")  # the point a phone keyboard may offer works too
    rate.press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.config.learning_rate === 0.03")
    page.get_by_test_id("dataset").focus()  # the rate's field, left, shows the Indonesian form
    expect(rate).to_have_value("0,03")

    # 1234 steps at 0.03 (REST: what the page shows follows the session's broadcast)
    sid = page.evaluate("() => window.__backpropLab.store.sessionId")
    after = api(watch.base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 1234})
    assert after["step"] == 1234 and after["config"]["learning_rate"] == 0.03
    counter = page.get_by_test_id("step-counter")
    expect(counter).to_have_text("1.234")
    assert counter.get_attribute("data-value") == "1234"
    loss = page.get_by_test_id("train-loss")
    expect(loss).to_have_text(re.compile(r"^\d+,\d{4}$"))
    page.wait_for_function("() => document.getElementById('loss-chart').layout?.separators === ',.'")

    page.get_by_test_id("language-select").select_option("en")
    expect(counter).to_have_text("1,234")
    expect(rate).to_have_value("0.03")
    expect(loss).to_have_text(re.compile(r"^\d+\.\d{4}$"))
    page.wait_for_function("() => document.getElementById('loss-chart').layout?.separators === '.,'")
    # English takes only the point: "0,5" is refused, not read as 5
    rate.fill("0,5")
    rate.press("Enter")
    expect(rate).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("() => window.__backpropLab.store.config.learning_rate") == 0.03
    watch.assert_clean()


def test_the_data_sets_columns_and_regression_metrics_are_named_in_indonesian(open_page):
    page, _ = open_page("#lang=id&dataset=iris", chart=False)
    page.wait_for_function("() => window.__backpropLab.store.network.input_names?.[0] === 'sepal_length'")
    drawn(page)
    labels = attribute_text(page)
    assert ID["column.sepal_length"] in labels and "sepal_length" not in labels  # the input neurons
    assert_indonesian(page, "with Iris")

    page.get_by_test_id("dataset").select_option("plane")
    page.wait_for_function("() => document.body.classList.contains('regression')")
    expect(page.locator("#train-rmse")).to_have_text(re.compile(r"^\d+,\d{4}$"))
    assert ID["help.rmse"] in attribute_text(page) and ID["help.r2"] in attribute_text(page)
    assert_indonesian(page, "with a regression set")


# --- numbers and words as an Indonesian reader writes them --------------------------------------

# a number written with a decimal point: "0.01", "−0.5", "2.25" (but not "1.234", a thousand
# grouped the Indonesian way, nor a version or an address such as 127.0.0.1)
DECIMAL_POINT = re.compile(r"(?<![\d.])[−-]?(?:0\.\d+|\d+\.(?:\d{1,2}|\d{4,}))(?![\d.])")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


CODE = re.compile(r"\S*/\S*|--\w+")  # an address, a path or a command's option is not a word


def _words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(CODE.sub(" ", re.sub(r"\{\w+\}", " ", text)))}


ENGLISH_WORDS = set().union(*(_words(text) for text in EN.values())) | {
    word.lower() for phrase in SERVER_ENGLISH for word in WORD.findall(phrase)
}
KEPT = set(re.search(r"```kept-terms\n(.*?)```", (ROOT / "docs/glossary.md").read_text(), re.S).group(1).split())

# every text node of the page that is rendered, and every label of every chart's SVG
SHOWN_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, template, [hidden]')) continue;
    if (parent.closest('svg') === null && parent.getClientRects().length === 0) continue;
    if (node.textContent.trim()) texts.push(node.textContent.trim());
  }
  for (const element of document.querySelectorAll('[aria-label], [title], [data-help], [placeholder]')) {
    for (const name of ['aria-label', 'title', 'data-help', 'placeholder']) {
      const value = element.getAttribute(name);
      if (value) texts.push(value);
    }
  }
  texts.push(document.title);
  return texts;
}"""
TICKS = """() => [...document.querySelectorAll('.main-svg .xtick text, .main-svg .ytick text, .main-svg .ztick text, '
  + '.main-svg .cbaxis text, .main-svg g[class*="xtick"] text, .main-svg g[class*="ytick"] text')]
  .map((t) => `${t.closest('[id]')?.id}: ${t.textContent}`)"""


def test_the_indonesian_page_writes_every_number_and_word_as_indonesian_does(open_page):
    page, watch = open_page("#lang=id", width=1366, height=768, reduced_motion=True)
    # 1234 steps at a rate with decimals: counters grouped, losses, charts with decimal ticks
    sid = page.evaluate("() => window.__backpropLab.store.sessionId")
    api(watch.base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 1234})
    expect(page.get_by_test_id("step-counter")).to_have_text("1.234")
    # teaching mode's first phase (numbers in the narration and on the network), the inspector
    # on a hidden neuron (its activation's formula with numbers), the loss along the gradient
    # and the loss surface (Plotly charts of another module, with the same separators)
    page.get_by_test_id("phase-step-button").click()
    page.wait_for_selector('#phase-track li.current[data-index="0"]')
    page.locator('.neuron-hit[data-column="1"][data-index="0"]').click()
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="z"]')
    page.get_by_test_id("lr-line-refresh").click()
    page.wait_for_selector("#lr-line-chart .main-svg .xtick text", timeout=30_000)
    page.wait_for_selector("#surface-plot .main-svg .xtick text", timeout=30_000)
    page.wait_for_selector("#loss-chart .main-svg .ytick text")
    drawn(page)

    ticks = page.evaluate(TICKS)
    assert any(":" in tick and "," in tick.split(": ", 1)[1] for tick in ticks), ticks  # decimal ticks were drawn
    texts = page.evaluate(SHOWN_TEXTS) + ticks
    points = sorted({f"{match.group(0)}  in {text[:80]!r}" for text in texts for match in DECIMAL_POINT.finditer(text)})
    assert points == [], "numbers with a decimal point on the Indonesian page"
    english = sorted({word for text in texts for word in _words(text) if word in ENGLISH_WORDS and word not in KEPT})
    assert english == [], "English words outside the glossary's kept terms"
    # the inspector's activation: its arguments separated by a semicolon where the comma is decimal
    page.get_by_test_id("activation").select_option("relu")
    page.wait_for_function("() => document.getElementById('neuron-inspector').textContent.includes('max(0; ')")
    assert "max(0, " not in page.get_by_test_id("neuron-inspector").inner_text()
    watch.assert_clean()


def test_failures_of_share_and_surface_are_explained_in_indonesian(open_page):
    page, _ = open_page("#lang=id", chart=False)
    # the network drops under Share: the reader's words, not "network error: Failed to fetch"
    page.route("**/api/v1/sessions/*/share", lambda route: route.abort())
    page.get_by_test_id("share-button").click()
    toast_with(page, ID["error.share"].split("{")[0])
    toast = page.locator("#toasts").inner_text()
    assert ID["error.network"] in toast and "Failed to fetch" not in toast and "network error" not in toast
    # the server refuses the surface's span (pydantic's "Input should be less than or equal to …"):
    # said with the field's label and the bound in Indonesian
    page.route(
        "**/api/v1/sessions/*/loss-surface",
        lambda route: route.fulfill(
            status=422,
            content_type="application/json",
            body=json.dumps({"detail": [{"type": "less_than_equal", "code": "less_than_equal", "loc": ["body", "span"],
                                         "field": "span", "msg": "Input should be less than or equal to 100",
                                         "params": {"le": 100.5}}]}),
        ),
    )
    page.get_by_test_id("surface-recompute").click()
    expected = ID["refusal.less_than_equal"].format(field=ID["surface.span"], le="100,5")
    expect(page.get_by_test_id("surface-status")).to_contain_text(expected)
    assert "Input should be" not in page.get_by_test_id("surface-status").inner_text()
