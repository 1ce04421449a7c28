"""The records (core/records.py) are the one declaration of a measure's, a milestone's and a
delay's fields: what lists, reads and validates them follows a new field by itself.

"A new field" is a subclass here, `ContactMeasure`, with what docs/architecture.md's
walk-through adds to `records.Measure`: an editable, restorable text with a default (a
field added after files were first written).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from koordinator.core import history, records
from koordinator.core.errors import SnapshotError
from koordinator.core.records import Measure, Text, role
from koordinator.core.snapshot_reader import _Lines, _Reader


@dataclass
class ContactMeasure(Measure):
    contact: Text = field(
        default="", metadata=role(label="Ansprechperson", editable=True, restorable=True)
    )


def _measure(**values: object) -> ContactMeasure:
    base = {
        "number": "1.17",
        "field_code": 1,
        "title": "Digitale Akte",
        "unit": "FB 12",
        "origin": "added",
        "origin_date": "2021-03",
        "status": "planning",
        "note": "",
        "revision": 1,
        "updated_at": "2021-03-01T10:00:00.000000Z",
        "uid": "5f0c2a3e-6f43-4c1e-9a57-6b6f6f7264e1",
    }
    return ContactMeasure(**{**base, **values})  # type: ignore[arg-type]


def test_a_new_field_is_edited_restored_and_carried_by_payloads_and_snapshots() -> None:
    assert records.editable(ContactMeasure) == ("title", "unit", "note", "contact")
    assert "contact" in records.restorable(ContactMeasure)
    assert records.payload(ContactMeasure, _measure(contact="Frau A."))["contact"] == "Frau A."
    assert records.table(_measure(contact="Frau A."))["contact"] == "Frau A."
    assert records.columns(ContactMeasure)[-2:] == ("key", "contact")
    assert records.label(ContactMeasure, "contact") == "Ansprechperson"


def test_an_older_file_without_the_new_field_reads_it_as_its_default() -> None:
    table = records.table(_measure())
    del table["contact"]
    assert records.from_table(ContactMeasure, table).contact == ""
    payload = records.payload(ContactMeasure, _measure())
    del payload["contact"]
    assert records.from_payload(ContactMeasure, payload, revision=1, updated_at="x").contact == ""
    # A field that was always there is still required.
    del payload["unit"]
    with pytest.raises(KeyError):
        records.from_payload(ContactMeasure, payload, revision=1, updated_at="x")


def test_the_snapshot_reader_checks_the_new_field_and_lets_older_files_lack_it() -> None:
    reader = _Reader("alt.toml", _Lines(""))
    checks = reader.record_checks(ContactMeasure, records.snapshot_names(ContactMeasure))
    assert "contact" in checks.optional and "unit" in checks.required
    table = records.table(_measure(contact="Frau A."))
    assert reader.table(table, (), checks.table)["contact"] == "Frau A."
    del table["contact"]
    assert reader.table(table, (), checks.table)["contact"] is None
    with pytest.raises(SnapshotError, match="contact"):
        reader.table({**table, "contact": "zwei\nZeilen"}, (), checks.table)
    edits = reader.changes(ContactMeasure)
    assert edits({"contact": {"old": "", "new": "Herr B."}}, ("changes",)) == {
        "contact": ["", "Herr B."]
    }


def test_an_edit_of_the_new_field_applies_and_is_undone() -> None:
    changes = {"contact": ["", "Herr B."]}
    event = records.Event(
        id="e",
        number="1.17",
        kind="measure_edited",
        occurred_at="t",
        author="a",
        note="",
        from_status=None,
        to_status=None,
        details={"changes": changes},
    )
    assert history.inverse(event, _measure(contact="Frau A.")) == {
        "measure": {"contact": "Frau A."}
    }
    state = _measure(contact="Herr B.")
    history.apply(state, event, [], {})
    assert state.contact == "Herr B."
