"""CSV injection: the page's download of the data set (static/js/dataset_io.js) carries the
uploaded column names and class labels, and one that a spreadsheet would run as a formula comes
back with a leading ' (OWASP), while numbers (a negative input, a class label -1) stay numbers. (The run's
metrics CSV carries no uploaded text: tests/server/test_csv_injection.py.)"""

from __future__ import annotations

import csv
import io

from formula_tables import formula_table

COLUMNS = ("=1+2", "@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "plain")
LABELS = ('=HYPERLINK("http://127.0.0.1/")', "+danger", "@me", "-1", "ok")


def upload_text(rows: int = 60) -> str:
    return formula_table(COLUMNS, LABELS, rows)


def test_the_data_set_download_neutralises_formulas_and_keeps_numbers(open_page, tmp_path):
    page, watch = open_page(chart=False)
    upload = tmp_path / "formulas.csv"
    upload.write_text(upload_text())
    page.locator("#csv-file").set_input_files(str(upload))
    page.wait_for_function("() => window.__backpropLab.store.dataset?.class_names?.includes('+danger')")
    with page.expect_download() as download:
        page.locator("#download-dataset").click()
    header, *rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert header == ["'=1+2", "'@SUM(A1)", "'-2+3+cmd|' /C calc'!A0", "plain", "class"]
    labels = {row[-1] for row in rows}
    assert labels == {'\'=HYPERLINK("http://127.0.0.1/")', "'+danger", "'@me", "-1", "ok"}
    inputs = [float(cell) for row in rows for cell in row[:-1]]  # raises on a cell that is not a number
    assert min(inputs) < 0  # and the negative ones are numbers too, not '-0.5
    watch.assert_clean()


def test_only_text_that_a_spreadsheet_would_run_gets_a_quote(open_page):
    page, _ = open_page(chart=False)
    cases = ["=1+2", "+x", "-x", "@x", "\tx", "\rx", "-", "plain", "a=b", "", "-0.5", "+1", "-1e-7", ".5", "1E3"]
    shown = page.evaluate(
        """async (cases) => {
            const { spreadsheetText } = await import('/static/js/dataset_io.js');
            return cases.map(spreadsheetText);
        }""",
        cases,
    )
    assert dict(zip(cases, shown, strict=True)) == {
        "=1+2": "'=1+2",
        "+x": "'+x",
        "-x": "'-x",
        "@x": "'@x",
        "\tx": "'\tx",
        "\rx": "'\rx",
        "-": "'-",
        "plain": "plain",
        "a=b": "a=b",
        "": "",
        "-0.5": "-0.5",
        "+1": "+1",
        "-1e-7": "-1e-7",
        ".5": ".5",
        "1E3": "1E3",
    }
