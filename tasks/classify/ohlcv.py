"""Real price data: OHLCV CSV files, checked row by row, cut into labelled windows.

Columns Date, Open, High, Low, Close, Volume (any order, any case; Ticker and
Adj Close optional, Adj Close unused). PATH is one CSV (one or many tickers) or a
folder of them (the file name is the ticker when there is no Ticker column).
A window of N days is labelled by the log return over the next H days: down, flat
(inside the dead zone) or up. Features never look past a window's last day.
"""

import csv
import datetime
import io
from pathlib import Path

import numpy as np

from common.errors import DataError
from tasks.base import read_text

CLASSES = ("down", "flat", "up")
REQUIRED = ("date", "open", "high", "low", "close", "volume")


def read(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`{ticker: (dates, table)}`, `table` `(days, 5)` float64 in OHLCV order."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files or not files[0].is_file():
        raise DataError(f"{path}: no such CSV file or folder of CSV files")
    out: dict[str, tuple[list, list]] = {}
    for file in files:
        for ticker, rows in _read_file(file).items():
            if ticker in out:
                raise DataError(f"{file}: ticker {ticker} also appears in another file")
            out[ticker] = rows
    return {t: (np.array(d, dtype="datetime64[D]"), np.array(v)) for t, (d, v) in out.items()}


def _read_file(file: Path) -> dict[str, tuple[list, list]]:
    reader = csv.reader(io.StringIO(read_text(file), newline=""))
    tickers: dict[str, tuple[list, list]] = {}
    start = 1  # the line the next row starts on (a quoted field may hold newlines)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DataError(f"{file}: missing column(s) {', '.join(missing)}; has {header}")
        index = {c: header.index(c) for c in (*REQUIRED, "ticker") if c in header}
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise DataError(f"{file}:{line}: expected {len(header)} fields, got {len(row)}")
            ticker = row[index["ticker"]].strip() if "ticker" in index else file.stem
            if not ticker:
                raise DataError(f"{file}:{line}: empty ticker")
            dates, values = tickers.setdefault(ticker, ([], []))
            date = _date(row[index["date"]], file, line)
            if dates and date <= dates[-1]:
                problem = "duplicates" if date == dates[-1] else "comes before"
                raise DataError(
                    f"{file}:{line}: date {date} {problem} the previous row's ({dates[-1]}) "
                    f"for {ticker}; rows must be in strictly increasing date order"
                )
            dates.append(date)
            values.append([_number(row[index[c]], c, file, line) for c in REQUIRED[1:]])
    except csv.Error as err:
        raise DataError(f"{file}:{start}: {err}") from None
    if not tickers:
        raise DataError(f"{file}: no rows after the header")
    return tickers


def _date(text: str, file: Path, line: int) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise DataError(f"{file}:{line}: date {text!r} is not YYYY-MM-DD") from None


def _number(text: str, column: str, file: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{file}:{line}: {column} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise DataError(f"{file}:{line}: {column} is {text.strip()}")
    if value < 0 or (value == 0 and column != "volume"):
        raise DataError(f"{file}:{line}: {column} must be positive, got {value}")
    return value


def windows(table: np.ndarray, window: int, horizon: int, dead_zone: float, name: str):
    """All windows of one ticker, in time order: the row each starts at `(n,)` (a
    window covers rows `[start, start + window)`), labels, `previous`.

    `previous[i]` is the index of the window whose label was known when window `i`
    ended (it ended `horizon` days earlier), or -1: the "same as last" baseline.
    """
    count = len(table) - window - horizon + 1
    if count < 1:
        raise DataError(
            f"{name}: {len(table)} rows, need at least window + horizon = {window + horizon}"
        )
    ends = np.arange(window, window + count)
    close = table[:, 3]
    future = np.log(close[ends - 1 + horizon] / close[ends - 1])
    labels = np.where(future > dead_zone, 2, np.where(future < -dead_zone, 0, 1))
    previous = np.where(np.arange(count) >= horizon, np.arange(count) - horizon, -1)
    return ends - window, labels, previous


def chronological(count: int, horizon: int, shares=(0.7, 0.15)) -> dict[str, np.ndarray]:
    """Indices of time-ordered windows: train, val, test, with `horizon` windows dropped
    between them, so that no training label sees a day that a later split predicts."""
    train_end = int(count * shares[0])
    val_end = int(count * (shares[0] + shares[1]))
    return {
        "train": np.arange(0, train_end),
        "val": np.arange(train_end + horizon, val_end),
        "test": np.arange(val_end + horizon, count),
    }
