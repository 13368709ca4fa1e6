"""Every quoted field of every plan fixture stands, word for word, in its source document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tasks.loading import FIXTURE_DIR

SOURCES = FIXTURE_DIR.parent / "sources"
_WS = re.compile(r"\s+")


def squeeze(text: str) -> str:
    return _WS.sub("", str(text))


def quotes(data: dict):
    """(place, quoted text) for every field that must be the document's own words."""
    for d in data.get("departments") or []:
        for alias in d.get("aliases") or []:
            yield f"alias of {d['name']}", alias
    for ind in data.get("indicators") or []:
        yield f"indicator {ind['code']}", ind["source_text"]
        for cited in ind.get("departments") or []:
            yield f"indicator {ind['code']} department", cited
        for m in (ind.get("milestones") or []) + (ind.get("alternatives") or []):
            if m.get("source_text"):
                yield f"indicator {ind['code']} {m['year']}", m["source_text"]

    def walk(tasks):
        for t in tasks:
            yield f"task {t['clause']}", t["text"]
            if t.get("schedule"):
                yield f"task {t['clause']} schedule", t["schedule"]
            for cited in (t.get("lead") or []) + (t.get("support") or []):
                yield f"task {t['clause']} department", cited
            yield from walk(t.get("subtasks") or [])

    yield from walk(data.get("tasks") or [])


FIXTURES = sorted(FIXTURE_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_every_quote_is_found_in_the_source_document(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = squeeze((SOURCES / data["plan"]["source_document"]).read_text(encoding="utf-8"))
    missing = [(place, text) for place, text in quotes(data) if squeeze(text) not in source]
    assert missing == []


def test_every_plan_fixture_names_an_existing_source():
    assert len(FIXTURES) == 4
    for path in FIXTURES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert (SOURCES / data["plan"]["source_document"]).is_file(), path.name


def test_the_template_document_is_not_a_plan():
    documents = {
        yaml.safe_load(p.read_text(encoding="utf-8"))["plan"]["source_document"] for p in FIXTURES
    }
    assert "001_02cc48c0b5bc32d1.txt" not in documents
