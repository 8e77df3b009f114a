"""docs/tracking-plan.md against the code, where the two can be compared mechanically.

The tracking plan is what a retailer's data team configures their shop, app, POS and email
system from; a data category or a property name that drifted from the code would send them
the wrong data. These tests read the document's tables and compare them with the vocabulary
the code uses (`consent.purposes`, `ingest.rules`, `identity.rules`, `consent.rules`,
`privacy.requests`), and with what the source reads.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from maison.consent import purposes
from maison.consent.purposes import _TRACK_CATEGORIES, CONTENT_PAGE_TYPES, classify
from maison.consent.rules import entries_from_consent_event
from maison.core.orders import ORDER_VALUE_KEYS
from maison.core.settings import IngestSettings
from maison.identity import rules as identity_rules
from maison.ingest import gate
from maison.ingest import rules as ingest_rules
from maison.ingest.repository import EVENT_COLUMNS
from maison.privacy import requests as privacy_requests

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "tracking-plan.md"
SRC = ROOT / "src" / "maison"
UNREAD = "—"  # the "read by" cell of an event no code looks for by name


# ---------------------------------------------------------------- reading the markdown


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(heading: str) -> str:
    """The text under `heading` (a whole heading line), up to the next heading of its level or higher."""
    lines = _text().splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading)
    except ValueError:
        pytest.fail(f"{DOC.name} has no heading {heading!r}")
    body = []
    for line in lines[start + 1 :]:
        marks = len(line) - len(line.lstrip("#"))
        if 0 < marks <= level and line[marks:marks + 1] == " ":
            break
        body.append(line)
    return "\n".join(body)


def _tables(text: str) -> list[list[list[str]]]:
    """Every markdown table in `text`: rows of cells, the header row first, the separator left out."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def _table(text: str, first_header: str) -> list[list[str]]:
    """The rows (without the header) of the table whose first header cell is `first_header`."""
    for table in _tables(text):
        if table[0][0] == first_header:
            return table[1:]
    pytest.fail(f"no table with a first column {first_header!r} in that part of {DOC.name}")


def _spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def _plain(cell: str) -> str:
    return cell.strip().strip("`")


def _catalogue() -> list[list[str]]:
    return _table(_section("## Event catalogue"), "event")


def _reads(source: Any, pattern: str) -> set[str]:
    """The names a function reads, found in its source by a regular expression."""
    return set(re.findall(pattern, inspect.getsource(source)))


# ---------------------------------------------------------------- events and their categories


def test_every_track_event_the_code_classifies_is_listed_with_its_category() -> None:
    listed: dict[str, str] = {}
    for row in _catalogue():
        name, category = _plain(row[0]), _plain(row[1])
        assert name not in listed, f"{name!r} is listed twice in the event catalogue"
        listed[name] = category
    missing = sorted(set(_TRACK_CATEGORIES) - set(listed))
    assert not missing, f"events the code classifies but the tracking plan does not list: {missing}"
    wrong = {name: (listed[name], code) for name, code in _TRACK_CATEGORIES.items() if listed[name] != code}
    assert not wrong, f"data category in the document differs from consent.purposes (doc, code): {wrong}"


def test_every_event_the_catalogue_lists_is_one_the_code_knows() -> None:
    unknown = sorted({_plain(row[0]) for row in _catalogue()} - set(_TRACK_CATEGORIES))
    assert not unknown, f"the tracking plan lists events the code does not classify: {unknown}"


def test_the_category_of_unknown_events_is_the_one_classify_gives() -> None:
    said = re.search(r"Any other track event name is filed under `(\w+)`", _text())
    assert said, "the tracking plan must say which category an unknown track event falls under"
    assert said.group(1) == classify({"type": "track", "event": "Something No Retailer Sends"})


def test_message_types_have_the_categories_classify_gives() -> None:
    rows = _table(_section("## Data categories (consent purposes)"), "message")
    stated = {(_plain(r[0]), _plain(r[2])) for r in rows if re.fullmatch(r"`\w+`", r[2])}
    content, other = sorted(CONTENT_PAGE_TYPES)[0], "product_listing"
    examples = [
        {"type": "identify", "traits": {"declared_categories": ["Knitwear"]}},
        {"type": "identify", "traits": {"city": "Paris"}},
        {"type": "identify"},
        {"type": "alias", "previousId": "a"},
        {"type": "group", "groupId": "g"},
        {"type": "page", "properties": {"content_type": content}},
        {"type": "page", "properties": {"content_type": other}},
        {"type": "screen", "properties": {"content_type": content}},
        {"type": "screen"},
        {"type": "track", "event": "Something No Retailer Sends"},
    ]
    expected = {(m["type"], classify(m)) for m in examples}
    assert expected - stated == set(), f"classifications missing from the tracking plan: {expected - stated}"
    assert stated - expected == set(), f"classifications the code does not make: {stated - expected}"


def test_content_page_types_are_the_codes() -> None:
    said = re.search(r"^Content page types: (.*)\.$", _text(), re.MULTILINE)
    assert said, "the tracking plan must list the content page types"
    assert set(_spans(said.group(1))) == set(CONTENT_PAGE_TYPES)


def test_purposes_are_listed_by_level() -> None:
    rows = {_plain(r[0]): set(_spans(r[1])) for r in _table(_section("## Data categories (consent purposes)"), "level")}
    assert rows == {
        "L1": set(purposes.L1_PURPOSES),
        "L2": set(purposes.L2_PURPOSES),
        "L3": set(purposes.L3_PURPOSES),
        "not purposes": {purposes.CONSENT_RECORD, purposes.IDENTITY, purposes.SERVICE},
    }


def test_events_said_to_be_unread_are_not_read_and_cited_readers_name_them() -> None:
    sources = {
        path.relative_to(SRC).as_posix(): path.read_text(encoding="utf-8")
        for path in SRC.rglob("*.py")
        if not path.relative_to(SRC).as_posix().startswith("bench/")
    }
    for row in _catalogue():
        name, read_by = _plain(row[0]), row[2]
        if read_by.startswith(UNREAD):
            readers = sorted(p for p, text in sources.items() if name in text and p != "consent/purposes.py")
            assert not readers, f"{name!r} is marked as read by no code, but {readers} name it"
            continue
        cited = [s for s in _spans(read_by) if s.endswith(".py")]
        assert cited, f"{name!r}: the read-by column cites no module"
        absent = [p for p in cited if p not in sources]
        assert not absent, f"{name!r}: no such modules under src/maison: {absent}"
        assert any(name in sources[p] for p in cited), f"none of the modules cited for {name!r} names it"


# ---------------------------------------------------------------- fields the code reads


def test_the_typed_columns_and_the_fields_they_come_from_are_documented() -> None:
    section = _section("## Typed columns extracted at ingest")
    rows = _table(section, "column")
    columns = {s for r in rows for s in _spans(r[0])}
    stored = set(EVENT_COLUMNS) - {"source", "client_id", "raw"}
    assert stored <= columns, f"typed columns missing from the tracking plan: {sorted(stored - columns)}"
    spans = set(_spans(section)) | set(_spans(_section("## Identity resolution")))  # normalize finds identifiers too
    props = (_reads(ingest_rules.normalize, r'props\.get\("(\w+)"\)')
             | _reads(ingest_rules.normalize, r'_number\(props, "(\w+)"\)')
             | set(ORDER_VALUE_KEYS))  # the order value `_money` stores
    context = _reads(ingest_rules.normalize, r'context\.get\("(\w+)"\)')
    wanted = {f"properties.{p}" for p in props} | {f"context.{c}" for c in context}
    missing = sorted(wanted - spans)
    assert not missing, f"fields ingest reads that the typed-column and identity sections do not name: {missing}"


def test_the_identifiers_identity_resolution_reads_are_documented() -> None:
    spans = set(_spans(_section("## Identity resolution")))
    traits = (_reads(identity_rules.identifiers_of, r'traits\.get\("(\w+)"\)')
              | _reads(identity_rules.identifiers_of, r'place\(traits, "(\w+)"\)')
              | set(identity_rules._LOYALTY_KEYS))
    wanted = {f"traits.{t}" for t in traits}
    assert wanted <= spans, f"identity traits the tracking plan does not name: {sorted(wanted - spans)}"


def test_the_consent_updated_fields_are_documented() -> None:
    section = _section("### Consent Updated")
    spans = set(_spans(section))
    props = (_reads(entries_from_consent_event, r'properties\.get\("(\w+)"\)')
             | _reads(entries_from_consent_event, r'\("(\w+)", (?:True|False)\)')  # the granted / revoked lists
             | _reads(gate.admit, r'props\.get\("(\w+)"\)'))
    context = _reads(gate.admit, r'context\.get\("(\w+)"\)') | {"channel"}  # the method (`gate._method`)
    wanted = {f"properties.{p}" for p in props} | {f"context.{c}" for c in context}
    assert wanted <= spans, f"Consent Updated fields the tracking plan does not name: {sorted(wanted - spans)}"
    methods = re.search(r"channel in \(([^)]*)\)", inspect.getsource(gate._method))
    assert methods, "gate._method no longer lists its channels: update this test"
    assert set(re.findall(r'"(\w+)"', methods.group(1))) <= spans, "consent methods missing from the tracking plan"
    levels = set(re.findall(r'"(L\d)"', inspect.getsource(entries_from_consent_event)))
    assert {f'"{level}"' for level in levels} <= spans, "personalization levels missing from the tracking plan"


def test_the_privacy_request_events_are_documented() -> None:
    section = _section("### Privacy requests")
    rows = _table(section, "event")
    listed = {_plain(r[0]) for r in rows}
    assert listed == set(privacy_requests.REQUEST_EVENTS)
    props = _reads(privacy_requests.from_events, r'props\.get\("(\w+)"\)')
    assert {f"properties.{p}" for p in props} <= set(_spans(section))


def test_the_size_limits_are_the_settings_defaults() -> None:
    text = _text()
    event = re.search(r"\*\*(\d+) KB per message\*\*", text)
    request = re.search(r"\*\*(\d+) KB per request\*\*", text)
    assert event and request, "the tracking plan must state the per-message and per-request limits"
    defaults = IngestSettings()
    assert int(event.group(1)) * 1024 == defaults.max_event_bytes
    assert int(request.group(1)) * 1024 == defaults.max_request_bytes


def test_every_module_the_document_cites_exists() -> None:
    cited = {s for s in _spans(_text()) if re.fullmatch(r"[a-z_]+(/[a-z_0-9]+)*\.py", s)}
    assert cited, "the tracking plan cites no module"
    missing = sorted(p for p in cited if not (SRC / p).is_file())
    assert not missing, f"the tracking plan cites modules that do not exist under src/maison: {missing}"
