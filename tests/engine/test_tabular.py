"""CSV files become tables, and every bad file is refused with the line and column to fix."""

import pickle

import numpy as np
import pytest

from backprop_lab.engine.tabular import CsvError, Table, load_iris, parse_csv, table_csv

GOOD_TEXT_LABELS = """sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
"""


def refused(data, **limits) -> CsvError:
    with pytest.raises(CsvError) as caught:
        parse_csv(data, **limits)
    return caught.value


# --- good files ---------------------------------------------------------------------------------


def test_a_csv_with_text_labels_is_a_classification_table_with_sorted_class_names():
    table = parse_csv(GOOD_TEXT_LABELS, name="flowers")
    assert table.name == "flowers"
    assert table.column_names == ("sepal_length", "sepal_width")
    assert table.values.dtype == np.float64
    np.testing.assert_array_equal(table.values, [[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]])
    assert table.class_names == ("setosa", "versicolor", "virginica")
    assert table.classes == 3
    assert table.labels.dtype == np.int64
    np.testing.assert_array_equal(table.labels, [0, 1, 2, 0])
    assert table.target_values is None
    assert table.target_name == "species"


def test_a_csv_with_decimal_targets_is_a_regression_table():
    table = parse_csv("area,rooms,price\n50,2,150.5\n80,3,240.25\n120,4,399.0\n")
    assert table.classes is None
    assert table.labels is None and table.class_names is None
    assert table.target_values.dtype == np.float64
    np.testing.assert_array_equal(table.target_values, [150.5, 240.25, 399.0])
    assert table.values.shape == (3, 2)


def test_whole_number_targets_are_classes_ordered_by_value():
    table = parse_csv("x,y,label\n0,0,10\n1,1,2\n2,2,2.0\n3,3,10\n")
    assert table.class_names == ("2", "10")  # 2 before 10: by value, not as text
    np.testing.assert_array_equal(table.labels, [1, 0, 0, 1])


def test_more_than_32_distinct_whole_numbers_make_a_regression_target():
    rows = "".join(f"{i},{i * 3}\n" for i in range(40))
    table = parse_csv("x,y\n" + rows)
    assert table.classes is None
    assert table.target_values[-1] == 117.0


def test_a_byte_order_mark_windows_line_ends_spaces_and_trailing_blank_lines_are_accepted():
    data = "\ufeffx , y , class\r\n 1 , 2 , a\r\n3,4,b \r\n\r\n\r\n".encode()
    table = parse_csv(data)
    assert table.column_names == ("x", "y")
    np.testing.assert_array_equal(table.values, [[1.0, 2.0], [3.0, 4.0]])
    assert table.class_names == ("a", "b")


def test_a_text_string_with_a_byte_order_mark_is_accepted_too():
    assert parse_csv("\ufeffx,y\n1,a\n2,b\n").column_names == ("x",)


def test_quoted_cells_are_read_like_a_spreadsheet_writes_them():
    table = parse_csv('"first, value",label\n"1.5","big, red"\n2,small\n')
    assert table.column_names == ("first, value",)
    assert table.class_names == ("big, red", "small")


def test_exactly_the_row_and_column_caps_are_allowed():
    header = ",".join(f"c{i}" for i in range(4))
    rows = "".join(f"{i},{i},{i},{i % 2}\n" for i in range(5))
    table = parse_csv(header + "\n" + rows, max_rows=5, max_columns=4)
    assert table.values.shape == (5, 3)


# --- bad files: each names where the problem is --------------------------------------------------


def test_an_empty_file_is_refused():
    error = refused(b"  \n\n")
    assert "empty" in str(error)


def test_a_file_without_a_header_is_refused_at_line_1():
    error = refused("5.1,3.5,0\n4.9,3.0,1\n")
    assert error.row == 1
    assert str(error).startswith("row 1: no header")


def test_too_many_rows_are_refused_at_the_first_row_over_the_cap():
    rows = "".join(f"{i},{i % 2}\n" for i in range(11))
    error = refused("x,label\n" + rows, max_rows=10)
    assert error.row == 12  # header on line 1, data rows on lines 2 … 11 are allowed
    assert "too many rows" in str(error) and "10" in str(error)


def test_too_many_columns_are_refused():
    header = ",".join(f"c{i}" for i in range(5))
    error = refused(header + "\n1,2,3,4,0\n5,6,7,8,1\n", max_columns=4)
    assert error.row == 1
    assert "5 columns" in str(error) and "at most 4" in str(error)


def test_a_semicolon_csv_with_decimal_commas_reads_as_excel_in_an_indonesian_locale_wrote_it():
    # what Excel saves as "CSV" when Windows' decimal separator is a comma
    table = parse_csv("panjang;lebar;nilai\r\n0,5;-1.234,25;3,75\r\n2;1,5e-3;4\r\n", name="nilai.csv")
    assert table.column_names == ("panjang", "lebar") and table.target_name == "nilai"
    assert table.values.tolist() == [[0.5, -1234.25], [2.0, 0.0015]]
    assert table.is_regression and table.target_values is not None
    assert table.target_values.tolist() == [3.75, 4.0]


def test_a_tab_separated_file_with_text_classes_is_read_too():
    table = parse_csv("x1\tx2\tkelas\n0,1\t0,2\tmerah\n0,3\t0,4\tbiru\n")
    assert table.values.tolist() == [[0.1, 0.2], [0.3, 0.4]] and table.class_names == ("biru", "merah")


def test_a_comma_separated_file_keeps_commas_as_separators_not_decimals():
    table = parse_csv('a,b,c\n1,2,"x,y"\n3,4,z\n')
    assert table.values.tolist() == [[1.0, 2.0], [3.0, 4.0]] and table.class_names == ("x,y", "z")


def test_a_single_column_is_refused():
    error = refused("label\na\nb\n")
    assert error.row == 1
    assert "at least 2" in str(error)


def test_a_row_with_the_wrong_number_of_cells_is_refused_with_its_line():
    error = refused("x,y,label\n1,2,a\n3,b\n5,6,c\n")
    assert (error.row, error.column) == (3, None)
    assert str(error) == "row 3: has 2 cells, expected 3 like the header"


def test_a_missing_value_is_refused_with_its_row_and_column():
    error = refused("x,y,label\n1,2,a\n3,,b\n")
    assert (error.row, error.column) == (3, "y")
    assert "missing" in str(error)


def test_a_missing_target_is_refused_with_the_target_column():
    error = refused("x,label\n1,a\n3,\n")
    assert (error.row, error.column) == (3, "label")


def test_a_non_numeric_feature_is_refused_naming_row_column_and_cell():
    data = "sepal_length,petal_width,species\n" + "1,2,a\n" * 5 + "1,abc,b\n"
    error = refused(data)
    assert (error.row, error.column) == (7, "petal_width")
    assert error.message == "'abc' is not a number"
    assert str(error) == "row 7, column 'petal_width': 'abc' is not a number"


@pytest.mark.parametrize("cell", ["nan", "inf", "-Infinity", "NaN"])
def test_a_non_finite_feature_is_refused(cell):
    error = refused(f"x,label\n1,a\n{cell},b\n")
    assert (error.row, error.column) == (3, "x")
    assert "not a finite number" in str(error)


def test_a_non_finite_regression_target_is_refused():
    error = refused("x,price\n1,2.5\n2,inf\n")
    assert (error.row, error.column) == (3, "price")


def test_a_target_with_only_one_class_is_refused_naming_the_column():
    error = refused("x,y,label\n1,2,cat\n3,4,cat\n")
    assert (error.row, error.column) == (None, "label")
    assert "only one class" in str(error) and "'cat'" in str(error)


def test_fewer_than_two_data_rows_are_refused():
    error = refused("x,label\n1,a\n")
    assert "1 data row " in str(error) and "at least 2" in str(error)


def test_bytes_that_are_not_utf8_are_refused_with_the_line_they_are_on():
    error = refused(b"x,label\n1,a\n2,caf\xe9\n")
    assert error.row == 3
    assert "UTF-8" in str(error)


def test_a_header_with_an_empty_or_repeated_name_is_refused():
    assert "no name" in str(refused("x,,label\n1,2,a\n3,4,b\n"))
    error = refused("x,x,label\n1,2,a\n3,4,b\n")
    assert (error.row, error.column) == (1, "x")


def test_csv_errors_are_value_errors_that_survive_pickling():
    error = refused("x,label\n1,a\nz,b\n")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.row, copy.column, str(copy)) == (error.row, error.column, str(error))
    assert (copy.code, copy.params) == ("not_a_number", {"value": "z"})


@pytest.mark.parametrize(
    ("text", "limits", "code", "params"),
    [
        ("", {}, "empty_file", {}),
        ("a,b,label\n1,2,x\n3,oops,y\n", {}, "not_a_number", {"value": "oops"}),
        ("a,b,label\n1,,x\n3,4,y\n", {}, "missing_value", {}),
        ("a,b,label\n1,2,x\n3,4\n", {}, "wrong_cell_count", {"count": 2, "expected": 3}),
        ("a,label\n1,x\n", {}, "too_few_rows", {"count": 1}),
        ("a,b,c,label\n1,2,3,x\n", {"max_columns": 3}, "too_many_columns", {"count": 4, "maximum": 3}),
        ("a,label\n1,x\n2,x\n", {}, "one_class", {"value": "x"}),
        ("1,2\n3,4\n5,6\n", {}, "no_header", {}),
    ],
)
def test_every_csv_error_has_a_stable_code_and_its_numbers_for_translation(text, limits, code, params):
    error = refused(text, **limits)
    assert (error.code, error.params) == (code, params)


# --- Iris ---------------------------------------------------------------------------------------


def test_iris_loads_150_flowers_with_4_measurements_and_3_balanced_species():
    iris = load_iris()
    assert isinstance(iris, Table)
    assert iris.name == "iris"
    assert iris.values.shape == (150, 4)
    assert iris.column_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert iris.class_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(np.bincount(iris.labels), [50, 50, 50])


def test_iris_holds_the_real_measurements():
    iris = load_iris()
    np.testing.assert_array_equal(iris.values[0], [5.1, 3.5, 1.4, 0.2])  # Fisher's first setosa
    np.testing.assert_allclose(iris.values.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-4)
    setosa_petals = iris.values[iris.labels == 0, 2]
    assert setosa_petals.max() < iris.values[iris.labels != 0, 2].min()  # setosa is separable


@pytest.mark.parametrize(
    "text",
    [
        "a,b,label\n0.1,2,cat\n1e-9,-3.5,dog\n0.3,4,cat\n",  # text classes
        "x,y\n1,10\n2,20\n3,10\n",  # whole-number classes
        "x,\"odd, name\",target\n0.5,1,0.25\n1.5,2,1.75\n2.5,3,-3.125\n",  # regression, a quoted header
    ],
)
def test_a_table_written_as_csv_reads_back_identically(text):
    table = parse_csv(text, name="t")
    again = parse_csv(table_csv(table), name="t")
    assert again.column_names == table.column_names and again.target_name == table.target_name
    assert again.class_names == table.class_names
    assert np.array_equal(again.values, table.values)
    for field in ("labels", "target_values"):
        before, after = getattr(table, field), getattr(again, field)
        assert (before is None and after is None) or np.array_equal(before, after)


def test_random_values_survive_the_round_trip_bit_for_bit():
    values = np.random.default_rng(0).normal(size=(50, 3)) * 10.0 ** np.arange(-5, 10, 5)  # (50, 3)
    rows = "\n".join(",".join(repr(v) for v in row) + f",{'ab'[i % 2]}" for i, row in enumerate(values.tolist()))
    table = parse_csv("p,q,r,label\n" + rows + "\n")
    assert np.array_equal(parse_csv(table_csv(table)).values, values)
