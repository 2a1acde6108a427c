"""Tables: the shipped Iris set and CSV files a user uploads, parsed into plain arrays.

A CSV file is read the way a spreadsheet user would expect: the first line names the columns,
every other line is one sample, and the LAST column is what the network should predict (the
target); all the columns before it are the inputs and must be numbers.

Whether the target asks for classification or regression is decided from its values:
- any cell that is not a number (``setosa``, ``spam``) → classification, one class per text;
- only whole numbers with at most 32 distinct values (``0``, ``1``, ``2``) → classification;
- anything else (``3.7``, ``12.25``, or many distinct integers) → regression.

Cells may be separated by commas, semicolons or tabs, whichever the header line holds most of:
a spreadsheet in a locale whose decimal separator is a comma (Indonesian, most of Europe)
writes ";" between cells and "0,5" for a half, so in a file separated by semicolons or tabs a
number with a decimal comma ("0,5", "−1.234,5") reads as that number.

Every problem is reported as a `CsvError` that names the line and the column, because a
student fixing a file in a spreadsheet needs to know where to look, not a stack trace.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_CLASSES = 32  # more distinct integer targets than this are read as a regression target
IRIS_PATH = Path(__file__).parent / "data" / "iris.csv"


@dataclass(frozen=True)
class Table:
    name: str
    column_names: tuple[str, ...]  # the feature columns (all but the last CSV column)
    values: np.ndarray  # (rows, d) float64, raw feature values
    labels: np.ndarray | None  # (rows,) int64 class index, for classification
    class_names: tuple[str, ...] | None  # label text per class index, sorted
    target_values: np.ndarray | None  # (rows,) float64, for regression
    target_name: str = "target"  # the header of the last column

    @property
    def classes(self) -> int | None:
        """K for a classification table, None for regression."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def is_regression(self) -> bool:
        return self.class_names is None


class CsvError(ValueError):
    """A bad CSV file, with where the problem is.

    `row` is the 1-based line number in the file (the header is line 1), or None when the
    problem is not on one line; `column` is the column's name, or None. `code` is a stable word
    for the kind of problem and `params` its numbers and cells, so a caller (the page) can say
    it in another language without parsing the English `message`:

        empty_file {}  not_utf8 {}  bad_csv {}  no_header {}  duplicate_column {}
        missing_value {}  too_many_rows {"maximum"}  too_few_columns {"count"}
        too_many_columns {"count", "maximum"}  unnamed_column {"index"}
        too_few_rows {"count"}  wrong_cell_count {"count", "expected"}
        not_a_number {"value"}  not_finite {"value"}  one_class {"value"}
    """

    def __init__(
        self,
        message: str,
        row: int | None = None,
        column: str | None = None,
        code: str = "bad_csv",
        params: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.row = row
        self.column = column
        self.code = code
        self.params = dict(params or {})
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __reduce__(
        self,
    ) -> tuple[type[CsvError], tuple[str, int | None, str | None, str, dict[str, Any]]]:
        # Keep where and what when the error is pickled (e.g. sent back from a worker process).
        return (type(self), (self.message, self.row, self.column, self.code, self.params))


def _number(text: str) -> float | None:
    """The cell as a float, or None when it is not a number. 'nan' and 'inf' do parse."""
    if "_" in text:  # float() accepts "1_000"; a spreadsheet would not
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")  # -sig drops the byte-order mark Excel writes
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvError(
            "the file is not UTF-8 text; save it as 'CSV UTF-8' and try again", row=line, code="not_utf8"
        ) from None


def _is_blank(cells: list[str]) -> bool:
    return all(cell.strip() == "" for cell in cells)


DELIMITERS = (",", ";", "\t")
# A number written with a decimal comma, its thousands grouped by points or not: "0,5", "-1.234,5".
DECIMAL_COMMA = re.compile(r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)?,\d+([eE][+-]?\d+)?$")


def _delimiter(text: str) -> str:
    """The separator the first non-blank line (the header) holds most of; a comma on a tie."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return max(DELIMITERS, key=lambda delimiter: (header.count(delimiter), delimiter == ","))


def _decimal_point(cell: str) -> str:
    """ "1.234,5" → "1234.5"; any other cell unchanged (only for files not separated by commas)."""
    return cell.replace(".", "").replace(",", ".") if DECIMAL_COMMA.match(cell) else cell


def _read_rows(text: str, max_rows: int) -> list[tuple[int, list[str]]]:
    """Non-blank rows as (line number, stripped cells); blank lines anywhere are skipped."""
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if _is_blank(cells):
                continue
            stripped = [cell.strip() for cell in cells]
            if delimiter != ",":
                stripped = [_decimal_point(cell) for cell in stripped]
            rows.append((reader.line_num, stripped))
            if len(rows) - 1 > max_rows:  # the first row is the header
                message = f"too many rows: at most {max_rows} data rows are allowed"
                raise CsvError(message, row=reader.line_num, code="too_many_rows", params={"maximum": max_rows})
    except csv.Error as error:
        raise CsvError(f"the file is not valid CSV ({error})", row=reader.line_num, code="bad_csv") from None
    return rows


def _check_header(line: int, header: list[str], max_columns: int) -> None:
    if len(header) < 2:
        raise CsvError(
            f"found {len(header)} column; a table needs at least 2 (input columns, then the target last)",
            row=line,
            code="too_few_columns",
            params={"count": len(header)},
        )
    if len(header) > max_columns:
        raise CsvError(
            f"found {len(header)} columns; at most {max_columns} are allowed",
            row=line,
            code="too_many_columns",
            params={"count": len(header), "maximum": max_columns},
        )
    if all(_number(cell) is not None for cell in header):
        raise CsvError(
            "no header: the first line is all numbers; add a line of column names first", row=line, code="no_header"
        )
    seen: set[str] = set()
    for index, cell in enumerate(header, start=1):
        if cell == "":
            raise CsvError(
                f"column {index} has no name in the header", row=line, code="unnamed_column", params={"index": index}
            )
        if cell in seen:
            message = "this column name appears twice in the header"
            raise CsvError(message, row=line, column=cell, code="duplicate_column")
        seen.add(cell)


def _parse_targets(
    target_cells: list[str], lines: list[int], target_name: str
) -> tuple[np.ndarray | None, tuple[str, ...] | None, np.ndarray | None]:
    """(labels, class_names, target_values): the first two for classification, else the last."""
    numbers = [_number(cell) for cell in target_cells]
    if any(value is None for value in numbers):
        class_names = tuple(sorted(set(target_cells)))
    else:
        floats = [value for value in numbers if value is not None]  # all of them, here
        for line, cell, value in zip(lines, target_cells, floats, strict=True):
            if not math.isfinite(value):
                raise CsvError(
                    f"{cell!r} is not a finite number",
                    row=line,
                    column=target_name,
                    code="not_finite",
                    params={"value": cell},
                )
        values = np.array(floats, dtype=np.float64)  # (rows,)
        distinct = np.unique(values)  # (k,) sorted
        if not (np.all(distinct == np.round(distinct)) and len(distinct) <= MAX_CLASSES):
            return None, None, values
        # Whole-number classes: sorted by value (2 before 10), named by their integer text.
        class_names = tuple(str(int(value)) for value in distinct)
        target_cells = [str(int(value)) for value in values]
    if len(class_names) < 2:
        raise CsvError(
            f"only one class ({class_names[0]!r}); a classifier needs at least 2 different targets",
            column=target_name,
            code="one_class",
            params={"value": class_names[0]},
        )
    index_of = {name: index for index, name in enumerate(class_names)}
    labels = np.array([index_of[cell] for cell in target_cells], dtype=np.int64)  # (rows,)
    return labels, class_names, None


def parse_csv(
    data: bytes | str, name: str = "upload", max_rows: int = 10_000, max_columns: int = 32
) -> Table:
    """Parse a CSV file (bytes as uploaded, or text) into a `Table`, or raise `CsvError`.

    Accepted: a UTF-8 byte-order mark, Windows line ends (\\r\\n), blank lines, spaces around
    cells, quoted cells. `max_rows` caps the data rows (not counting the header) and
    `max_columns` the columns (target included), so an upload cannot exhaust the server.
    """
    text = _decode(data)
    if text.strip() == "":
        raise CsvError("the file is empty", code="empty_file")
    rows = _read_rows(text, max_rows)
    header_line, header = rows[0]
    _check_header(header_line, header, max_columns)
    feature_names, target_name = tuple(header[:-1]), header[-1]
    data_rows = rows[1:]
    if len(data_rows) < 2:
        count = f"{len(data_rows)} data row" + ("" if len(data_rows) == 1 else "s")
        raise CsvError(
            f"found {count} under the header; at least 2 are needed",
            code="too_few_rows",
            params={"count": len(data_rows)},
        )

    values = np.empty((len(data_rows), len(feature_names)), dtype=np.float64)  # (rows, d)
    target_cells: list[str] = []
    lines: list[int] = []
    for row_index, (line, cells) in enumerate(data_rows):
        if len(cells) != len(header):
            count = f"{len(cells)} cell" + ("" if len(cells) == 1 else "s")
            raise CsvError(
                f"has {count}, expected {len(header)} like the header",
                row=line,
                code="wrong_cell_count",
                params={"count": len(cells), "expected": len(header)},
            )
        for column_index, cell in enumerate(cells):
            if cell == "":
                raise CsvError(
                    "missing value (the cell is empty)", row=line, column=header[column_index], code="missing_value"
                )
        for column_index, cell in enumerate(cells[:-1]):
            number = _number(cell)
            column = feature_names[column_index]
            if number is None:
                raise CsvError(
                    f"{cell!r} is not a number", row=line, column=column, code="not_a_number", params={"value": cell}
                )
            if not math.isfinite(number):
                message = f"{cell!r} is not a finite number"
                raise CsvError(message, row=line, column=column, code="not_finite", params={"value": cell})
            values[row_index, column_index] = number
        target_cells.append(cells[-1])
        lines.append(line)

    labels, class_names, target_values = _parse_targets(target_cells, lines, target_name)
    return Table(
        name=name,
        column_names=feature_names,
        values=values,
        labels=labels,
        class_names=class_names,
        target_values=target_values,
        target_name=target_name,
    )


def table_csv(table: Table) -> str:
    """The table as CSV text that `parse_csv` reads back into an identical table: the header,
    then each row's values (shortest exact repr) and its target (class name, or value). A saved
    run of an uploaded data set keeps its data this way."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table.column_names, table.target_name])
    if table.labels is not None:
        assert table.class_names is not None
        targets = [table.class_names[label] for label in table.labels.tolist()]
    else:
        assert table.target_values is not None
        targets = [repr(value) for value in table.target_values.tolist()]
    for row, target in zip(table.values.tolist(), targets, strict=True):
        writer.writerow([*(repr(value) for value in row), target])
    return out.getvalue()


def load_iris() -> Table:
    """Fisher's Iris flowers (1936): 150 rows, 4 measurements in cm, 3 species of 50 each.

    Read from the CSV shipped inside the package, so it works from a notebook, a checkout or
    a non-editable install alike.
    """
    return parse_csv(IRIS_PATH.read_bytes(), name="iris")
