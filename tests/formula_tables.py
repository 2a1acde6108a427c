"""A CSV whose column names and class labels a spreadsheet would run as formulas, for the CSV
injection tests (tests/server/test_csv_injection.py, tests/browser/test_csv_injection.py)."""

from __future__ import annotations

import csv
import io


def formula_table(columns: tuple[str, ...], labels: tuple[str, ...], rows: int = 60) -> str:
    """Four numeric input columns named `columns` (one with negative values), then the class
    label, cycling through `labels`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*columns, "label"])
    for row in range(rows):
        writer.writerow([row % 5, -0.5 * (row % 7), row % 3, row % 2, labels[row % len(labels)]])
    return out.getvalue()
