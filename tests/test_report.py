"""The council report: its figures on the sample and on small catalogues, and its two forms."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from koordinator.cli import main
from koordinator.core import snapshot
from koordinator.core.dates import LooseDate, add_months, from_iso
from koordinator.core.numbers import number_key
from koordinator.core.report import (
    DEFAULT_PERIOD_MONTHS,
    Change,
    DelayLine,
    FieldFigures,
    FinalMove,
    MeasureLine,
    MilestoneLine,
    ReportFigures,
    compute_figures,
    render_markdown,
    render_text,
    report_figures,
    write_report,
)
from koordinator.core.service import Catalogue
from koordinator.core.store.models import Delay, FieldOfAction, HistoryEvent, Measure, Milestone
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import (
    DatabaseTarget,
    SqliteStore,
    create_database,
    open_database,
)
from koordinator.core.workflow import REPORT_ORDER, DelayInput, Status
from snapshot_helpers import benchmark_generator

TODAY = date(2021, 2, 23)  # the day the source report was signed


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[SqliteStore]:
    """A catalogue with the four fields of action and no measures."""
    path = tmp_path / "small.db"
    create_database(path, fill=fill_fields_only)
    database = open_database(DatabaseTarget(path))
    yield database
    database.close()


@pytest.fixture
def small(empty_database: SqliteStore) -> Catalogue:
    return Catalogue(empty_database, author="testerin", today=lambda: TODAY)


def statuses(figures: ReportFigures) -> dict[str, int]:
    return {status.value: count for status, count in figures.by_status.items()}


# --- Markdown and text well-formedness ------------------------------------------------------------


def _cells(row: str) -> list[str]:
    """The cells of a GFM table row; an escaped pipe belongs to its cell."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return re.split(r"(?<!\\)\|", row[1:-1])


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text, checked to be well-formed GFM, as rows of cells."""
    tables: list[list[list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("|"):
            index += 1
            continue
        assert index == 0 or lines[index - 1] == "", "a table needs a blank line before it"
        block = []
        while index < len(lines) and lines[index].startswith("|"):
            block.append(lines[index])
            index += 1
        assert index == len(lines) or lines[index] == "", "a table needs a blank line after it"
        header, separator, *rows = (_cells(line) for line in block)
        assert all(re.fullmatch(r" ?-{3,}:? ?", cell) for cell in separator), block[1]
        assert len(separator) == len(header)
        assert all(len(row) == len(header) for row in rows), block
        tables.append([[cell.strip() for cell in row] for row in [header, *rows]])
    return tables


def status_table(markdown: str) -> dict[str, list[str]]:
    """The field × status table by its first column."""
    (table,) = [t for t in markdown_tables(markdown) if t[0][0] == "Handlungsfeld"]
    return {row[0]: row[1:] for row in table}


# --- the sample: the figures of report V111/2021 ---------------------------------------------------


def test_sample_figures_equal_the_source_report(database: SqliteStore) -> None:
    figures = compute_figures(database, today=TODAY)
    assert (figures.total, figures.from_catalogue, figures.added) == (49, 37, 12)
    assert list(figures.by_status.values()) == [9, 20, 9, 8, 2, 1]
    assert list(figures.by_status) == [
        Status.ESTABLISHED,
        Status.ON_SCHEDULE,
        Status.DELAYED,
        Status.PLANNING,
        Status.HANDED_OVER,
        Status.DROPPED,
    ]
    assert figures.delayed_by_cause == {"corona": 9}
    assert [field.total for field in figures.fields] == [16, 8, 15, 10]
    assert sum(sum(field.by_status.values()) for field in figures.fields) == 49
    assert {(m.title, m.detail) for m in figures.handed_over} == {
        ("Mitarbeiterportal", "FB 11 (Organisation und Personal)"),
        ("Modernisierung Zuschusswesen", "FB 20 (Stadtkämmerei)"),
    }
    assert [(m.title, m.detail) for m in figures.dropped] == [
        ("Digitales Semesterticket", "nicht realisierbare fachliche Anforderungen")
    ]
    assert {m.title for m in figures.established} >= {
        "Bürgerportal",
        "Digitale Ratsarbeit",
        "Handyparken",
        "MINT-Bildungskette",
    }
    assert len(figures.established) == 9
    assert len(figures.open_delays) == 9
    assert figures.open_delays_by_cause == {"corona": 9}


def test_sample_summary_reads_like_the_source_report(database: SqliteStore) -> None:
    text = render_text(compute_figures(database, today=TODAY))
    flat = " ".join(text.split())
    assert "Insgesamt 49 Maßnahmen: 37 aus dem Maßnahmenkatalog 2019, 12 seither neu" in flat
    assert "- 9 etabliert bzw. im Ausbau: Bürgerportal (1.1); Digitale Ratsarbeit (1.5)" in flat
    assert "- 20 im Zeitplan" in flat
    assert "- 9 verzögert (Corona: 9)" in flat
    assert "- 8 in Planung" in flat
    assert (
        "- 2 in die Linie übergeben: Modernisierung Zuschusswesen (1.8) an FB 20 (Stadtkämmerei);"
        " Mitarbeiterportal (3.1) an FB 11 (Organisation und Personal)" in flat
    )
    assert "- 1 verworfen: Digitales Semesterticket (4.10) – Grund: nicht realisierbare" in flat


def test_sample_field_by_status_table(database: SqliteStore) -> None:
    table = status_table(render_markdown(compute_figures(database, today=TODAY)))
    assert table["Handlungsfeld"] == [
        "Etabliert",
        "Im Zeitplan",
        "Verzögert",
        "In Planung",
        "In die Linie übergeben",
        "Verworfen",
        "Summe",
    ]
    assert [table[name][-1] for name in table if name[0].isdigit()] == ["16", "8", "15", "10"]
    assert table["Summe"] == ["9", "20", "9", "8", "2", "1", "49"]


def test_sample_milestones_relative_to_the_day(database: SqliteStore) -> None:
    at_report = compute_figures(database, today=TODAY, period_start=date(2020, 1, 1))
    assert {m.title for m in at_report.milestones_reached} == {
        "Weitere Online-Services wegen Corona ergänzt",
        "Weiterer Stadtteil mit öffentlichem WLAN versorgt",
        "Handyparken verfügbar",
    }
    assert at_report.milestones_overdue == ()
    # "perspektivisch 2021": due within six months from August 2021, overdue from 2022 on.
    august = compute_figures(database, today=date(2021, 8, 1))
    assert [m.title for m in august.milestones_due_soon] == [
        "Weitere Stadtteile mit öffentlichem WLAN"
    ]
    later = compute_figures(database, today=date(2022, 1, 1))
    assert [(m.number, m.title) for m in later.milestones_overdue] == [
        ("2.2", "Weitere Stadtteile mit öffentlichem WLAN")
    ]
    assert later.milestones_due_soon == ()


def test_the_figures_follow_changes_to_the_sample(
    catalogue: Catalogue, database: SqliteStore
) -> None:
    catalogue.change_status("1.2", Status.HANDED_OVER, receiving_unit="FB 99")
    catalogue.change_status("2.3", Status.DELAYED, delay=DelayInput(cause="Lieferengpass"))
    catalogue.resolve_delays("1.3")
    catalogue.create_measure(2, "Neues Glasfasernetz")
    figures = compute_figures(database, today=TODAY)
    assert (figures.total, figures.from_catalogue, figures.added) == (50, 37, 13)
    # 1.2 and 2.3 leave "Im Zeitplan", 1.3 returns to it; the new measure is "In Planung".
    assert list(figures.by_status.values()) == [9, 19, 9, 9, 3, 1]
    assert figures.delayed_by_cause == {"corona": 8, "Lieferengpass": 1}
    assert ("Open Data Portal", "FB 99") in {(m.title, m.detail) for m in figures.handed_over}
    assert [field.total for field in figures.fields] == [16, 9, 15, 10]
    assert "1.3" not in {delay.number for delay in figures.open_delays}


# --- small catalogues built in the test ---------------------------------------------------------------


def test_a_small_catalogue_counts_what_it_holds(small: Catalogue) -> None:
    for title in ("Portal", "App", "Akte"):
        small.create_measure(1, title)
    small.create_measure(3, "Intranet", unit="FB 11")
    small.change_status("1.1", Status.ESTABLISHED)
    small.change_status("1.2", Status.DELAYED, delay=DelayInput(cause="Personalmangel"))
    small.change_status("1.3", Status.DROPPED, reason="zu teuer")
    small.change_status("3.1", Status.HANDED_OVER, receiving_unit="FB 11")
    figures = compute_figures(small, today=TODAY)
    assert (figures.total, figures.from_catalogue, figures.added) == (4, 0, 4)
    assert statuses(figures) == {
        "established": 1,
        "on_schedule": 0,
        "delayed": 1,
        "planning": 0,
        "handed_over": 1,
        "dropped": 1,
    }
    assert figures.delayed_by_cause == {"Personalmangel": 1}
    assert [(m.number, m.detail) for m in figures.dropped] == [("1.3", "zu teuer")]
    assert [(m.number, m.detail) for m in figures.handed_over] == [("3.1", "FB 11")]
    assert [m.title for m in figures.established] == ["Portal"]
    assert [(f.code, f.total) for f in figures.fields] == [(1, 3), (2, 0), (3, 1), (4, 0)]
    assert [f.by_status[Status.DROPPED] for f in figures.fields] == [1, 0, 0, 0]
    flat = " ".join(render_text(figures).split())
    assert "Insgesamt 4 Maßnahmen: 0 aus dem Maßnahmenkatalog 2019, 4 seither neu" in flat
    assert "- 1 verzögert (Personalmangel: 1)" in flat
    assert "- 1 verworfen: Akte (1.3) – Grund: zu teuer" in flat
    assert status_table(render_markdown(figures))["Summe"] == ["1", "0", "1", "0", "1", "1", "4"]


def test_handed_over_names_the_unit_of_the_latest_handover(small: Catalogue) -> None:
    small.create_measure(1, "Portal")
    small.change_status("1.1", Status.HANDED_OVER, receiving_unit="FB 20")
    small.change_status("1.1", Status.ON_SCHEDULE, note="zurückgeholt")
    small.change_status("1.1", Status.HANDED_OVER, receiving_unit="FB 30")
    assert [m.detail for m in compute_figures(small).handed_over] == ["FB 30"]


def test_a_delayed_measure_counts_once_under_its_latest_cause(small: Catalogue) -> None:
    small.create_measure(1, "Portal")
    small.change_status(
        "1.1", Status.DELAYED, delay=DelayInput(cause="corona", since=LooseDate(2020, 3))
    )
    small.log_delay("1.1", DelayInput(cause="Lieferengpass", since=LooseDate(2021, 1)))
    figures = compute_figures(small, today=TODAY)
    assert figures.delayed_by_cause == {"Lieferengpass": 1}
    assert figures.open_delays_by_cause == {"corona": 1, "Lieferengpass": 1}
    assert [(d.cause, d.since) for d in figures.open_delays] == [
        ("corona", "2020-03"),
        ("Lieferengpass", "2021-01"),
    ]


def test_milestones_reached_due_soon_and_overdue(small: Catalogue) -> None:
    small.create_measure(1, "Portal")
    small.create_measure(2, "Netz")
    add = small.add_milestone
    add("1.1", "Vor dem Zeitraum", done_on=LooseDate(2019, 12, 31))
    add("1.1", "Im Zeitraum", done_on=LooseDate(2020, 6))
    add("1.1", "Ohne Datum erreicht", done=True)
    add("1.1", "Überfällig", due=LooseDate(2021, 1))
    add("2.1", "Bald fällig", due=LooseDate(2021, 8, 23))
    add("2.1", "Knapp danach", due=LooseDate(2021, 8, 24))
    add("2.1", "Dieses Jahr", due=LooseDate(2021))
    add("2.1", "Ohne Termin")
    figures = compute_figures(small, today=TODAY, period_start=date(2020, 1, 1))
    assert [m.title for m in figures.milestones_reached] == ["Im Zeitraum"]
    assert [m.title for m in figures.milestones_due_soon] == ["Bald fällig"]
    assert [m.title for m in figures.milestones_overdue] == ["Überfällig"]
    # The next milestone of a measure is its open one with the nearest deadline.
    portal, netz = (f.measures[0] for f in figures.fields[:2])
    assert portal.next_milestone is not None and portal.next_milestone.title == "Überfällig"
    assert netz.next_milestone is not None and netz.next_milestone.title == "Bald fällig"
    # Without a period, the report looks back twelve months.
    default = compute_figures(small, today=date(2020, 12, 31))
    assert default.period_start == date(2019, 12, 31)
    assert [m.title for m in default.milestones_reached] == ["Vor dem Zeitraum", "Im Zeitraum"]


def test_the_report_windows_end_on_real_days() -> None:
    # The six months ahead and the twelve months back are clamped to a month's last day.
    assert add_months(date(2021, 8, 31), 6) == date(2022, 2, 28)
    assert add_months(date(2021, 2, 23), -12) == date(2020, 2, 23)
    assert add_months(date(2020, 2, 29), 12) == date(2021, 2, 28)


# --- the two forms --------------------------------------------------------------------------------------


def test_markdown_tables_are_well_formed_even_with_pipes_in_titles(small: Catalogue) -> None:
    small.create_measure(1, "Ein | zwei", unit="FB 12 | FB 37")
    small.add_milestone("1.1", "Start | Ende", due=LooseDate(2021, 3))
    small.change_status("1.1", Status.DELAYED, delay=DelayInput(cause="a|b", note="x | y"))
    markdown = render_markdown(
        compute_figures(small, today=TODAY, changes=[Change("1.1", "Ein | zwei", "neu | alt")])
    )
    tables = markdown_tables(markdown)
    # status, four fields, delays, three milestone lists (one "Keine."), changes
    assert len(tables) == 1 + 1 + 1 + 1 + 1
    (measures,) = [t for t in tables if t[0][0] == "Nr." and t[0][-1] == "Nächster Meilenstein"]
    assert measures[1] == [
        "1.1",
        r"Ein \| zwei",
        "Verzögert",
        r"FB 12 \| FB 37",
        r"Start \| Ende (fällig 03/2021)",
    ]
    assert "Keine Maßnahmen." in markdown  # fields 2–4 are empty


def test_every_section_is_there_on_an_empty_catalogue(empty_database: SqliteStore) -> None:
    figures = compute_figures(empty_database, today=TODAY)
    assert (figures.total, list(figures.by_status.values())) == (0, [0] * 6)
    markdown = render_markdown(figures)
    assert status_table(markdown)["Summe"] == ["0"] * 7
    for heading in ("## Kurzfassung", "## Offene Verzögerungen", "## Meilensteine"):
        assert heading in markdown
    assert "Änderungen seit" not in markdown  # only with a snapshot
    assert "- 0 in die Linie übergeben" in markdown


def test_text_fits_80_columns_even_with_long_titles(small: Catalogue) -> None:
    small.create_measure(1, "Sehr " * 40 + "lange Maßnahme", unit="FB 12 / FB 37 / Amt 18 " * 4)
    small.create_measure(3, "X" * 120)
    small.add_milestone("1.1", "Meilenstein " * 12, due=LooseDate(2021, 5))
    small.change_status("3.1", Status.DROPPED, reason="Begründung " * 15)
    text = render_text(compute_figures(small, today=TODAY, changes=[Change("", "", "y " * 60)]))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Änderungen seit dem Snapshot" in text


def test_sample_text_fits_80_columns(database: SqliteStore) -> None:
    lines = render_text(compute_figures(database, today=TODAY)).splitlines()
    assert max(len(line) for line in lines) <= 80
    summe = next(line for line in lines if line.startswith("Summe "))
    assert summe.split() == ["Summe", "9", "20", "9", "8", "2", "1", "49"]


def test_write_report_picks_the_format_from_the_suffix(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    markdown = write_report(catalogue, tmp_path / "bericht.md", today=TODAY).path
    text = write_report(catalogue, tmp_path / "bericht.txt", today=TODAY).path
    assert markdown.read_text(encoding="utf-8").startswith("# Digitalisierungsstrategie")
    assert text.read_text(encoding="utf-8").splitlines()[1].startswith("=====")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("bericht")) == [
        "bericht.md",
        "bericht.txt",
    ]


# --- user text is data: it cannot add Markdown or drive a terminal ----------------------------


def markdown_structure(markdown: str) -> dict[str, int]:
    """How many lines begin a heading, a table row, a list item, a quote or HTML."""
    starts = {"heading": "#", "table": "|", "list": "- ", "quote": ">", "html": "<"}
    lines = markdown.splitlines()
    counts = {name: sum(line.startswith(start) for line in lines) for name, start in starts.items()}
    counts["ordered"] = sum(bool(re.match(r"\d+[.)] ", line)) for line in lines)
    return counts


def written_by_hand(database: SqliteStore, statement: str, *values: object) -> None:
    """Texts the catalogue refuses now (line breaks in single-line fields), as an older
    version or sqlite3 could have written them."""
    with sqlite3.connect(database.target.path) as connection:
        connection.execute(statement, values)
    connection.close()


HOSTILE = "- 1. [Link](javascript:alert(1)) <script>x</script> **fett** `code` &amp; ~~weg~~"


def test_no_user_text_can_add_a_heading_a_list_or_a_table_to_the_markdown_report(
    catalogue: Catalogue, database: SqliteStore
) -> None:
    catalogue.add_milestone("1.1", "Stufe", due=LooseDate(2020, 6))
    before = markdown_structure(render_markdown(compute_figures(database, today=TODAY)))
    written_by_hand(
        database, "UPDATE milestone SET title = ? WHERE title = 'Stufe'", "1. Stufe <b>"
    )
    written_by_hand(
        database, "UPDATE field_of_action SET name = ? WHERE code = 1", "# Gehackt\n\n# Neu\n"
    )
    written_by_hand(
        database,
        "UPDATE history_event SET details = json_set(details, '$.reason', ?) "
        "WHERE to_status = 'dropped'",
        "x\n\n| a | b |\n|---|---|\n| c | d |\n\n## Mehr",
    )
    catalogue.edit_measure("1.1", title=HOSTILE, unit="> Zitat | FB 12")
    markdown = render_markdown(compute_figures(database, today=TODAY))
    assert markdown_structure(markdown) == before
    markdown_tables(markdown)  # every table still well-formed
    assert "### 1 \\# Gehackt \\# Neu" in markdown
    assert "Grund: x \\| a \\| b \\| \\|---\\|---\\| \\| c \\| d \\| \\#\\# Mehr" in markdown
    escaped = (
        r"- 1. \[Link\](javascript:alert(1)) \<script\>x\</script\> \*\*fett\*\* \`code\` "
        r"\&amp; \~\~weg\~\~"
    )
    assert f"- 9 etabliert bzw. im Ausbau: {escaped} (1.1);" in markdown
    # A cell is never a line's start; its leading "-" is escaped all the same (one rule).
    assert f"| 1.1 | \\{escaped} | Etabliert | \\> Zitat \\| FB 12 |" in markdown
    assert r"| 1\. Stufe \<b\> (fällig 06/2020) |" in markdown
    assert "<script>" not in markdown and "<b>" not in markdown


def test_the_text_report_prints_control_and_bidi_characters_as_escapes(
    database: SqliteStore,
) -> None:
    written_by_hand(
        database,
        "UPDATE measure SET title = ?, unit = ? WHERE number = '1.1'",
        "Portal\x1b[2J\u202elatrop",
        "FB\r12",
    )
    written_by_hand(database, "UPDATE field_of_action SET name = ? WHERE code = 2", "Netz\n1.1 X")
    figures = compute_figures(database, today=TODAY)
    text = render_text(figures)
    for character in ("\x1b", "\u202e", "\r"):
        assert character not in text
    assert "Portal\\x1b[2J\\u202elatrop" in text
    assert "2 Netz\\n1.1 X" in text  # the status table's row, on its line
    markdown = render_markdown(figures)
    for character in ("\x1b", "\u202e", "\r"):
        assert character not in markdown


# --- the command ---------------------------------------------------------------------------------------------


def test_report_on_a_fresh_default_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "Insgesamt 49 Maßnahmen: 37 aus dem Maßnahmenkatalog 2019, 12 seither neu" in flat
    for line in (
        "- 9 etabliert bzw. im Ausbau:",
        "- 20 im Zeitplan",
        "- 9 verzögert (Corona: 9)",
        "- 8 in Planung",
        "- 2 in die Linie übergeben:",
        "- 1 verworfen: Digitales Semesterticket",
    ):
        assert line in flat
    assert "an FB 20 (Stadtkämmerei)" in flat and "an FB 11 (Organisation und Personal)" in flat
    rows = [line.split() for line in out.splitlines() if re.match(r"[1-4] \S", line)]
    assert [row[-1] for row in rows[:4]] == ["16", "8", "15", "10"]
    assert max(len(line) for line in out.splitlines()) <= 80


def test_report_as_markdown_to_a_file(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "bericht.md"
    target.parent.mkdir()
    target.write_text("alter Bericht", encoding="utf-8")
    code, out, err = run(capsys, "--db", str(sample_path), "report", "-o", str(target))
    assert code == 0, err
    assert f"{target}: Bericht geschrieben (49 Maßnahmen, markdown)" in out
    written = target.read_text(encoding="utf-8")
    assert status_table(written)["Summe"] == ["9", "20", "9", "8", "2", "1", "49"]
    assert [p.name for p in target.parent.iterdir()] == ["bericht.md"]  # no temporary left
    code, out, _ = run(capsys, "--db", str(sample_path), "report", "--format", "markdown")
    assert code == 0 and out == written


def test_report_period_from_the_command_line(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    code, out, _ = run(capsys, "--db", str(sample_path), "report", "--from", "2019")
    assert code == 0
    assert "Berichtszeitraum: 01.01.2019 bis" in out
    assert "Liveschaltung Bürgerportal (erreicht 10/2019)" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["report", "--since", "fehlt.toml"], "fehlt.toml: Datei nicht gefunden"),
        (["report", "-o", "/nonexistent/folder/bericht.md"], "existiert nicht"),
        (["report", "--from", "bald"], "--from: „bald“"),
    ],
)
def test_report_mistakes_give_one_line(
    capsys: pytest.CaptureFixture[str], sample_path: Path, argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, "--db", str(sample_path), *argv)
    assert (code, out) == (2, "")
    assert expected in err and len(err.strip().splitlines()) == 1


# --- changes since a snapshot ---------------------------------------------------------------------------


def take_snapshot(database: SqliteStore, path: Path) -> Path:
    path.write_text(snapshot.dumps(snapshot.snapshot_of(database, author="FB 12")), "utf-8")
    return path


def test_report_since_a_snapshot_lists_what_changed(
    capsys: pytest.CaptureFixture[str],
    catalogue: Catalogue,
    database: SqliteStore,
    sample_path: Path,
    tmp_path: Path,
) -> None:
    stand = take_snapshot(database, tmp_path / "stand.toml")
    catalogue.change_status("1.11", Status.ON_SCHEDULE, note="Projektstart erfolgt")
    catalogue.add_milestone(
        "2.2", "Neckarstadt-West versorgt", done_on=LooseDate.from_date(date.today())
    )
    code, out, err = run(capsys, "--db", str(sample_path), "report", "--since", str(stand))
    assert code == 0, err
    flat = " ".join(out.split())
    day = f"{date.today():%d.%m.%Y}"
    assert f"Änderungen seit dem Snapshot (stand.toml, Stand {day})" in flat
    assert "1.11 LoRaWAN (eigenes Funknetz) Status: In Planung → Im Zeitplan" in flat
    assert "Projektstart erfolgt" in flat
    assert (
        "2.2 Masterplan für den Ausbau des öffentlichen WLAN "
        "Meilenstein erreicht: Neckarstadt-West versorgt" in flat
    )
    assert f"Berichtszeitraum: {day} bis {day}" in flat  # the period starts at the snapshot
    assert "Neckarstadt-West versorgt (erreicht" in flat  # ... so it counts as reached in it
    code, out, _ = run(
        capsys, "--db", str(sample_path), "report", "--since", str(stand), "--format", "markdown"
    )
    changes = next(t for t in markdown_tables(out) if t[0] == ["Nr.", "Maßnahme", "Änderung"])
    assert [row[0] for row in changes[1:]] == ["1.11", "2.2"]


def test_no_changes_since_a_fresh_snapshot(database: SqliteStore, tmp_path: Path) -> None:
    stand = take_snapshot(database, tmp_path / "stand.toml")
    figures = report_figures(database, since=stand)
    assert figures.changes == ()
    assert "Keine Änderungen." in render_markdown(figures)


def test_a_broken_snapshot_is_refused_with_its_place(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "kaputt.toml"
    broken.write_text("format = [\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", str(sample_path), "report", "--since", str(broken))
    assert (code, out) == (2, "")
    assert f"{broken}:" in err and len(err.strip().splitlines()) == 1


# --- the figures against a plain computation on a generated catalogue ----------------------------


@pytest.fixture(scope="module")
def generated_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated catalogue of 400 measures, plus milestones the generator never makes
    (done without a date, done in a whole year, undated, ties in title and deadline)."""
    path = tmp_path_factory.mktemp("generated") / "katalog.db"
    benchmark_generator().generate(path, 400, seed=11)
    database = open_database(DatabaseTarget(path))
    try:
        catalogue = Catalogue(database, author="testerin")
        add = catalogue.add_milestone
        for number in ("1.1", "1.2", "2.3", "3.4", "4.5"):
            add(number, "Erreicht ohne Datum", done=True)
            add(number, "Erreicht im Jahr", done_on=LooseDate(2023))
            add(number, "Erreicht im Monat", done_on=LooseDate(2024, 2))
            add(number, "Ohne Termin")
            add(number, "Gleich", due=LooseDate(2024, 6))
            add(number, "Gleich", due=LooseDate(2024, 6, 30))
            add(number, "Jahresende", due=LooseDate(2024))
    finally:
        database.close()
    return path


def _reference_figures(database: SqliteStore, today: date, period_start: date) -> ReportFigures:
    """The report's figures computed the plain way: every ORM object read, every rule
    applied to each of them in Python, nothing narrowed in SQL."""
    with database.read() as session:
        fields = session.scalars(select(FieldOfAction).order_by(FieldOfAction.code)).all()
        measures = session.scalars(
            select(Measure).order_by(Measure.field_code, Measure.sequence)
        ).all()
        milestones = session.scalars(select(Milestone)).all()  # a plain scan: table order
        delays = session.scalars(
            select(Delay)
            .where(Delay.resolved_on.is_(None))
            .order_by(Delay.since, Delay.created_at, Delay.id)
        ).all()
        moves = session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.kind == "status_changed")
            .order_by(HistoryEvent.occurred_at, HistoryEvent.id)
        ).all()
    by_id = {m.id: m for m in measures}
    lines = [
        MilestoneLine(
            number=by_id[m.measure_id].number,
            measure_title=by_id[m.measure_id].title,
            title=m.title,
            due=m.due,
            done_on=m.done_on,
            done=m.done,
        )
        for m in milestones
    ]

    def deadline(line: MilestoneLine) -> tuple[object, ...]:
        due = from_iso(line.due)
        key = due.deadline_key() if due else (date.max, 0)
        return (key, number_key(line.number), line.title)

    def done_order(line: MilestoneLine) -> tuple[object, ...]:
        done_on = from_iso(line.done_on)
        first = done_on.first_day() if done_on else date.min
        return (first, number_key(line.number), line.title)

    def reached(line: MilestoneLine) -> bool:
        done_on = from_iso(line.done_on)
        return bool(
            line.done
            and done_on
            and done_on.last_day() >= period_start
            and done_on.first_day() <= today
        )

    def overdue(line: MilestoneLine) -> bool:
        due = from_iso(line.due)
        return bool(not line.done and due and due.is_past(today))

    def due_soon(line: MilestoneLine) -> bool:
        due = from_iso(line.due)
        return bool(
            not line.done
            and due
            and not due.is_past(today)
            and due.last_day() <= add_months(today, 6)
        )

    next_milestones: dict[str, MilestoneLine] = {}
    for line in sorted((line for line in lines if not line.done), key=deadline):
        next_milestones.setdefault(line.number, line)
    measure_lines = [
        MeasureLine(
            m.number,
            m.field_code,
            m.title,
            Status(m.status),
            m.unit,
            m.origin,
            next_milestones.get(m.number),
        )
        for m in measures
    ]
    details: dict[tuple[int, str | None], str] = {}
    for event in moves:
        info = event.details
        details[(event.measure_id, event.to_status)] = str(
            info.get("receiving_unit") or info.get("reason") or ""
        )
    latest_cause = {d.measure_id: d.cause for d in delays}

    def counts(own: list[MeasureLine]) -> dict[Status, int]:
        return {s: sum(1 for m in own if m.status == s) for s in REPORT_ORDER}

    def final(status: Status) -> tuple[FinalMove, ...]:
        return tuple(
            FinalMove(m.number, m.title, details.get((m.id, m.status), ""))
            for m in measures
            if m.status == status.value
        )

    return ReportFigures(
        today=today,
        period_start=period_start,
        total=len(measures),
        from_catalogue=sum(1 for m in measures if m.origin == "catalog"),
        added=sum(1 for m in measures if m.origin == "added"),
        by_status=counts(measure_lines),
        delayed_by_cause=dict(
            Counter(
                latest_cause.get(m.id, "ohne Angabe") for m in measures if m.status == "delayed"
            ).most_common()
        ),
        established=tuple(m for m in measure_lines if m.status == Status.ESTABLISHED),
        handed_over=final(Status.HANDED_OVER),
        dropped=final(Status.DROPPED),
        fields=tuple(
            FieldFigures(
                f.code,
                f.name,
                counts([m for m in measure_lines if m.field_code == f.code]),
                tuple(m for m in measure_lines if m.field_code == f.code),
            )
            for f in fields
        ),
        open_delays=tuple(
            sorted(
                (
                    DelayLine(
                        by_id[d.measure_id].number,
                        by_id[d.measure_id].title,
                        Status(by_id[d.measure_id].status),
                        d.cause,
                        d.since,
                        d.until,
                        d.note,
                    )
                    for d in delays
                ),
                key=lambda line: number_key(line.number),
            )
        ),
        milestones_reached=tuple(sorted(filter(reached, lines), key=done_order)),
        milestones_due_soon=tuple(sorted(filter(due_soon, lines), key=deadline)),
        milestones_overdue=tuple(sorted(filter(overdue, lines), key=deadline)),
    )


@pytest.mark.parametrize(
    ("today", "period_start"),
    [
        (date(2019, 1, 15), None),
        (date(2021, 2, 23), date(2020, 1, 1)),
        (date(2023, 12, 31), None),
        (date(2024, 3, 1), date(2023, 12, 31)),
        (date(2024, 6, 30), date(2023, 1, 1)),
        (date(2025, 6, 30), None),
        (date(2027, 1, 1), date(2018, 1, 1)),
    ],
)
def test_figures_equal_a_plain_computation_on_a_generated_catalogue(
    generated_path: Path, today: date, period_start: date | None
) -> None:
    database = open_database(DatabaseTarget(generated_path), read_only=True)
    try:
        figures = compute_figures(database, today=today, period_start=period_start)
        expected = _reference_figures(
            database, today, period_start or add_months(today, -DEFAULT_PERIOD_MONTHS)
        )
    finally:
        database.close()
    assert figures.total == 400
    # These days give from 0 to ~1,000 milestones reached, due soon and overdue.
    assert figures == expected
    assert render_text(figures) == render_text(expected)
    assert render_markdown(figures) == render_markdown(expected)


def test_summary_and_delay_table_agree_when_a_measure_has_two_open_delays(
    database: SqliteStore,
) -> None:
    """The summary counts delayed measures, the table lists open delays: with a second delay
    on 1.3 the report says how the 10 rows and "9 verzögert" fit together."""
    plain_report = render_text(compute_figures(database, today=TODAY))
    assert "offene Verzögerungen bei" not in plain_report  # the sample: one delay per measure
    Catalogue(database, author="testerin").log_delay(
        "1.3", DelayInput(cause="personal", since=LooseDate.parse("2020"))
    )
    figures = compute_figures(database, today=TODAY)
    text, markdown = " ".join(render_text(figures).split()), render_markdown(figures)
    assert "9 verzögert (Corona: 8, personal: 1)" in text
    intro = "10 offene Verzögerungen bei 9 verzögerten Maßnahmen"
    assert intro in text
    assert intro in markdown
    delay_table = next(
        t for t in markdown_tables(markdown) if t[0][0] == "Nr." and "Ursache" in t[0]
    )
    assert len(delay_table) - 1 == 10
