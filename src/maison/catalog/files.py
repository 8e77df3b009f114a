"""Import files as records with line numbers: JSON lines or CSV, decoded to one shape (pure).

Both formats become the same plain records (what a JSON line would hold), so that one set of
rules validates either. Line numbers are the physical lines of the file, counted from 1, so a
merchandiser can open the file at the line an error names.

CSV conventions (one format, documented in the catalog README):
- the first line is the header; column names are the JSON field names;
- an empty cell means "absent" (the field's default, or "is required");
- list cells are `;`-separated values: `silk;cashmere` (a JSON array in a list cell is refused,
  so that `["silk"]` never becomes the one material `["silk"]`);
- booleans are `true`/`false` (also `yes`/`no`, `1`/`0`);
- `stock` is one JSON cell: `{"online": {"M": 3}, "london": {"M": 0}}`. Columns such as
  `stock_online_M` were not chosen: sizes and store ids may contain `_` (`one_size`), which
  would make such column names ambiguous.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from maison.catalog.entities import RowError

Format = Literal["jsonl", "csv"]
Kind = Literal["text", "list", "bool", "number", "json"]
Record = dict[str, Any]
Lined = list[tuple[int, Record]]

SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class CellError(ValueError):
    """A CSV cell that cannot be decoded to its field's kind."""


class _Undecoded:
    """Stands for a cell that failed to decode: the field is present (so no "is required"),
    and any rule error on it repeats the decoding error, which the rules then leave out."""

    def __repr__(self) -> str:
        return "<undecoded cell>"


UNDECODED = _Undecoded()


def format_for(filename: str) -> Format | None:
    """The format a file name implies, or None when its suffix is not one we read."""
    for suffix, fmt in SUFFIXES.items():
        if filename.lower().endswith(suffix):
            return fmt
    return None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json(text: str) -> Any:
    # Decimal keeps prices exact (19.99 stays 19.99); NaN and Infinity are refused.
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)


def read_jsonl(text: str) -> tuple[Lined, list[RowError]]:
    """One JSON object per line; blank lines are skipped but still counted."""
    records: Lined = []
    errors: list[RowError] = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028, which splitlines breaks on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = _json(line)
        except ValueError as exc:
            errors.append(RowError(number, None, f"not valid JSON ({exc})"))
            continue
        if not isinstance(value, dict):
            errors.append(RowError(number, None, "each line must be one JSON object"))
            continue
        records.append((number, value))
    return records, errors


def decode_cell(cell: str, kind: Kind) -> Any:
    """The JSON-shaped value of one non-empty CSV cell."""
    if kind == "list":
        if cell.startswith("["):
            raise CellError("list cells are ';'-separated values, not JSON arrays")
        return [item.strip() for item in cell.split(";") if item.strip()]
    if kind == "bool":
        if cell.lower() in _TRUE:
            return True
        if cell.lower() in _FALSE:
            return False
        raise CellError("must be true or false")
    if kind == "number":
        try:
            return Decimal(cell)
        except InvalidOperation:
            raise CellError("must be a number, such as 520 or 19.99") from None
    if kind == "json":
        try:
            return _json(cell)
        except ValueError:
            raise CellError('must be a JSON value, such as {"online": {"M": 3}}') from None
    return cell


def _csv_header(header: list[str], columns: Mapping[str, Kind]) -> list[RowError]:
    errors = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(1, name, "column appears twice in the header"))
        elif name not in columns:
            errors.append(RowError(1, name, f"unknown column; allowed: {', '.join(columns)}"))
        seen.add(name)
    return errors


def _csv_record(
    number: int, header: list[str], cells: list[str], columns: Mapping[str, Kind]
) -> tuple[Record, list[RowError]]:
    record: Record = {}
    errors: list[RowError] = []
    if len(cells) > len(header):
        errors.append(RowError(number, None, f"{len(cells)} cells but {len(header)} columns"))
    for name, cell in zip(header, cells, strict=False):
        if name not in columns or not cell.strip():
            continue
        try:
            record[name] = decode_cell(cell.strip(), columns[name])
        except CellError as exc:
            errors.append(RowError(number, name, str(exc)))
            record[name] = UNDECODED
    return record, errors


def read_csv(text: str, *, columns: Mapping[str, Kind]) -> tuple[Lined, list[RowError]]:
    """Rows under a header of field names; each record is numbered by its first line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return [], []
    except csv.Error as exc:
        return [], [RowError(1, None, f"not valid CSV ({exc})")]
    errors = _csv_header(header, columns)
    records: Lined = []
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(start, None, f"not valid CSV ({exc})"))
            break
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        record, row_errors = _csv_record(start, header, cells, columns)
        errors.extend(row_errors)
        records.append((start, record))
    return records, errors


def read_records(
    text: str, *, fmt: Format, columns: Mapping[str, Kind]
) -> tuple[Lined, list[RowError]]:
    """Records and the lines they start on, with every problem of decoding found on the way."""
    if fmt == "csv":
        return read_csv(text, columns=columns)
    return read_jsonl(text)
