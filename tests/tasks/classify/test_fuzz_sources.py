"""Hostile OHLCV CSVs, ListOps files and SST trees: a `DataError` naming the file and
line, or data that keeps the readers' promises; well-formed files read back."""

import csv
import datetime
import io
import itertools
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import trees
from tasks.classify import listops, ohlcv
from tasks.classify.modalities import text as text_modality
from tests.tasks.classify.data import load_data
from tests.tasks.fuzz import fresh_folder, raw_bytes, read_or_error, tree, tried

HEADERS = ["Date,Open,High,Low,Close,Volume", "date,open,high,low,close,volume,ticker", "x"]
PRICE = st.floats(1e-6, 1e9, allow_nan=False)
TICKER = st.text(st.sampled_from('AB,"\n é'), min_size=1, max_size=4).filter(str.strip)
BREAK = st.sampled_from(["nan", "-1", "0", "abc", "", "1e999"])


def _lines_before(csv_text: str) -> int:
    return len(io.StringIO(csv_text, newline="").readlines())


@settings(max_examples=50)
@given(st.sampled_from(HEADERS), st.lists(raw_bytes, max_size=5))
def test_ohlcv_hostile_csv_errors_or_gives_clean_increasing_series(tmp_path, header, lines):
    tried("OHLCV reader")
    path = fresh_folder(tmp_path) / "x.csv"
    path.write_bytes(header.encode() + b"\n" + b"\n".join(lines))
    series, _ = read_or_error(lambda: ohlcv.read(path), path)
    for dates, table in (series or {}).values():
        assert table.shape == (len(dates), 5) and np.isfinite(table).all()
        assert (table[:, :4] > 0).all() and (table[:, 4] >= 0).all()
        assert (np.diff(dates) > np.timedelta64(0, "D")).all()


@settings(max_examples=40)
@given(TICKER, st.lists(st.tuples(st.integers(1, 9), st.lists(PRICE, min_size=5, max_size=5)),
                        min_size=1, max_size=6), st.data())  # fmt: skip
def test_ohlcv_reads_back_and_names_the_line_of_a_bad_value(tmp_path, ticker, days, data):
    tried("OHLCV reader")
    path = fresh_folder(tmp_path) / "x.csv"
    gaps = (datetime.timedelta(gap) for gap, _ in days)
    dates = list(itertools.accumulate(gaps, initial=datetime.date(2020, 1, 1)))[1:]
    rows = [[d.isoformat(), *map(repr, v), ticker] for d, (_, v) in zip(dates, days, strict=True)]
    out = io.StringIO()
    csv.writer(out).writerows([HEADERS[1].split(","), *rows])  # quotes the ticker's commas
    path.write_text(out.getvalue(), encoding="utf-8")
    ((got_dates, table),) = ohlcv.read(path).values()
    assert got_dates.tolist() == list(dates) and table.tolist() == [v for _, v in days]
    k, column = data.draw(st.integers(0, len(rows) - 1)), data.draw(st.integers(0, 6))
    rows[k][column] = (
        data.draw(BREAK.filter(lambda v: column != 5 or v != "0")) if column < 6 else " "
    )
    if column == 0 and k > 0:
        rows[k][0] = data.draw(st.sampled_from([rows[k - 1][0], "2020-13-45"]))
    out = io.StringIO()
    csv.writer(out).writerows([HEADERS[1].split(","), *rows[:k]])
    start = _lines_before(out.getvalue()) + 1
    csv.writer(out).writerows(rows[k:])
    path.write_text(out.getvalue(), encoding="utf-8")
    assert read_or_error(lambda: ohlcv.read(path), path) == (None, start)


@settings(max_examples=50)
@given(st.booleans(), st.lists(raw_bytes, max_size=4))
def test_listops_hostile_lines_error_or_give_parsable_expressions_with_their_value(
    tmp_path, lra_header, lines
):
    tried("ListOps reader")
    path = fresh_folder(tmp_path) / "test.tsv"
    path.write_bytes((b"Source\tTarget\n" if lra_header else b"") + b"\n".join(lines))
    examples, _ = read_or_error(lambda: listops.read(path), path)
    for label, expression in examples or []:
        assert label == listops.evaluate(expression)
    trees.check([x for _, x in examples or []], ["-"] * len(examples or []), labelled=False)


@settings(max_examples=25)
@given(st.integers(1, 6), st.integers(0, 10**6), st.data())
def test_listops_reads_back_and_names_a_broken_line(tmp_path, size, seed, data):
    tried("ListOps reader")
    path = fresh_folder(tmp_path) / "train.tsv"
    examples = listops.generate(size, seed, max_length=30)
    listops.write(path, examples)
    assert listops.read(path) == examples
    k = data.draw(st.integers(0, size - 1))
    label, expression = examples[k]
    lines = [f"{y}\t{x}" for y, x in examples]
    lines[k] = data.draw(st.sampled_from([
        f"{(label + 1) % 10}\t{expression}", f"{label}\t{expression[:-2]}",
        f"{label}\t{expression.replace('(', '').replace(')', '')}", f"{label} {expression}",
    ]))  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_or_error(lambda: listops.read(path), path) == (None, k + 1)


def _sst(folder, lines: list[str], *overrides: str):
    for name in ("train.txt", "dev.txt", "test.txt"):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_or_error(lambda: load_data(f"sst:{folder}", *overrides), folder / "train.txt")


@settings(max_examples=40)
@given(st.lists(raw_bytes.map(lambda b: b.decode("utf-8", "replace")), max_size=4))
def test_sst_hostile_lines_error_or_give_fine_labels(tmp_path, lines):
    tried("SST reader")
    data, _ = _sst(fresh_folder(tmp_path), lines)
    for split in data.splits.values() if data else []:
        assert set(split.y.tolist()) <= {0, 1, 2, 3, 4}
        trees.check(split.x.tolist(), ["-"] * len(split.x), labelled=True)


LABELLED = tree(True, st.sampled_from("01234")).map(
    lambda t: re.sub(r"\s+", " ", t[0], flags=re.ASCII)
)


@settings(max_examples=30)
@given(st.lists(LABELLED, min_size=1, max_size=5), st.data())
def test_sst_reads_back_and_names_a_broken_line(tmp_path, lines, data):
    tried("SST reader")
    folder = fresh_folder(tmp_path)
    data_, _ = _sst(folder, lines, "tree=childsum")  # nodes of any number of children
    assert data_.splits["train"].x.tolist() == lines
    assert data_.splits["train"].y.tolist() == [int(t.lstrip("( ")[0]) for t in lines]
    k = data.draw(st.integers(0, len(lines) - 1))
    lines[k] = data.draw(st.sampled_from([
        lines[k][:-1], "(7 " + lines[k].lstrip("( ")[1:], "(3 (x a) (2 b))", "3", "(3 a) (2 b)",
    ]))  # fmt: skip
    assert _sst(folder, lines, "tree=childsum") == (None, k + 1)


@settings(max_examples=50)
@given(st.sampled_from(["text,label\n", "label\ttext\n", "Review,Sentiment\r\n", ""]),
       st.lists(raw_bytes, max_size=5), st.sampled_from(["a.csv", "a.tsv"]))  # fmt: skip
def test_text_tables_error_or_give_texts_and_labels(tmp_path, header, lines, name):
    tried("text table reader")
    path = fresh_folder(tmp_path) / name
    path.write_bytes(header.encode() + b"\n".join(lines))
    rows, _ = read_or_error(lambda: list(text_modality._table(path)), path)
    for content, label, origin in rows or []:
        assert content == content.strip() and content and label and origin.startswith(str(path))
