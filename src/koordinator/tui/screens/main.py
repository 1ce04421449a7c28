"""The main screen: fields of action, the measures table, the highlighted measure's details.

It owns the editing keys.  Every change goes through the catalogue service in one call (one
transaction); afterwards the table, the counts and the details are read again, so what the
screen shows is always what the database holds.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key, Resize
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, Static
from textual.worker import Worker, WorkerFailed, get_current_worker

from koordinator.core.dates import LooseDate, local_time, local_today
from koordinator.core.errors import NOTHING_TO_UNDO, ConflictError, KoordinatorError
from koordinator.core.text import printable
from koordinator.core.views import (
    FieldView,
    MeasureDetail,
    MeasureView,
)
from koordinator.core.workflow import Status, allowed_moves, requirements
from koordinator.tui import dialogs  # each dialog is imported when it first opens
from koordinator.tui.status_keys import SHORT_LABELS, STATUS_KEYS
from koordinator.tui.widgets import (
    FieldList,
    FilterInput,
    KeyFooter,
    MeasureDetails,
    MeasureTable,
    StatusLine,
)
from koordinator.tui.widgets.status_line import Choice

if TYPE_CHECKING:
    from koordinator.core.catalogue import CatalogueApi
    from koordinator.core.workflow import DelayInput

T = TypeVar("T")

# Measures read before the first paint (more rows than any terminal shows at once); the rest
# is read by a worker once that paint is done.
FIRST_PAGE = 100

# Python's GIL switch interval (seconds) while a worker thread reads the whole list, and
# while one loads SQLAlchemy and the write side (imports hold the GIL longer than building
# views; a key pressed just after the first paint falls into that load).
READ_ALL_SWITCH_INTERVAL = 0.0005
LOAD_SWITCH_INTERVAL = 0.0001

# What the status line adds after a saved change: how to take it back.
UNDO_HINT = " – u: rückgängig"

# A slow job (export, report, import, the dashboard's figures) says it runs after this long
# (seconds); a quicker one finishes without a flicker.
PROGRESS_DELAY = 0.5

# How often (seconds) the screen asks the database whether anyone else has written.
CHANGE_POLL_SECONDS = 0.5

# From this width on the details stand right of the table instead of below it.
WIDE_LAYOUT_COLUMNS = 150
# Below this width the field pane becomes one line above the list (the list needs the room
# for number, status, title, unit and the milestone's date).
NARROW_LAYOUT_COLUMNS = 100

# Actions that change the database: disabled in read-only mode.
EDITING_ACTIONS = frozenset(
    {
        "change_status",
        "add_milestone",
        "complete_milestone",
        "edit_milestone",
        "log_delay",
        "resolve_delay",
        "edit_delay",
        "new_measure",
        "edit_measure",
        "renumber",
        "undo",
        "import",
    }
)
# Actions that act on the highlighted measure.
MEASURE_ACTIONS = EDITING_ACTIONS - {"new_measure", "undo", "import"}


_switch_lock = threading.Lock()
_switch_users = 0
_switch_default = sys.getswitchinterval()


@contextmanager
def short_switch_interval(interval: float = READ_ALL_SWITCH_INTERVAL) -> Iterator[None]:
    """A short GIL switch interval while a worker thread computes.

    Building 10,000 views, or importing SQLAlchemy, holds the GIL for a few hundred
    milliseconds; with Python's default switch interval (5 ms) the UI thread waits that long
    at each of its many GIL hand-overs (terminal writes, selects), and a key pressed
    meanwhile took 300 ms.  A shorter interval hands the GIL back sooner.  Counted, so that
    two workers at once (list and load) do not restore each other's interval; the shortest
    asked for holds until both are done.
    """
    global _switch_users, _switch_default
    with _switch_lock:
        if _switch_users == 0:
            _switch_default = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, sys.getswitchinterval()))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_default)


class MainScreen(Screen[None]):
    BINDINGS = [
        # The footer shows the everyday keys; all of them are in the help (?) and palette.
        Binding("question_mark", "app.help", "Hilfe", id="main_help"),
        Binding("s", "change_status", "Status", id="change_status"),
        Binding("d", "log_delay", "Verzögerung", id="log_delay"),
        # M and D apply to some measures only; they stay out of the footer, which is then the
        # same for every measure and need not be rebuilt (slow) on each cursor move.
        Binding(
            "D",
            "resolve_delay",
            "Behoben",
            id="resolve_delay",
            show=False,
            tooltip="Verzögerung beheben",
        ),
        Binding("m", "add_milestone", "Meilenstein", id="add_milestone"),
        Binding(
            "M",
            "complete_milestone",
            "Erreicht",
            id="complete_milestone",
            show=False,
            tooltip="nächsten offenen Meilenstein als erreicht markieren",
        ),
        Binding(
            "E",
            "edit_milestone",
            "Meilenstein ändern",
            id="edit_milestone",
            show=False,
            tooltip="einen Meilenstein ändern oder löschen",
        ),
        Binding(
            "V",
            "edit_delay",
            "Verzögerung ändern",
            id="edit_delay",
            show=False,
            tooltip="die offene Verzögerung ändern",
        ),
        Binding("u,ctrl+z", "undo", "Rückgängig", id="undo"),
        Binding("slash", "filter", "Filter", id="filter", show=False),
        Binding("escape", "clear_filter", "Filter löschen", id="clear_filter", show=False),
        Binding(
            "f",
            "filter_status",
            "Status-Filter",
            id="filter_status",
            show=False,
            tooltip="Nach Status filtern: f und der Buchstabe wie nach s; f hebt auf",
        ),
        Binding("n", "new_measure", "Neue Maßnahme", id="new_measure", show=False),
        Binding("e", "edit_measure", "Maßnahme bearbeiten", id="edit_measure", show=False),
        Binding("number_sign", "renumber", "Nummer ändern", id="renumber", show=False),
        Binding("r,ctrl+r", "refresh", "Neu laden", id="refresh", show=False),
        Binding("g", "dashboard", "Übersicht", id="dashboard", show=False),
        Binding(
            "x",
            "export",
            "Export",
            id="export",
            show=False,
            tooltip="Snapshot (TOML) für FB 12 schreiben",
        ),
        Binding(
            "i",
            "import",
            "Import",
            id="import",
            show=False,
            tooltip="Snapshot (TOML) importieren: neue Einträge übernehmen",
        ),
        Binding(
            "h",
            "history",
            "Verlauf",
            id="history",
            show=False,
            tooltip="alle Änderungen, neueste zuerst, filterbar; Konflikte aus Importen",
        ),
        Binding("0", "choose_field(0)", "Alle Felder", show=False),
        Binding("1", "choose_field(1)", "Feld 1", show=False),
        Binding("2", "choose_field(2)", "Feld 2", show=False),
        Binding("3", "choose_field(3)", "Feld 3", show=False),
        Binding("4", "choose_field(4)", "Feld 4", show=False),
    ]

    def __init__(self, catalogue: CatalogueApi, *, read_only: bool = False) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.read_only = read_only
        self.field_code: int | None = None
        self.filter_text = ""
        self.status_filter: Status | None = None  # `f` and a status letter
        self.detail: MeasureDetail | None = None
        self._own_collector = False  # see on_mount
        # Set once the write side is there (see _after_first_paint); the list's worker
        # waits for it.
        self._loaded = threading.Event()
        if catalogue.loaded:
            self._loaded.set()
        self._status_of: MeasureView | None = None  # the measure `s` asks about
        self._job: str | None = None  # the slow job running now ("Export läuft …")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield FieldList(id="fields")
            with Vertical(id="center"):
                yield Static(id="field-line")
                yield FilterInput()
                with Horizontal(id="workspace"):
                    yield MeasureTable(id="measures")
                    yield MeasureDetails(id="details")
        yield StatusLine()
        # Compact and without the palette entry (Strg+P is in the help), so that the
        # everyday keys fit 80 columns; "? Hilfe" comes first, so it is never cut off.
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(FilterInput).display = False
        self.table.cursor_moved.subscribe(self, self._cursor_moved, immediate=True)
        self.reload()
        self.query_one(MeasureTable).focus()
        # `koordinator` starts with the cycle collector off (cli.run); an app made in a
        # test (many in one process) leaves the collector as it is.
        self._own_collector = not gc.isenabled()
        self.call_after_refresh(self._after_first_paint)
        # Others' changes (the CLI, another window) appear by themselves.
        self._seen_version = self._data_version()
        self.set_interval(CHANGE_POLL_SECONDS, self._look_for_changes)

    def _after_first_paint(self) -> None:
        if not self.catalogue.loaded:
            # The first screen came from plain sqlite3 reads; now SQLAlchemy and the write
            # side load (an edit pressed meanwhile waits for them).  The collector stays
            # off until then: the import builds ~200,000 long-lived objects.
            self._load_write_side()
            return
        self._start_collector()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load_write_side(self) -> None:
        try:
            with short_switch_interval(LOAD_SWITCH_INTERVAL):
                self.catalogue.load()
        except KoordinatorError:
            pass  # the action that needs it tries again and says why
        finally:
            self._loaded.set()
            self.app.call_from_thread(self._start_collector)

    def _start_collector(self) -> None:
        # What start-up built (modules, widgets, the first page) lives as long as the app:
        # out of the cycle collector's generations, a full collection no longer walks it;
        # from here on the collector runs.
        if self._own_collector:
            gc.freeze()
            gc.enable()

    def on_key(self, event: Key) -> None:
        # While the status line asks, the next key is its answer, whatever it is bound to.
        line = self.status_line
        if line.asking:
            event.stop()
            event.prevent_default()
            line.answer(event.key)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE_LAYOUT_COLUMNS, "-wide")
        self.set_class(event.size.width < NARROW_LAYOUT_COLUMNS, "-narrow")

    # --- reading -------------------------------------------------------------------------

    @property
    def table(self) -> MeasureTable:
        return self.query_one(MeasureTable)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def current(self) -> MeasureView | None:
        number = self.table.current_number
        return self.table.measure(number) if number else None

    def reload(self, keep: str | None = None) -> None:
        """Read fields, measures and details again (after a filter change, `r`, a new measure).

        Only the first FIRST_PAGE measures are read before the screen is painted; a worker
        reads the rest, so a catalogue of 10,000 measures opens as fast as one of 50.
        """
        try:
            fields = self.catalogue.fields()
            first = self.catalogue.list_measures(
                field_code=self.field_code,
                status=self.status_filter,
                text=self.filter_text,
                limit=FIRST_PAGE,
            )
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Lesen fehlgeschlagen")
            return
        self.field_names = {field.code: field.name for field in fields}
        self.query_one(FieldList).show_fields(fields, self.field_code)
        self.query_one("#field-line", Static).update(field_line(fields, self.field_code))
        self.table.show_measures(first, keep=keep)
        self.show_details()
        if len(first) == FIRST_PAGE or (keep and self.table.measure(keep) is None):
            # After the next paint: the worker holds the GIL while it builds the views, and
            # the first page should not wait for that.
            self.call_after_refresh(self._read_all, self._filters, keep)

    @property
    def _filters(self) -> tuple[int | None, Status | None, str]:
        """What the list is filtered by: field, status, text."""
        return self.field_code, self.status_filter, self.filter_text

    @work(thread=True, exclusive=True, group="read-all")
    def _read_all(self, filters: tuple[int | None, Status | None, str], keep: str | None) -> None:
        """The whole list, read off the UI thread; stale results (filter changed) are dropped.

        At start it waits until SQLAlchemy has loaded (see _after_first_paint): two workers
        taking turns with the GIL leave a key pressed meanwhile a third of it (the first
        `j` at 10,000 measures took 80 ms instead of 45).
        """
        worker = get_current_worker()
        while not self._loaded.wait(0.05):
            if worker.is_cancelled:
                return
        try:
            with short_switch_interval():
                field_code, status, text = filters
                measures = self.catalogue.list_measures(
                    field_code=field_code, status=status, text=text
                )
        except KoordinatorError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_all, measures, filters, keep)

    def _show_all(
        self,
        measures: list[MeasureView],
        filters: tuple[int | None, Status | None, str],
        keep: str | None,
    ) -> None:
        if filters != self._filters:
            return  # the user has chosen another filter meanwhile
        self.table.show_all(measures, keep=keep)
        if keep and self.table.current_number == keep:
            self.show_details()
        if self._own_collector:
            # The whole list's views stay too (see _after_first_paint): without this a full
            # collection (~100,000 objects at 10,000 measures) took 90-130 ms and fell on a
            # random key press; with it 20-40 ms.
            gc.freeze()

    def refresh_measure(self, number: str, *, go_to: bool = False) -> None:
        """After a change to one measure: its row and the details, nothing else is read.

        `go_to` moves the cursor to it (undo may concern another measure than the current).
        """
        try:
            detail = self.catalogue.measure(number)
        except KoordinatorError:
            self.reload(keep=number)  # gone or unreadable: read everything
            return
        self.table.update_measure(detail.measure)
        if go_to:
            self.table.go_to(number)
        if self.table.current_number == number:
            self.show_details(detail)

    def show_details(self, detail: MeasureDetail | None = None) -> None:
        number = self.table.current_number
        try:
            if detail is None or detail.measure.number != number:
                detail = self.catalogue.measure(number) if number else None
            self.detail = detail
        except KoordinatorError as error:
            self.detail = None
            self.notify(str(error), severity="error")
        field_name = self.field_names.get(self.detail.measure.field_code, "") if self.detail else ""
        self.query_one(MeasureDetails).show(self.detail, field_name)

    def _cursor_moved(self, number: str | None) -> None:
        # A question about the previous measure (a mouse click moved the cursor) is void.
        self.status_line.cancel()
        # Immediately, so that the new details are painted in the same frame as the cursor.
        self.show_details()

    @on(FieldList.Chosen)
    def _field_chosen(self, event: FieldList.Chosen) -> None:
        self.action_choose_field(event.field_code or 0)

    def action_choose_field(self, code: int) -> None:
        self.field_code = code or None
        self.reload()

    # --- filter --------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.reload()

    def action_clear_filter(self) -> None:
        self.query_one(FilterInput).action_clear_filter()

    @on(FilterInput.Finished)
    def _filter_finished(self, event: FilterInput.Finished) -> None:
        if event.cleared and self.status_filter is not None:
            self._filter_by_status(None)  # Esc clears the whole filter
        box = self.query_one(FilterInput)
        box.display = not event.cleared
        self.table.focus()

    def action_filter_status(self) -> None:
        """Ask for a status letter (the same as after `s`); with a status filter on, `f`
        lifts it."""
        if self.status_filter is not None:
            self._filter_by_status(None)
            return
        self._status_of = None  # the answer is no status change
        self.status_line.ask(
            "Nur Maßnahmen mit Status →",
            [
                Choice(key, status.label, StatusFilter(status), SHORT_LABELS[status])
                for status, key in STATUS_KEYS.items()
            ],
        )

    @on(StatusLine.Answered)
    def _status_filter_answered(self, event: StatusLine.Answered) -> None:
        if isinstance(event.value, StatusFilter):
            self.status_line.clear()
            self._filter_by_status(event.value.status)

    def _filter_by_status(self, status: Status | None) -> None:
        self.status_filter = status
        box = self.query_one(FilterInput)
        box.show_status(status.label if status else None)
        if status is None and not self.filter_text:
            box.display = False
        elif status is not None:
            box.display = True
        keep = self.table.current_number
        self.reload(keep=keep)

    # --- which keys make sense now -------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return (
                bool(self.filter_text)
                or self.status_filter is not None
                or self.query_one(FilterInput).display
            )
        if action in EDITING_ACTIONS and self.read_only:
            return None  # shown greyed out; the app explains why when pressed
        if action in MEASURE_ACTIONS:
            measure = self.current
            if measure is None:
                return None
            if action == "complete_milestone":
                return measure.next_milestone is not None
            if action in ("resolve_delay", "edit_delay"):
                return measure.open_delays > 0
            detail = self.detail
            if action == "edit_milestone" and detail and detail.measure.number == measure.number:
                return bool(detail.milestones)
        return True

    # --- changes -------------------------------------------------------------------------
    # Each dialog-driven action reads top to bottom: it awaits its dialog in a worker
    # (push_screen_wait), then saves, then says what happened.

    def _save(
        self, change: Callable[[], object], done: str, number: str, *, go_to: bool = False
    ) -> None:
        """Run one change to measure `number`; show its new state, or say why it was refused."""
        try:
            change()
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Nicht gespeichert", timeout=8)
            self.refresh_measure(number, go_to=go_to)  # someone else may have changed it
            return
        self._saw_own_change()
        self.refresh_measure(number, go_to=go_to)
        self.status_line.say(done + UNDO_HINT)

    def action_change_status(self) -> None:
        """Ask in the status line: one letter saves a move that needs nothing more.

        No dialog for the everyday move (opening and closing a modal screen repaints the
        whole screen twice); moves that need data, and Enter, open the status dialog.
        """
        if measure := self.current:
            self._status_of = measure
            self.status_line.ask(
                f"Status {measure.number} „{measure.status.label}“ →",
                [
                    Choice(STATUS_KEYS[move], move.label, move, SHORT_LABELS[move])
                    for move in allowed_moves(measure.status)
                ],
            )

    @on(StatusLine.Answered)
    def _status_answered(self, event: StatusLine.Answered) -> None:
        measure = self._status_of
        if measure is None:
            return
        target = event.value if isinstance(event.value, Status) else None
        if target is not None and not requirements(measure.status, target).anything:
            self._save_move(measure, target)
        else:
            self.status_line.clear()
            self._ask_status(measure, target)

    @work(group="dialog")
    async def _ask_status(self, measure: MeasureView, target: Status | None) -> None:
        change = await self.app.push_screen_wait(dialogs.StatusDialog(measure, target))
        if change is not None:
            self._save_move(
                measure,
                change.target,
                note=change.note,
                receiving_unit=change.receiving_unit,
                reason=change.reason,
                delay=change.delay,
                on=change.on,
            )

    def _save_move(
        self,
        measure: MeasureView,
        target: Status,
        *,
        note: str = "",
        receiving_unit: str = "",
        reason: str = "",
        delay: DelayInput | None = None,
        on: LooseDate | None = None,
    ) -> None:
        self._save(
            lambda: self.catalogue.change_status(
                measure.number,
                target,
                note=note,
                receiving_unit=receiving_unit,
                reason=reason,
                delay=delay,
                on=on,
                expected_revision=measure.revision,
            ),
            f"{measure.number}: {measure.status.label} → {target.label}{_on_another_day(on)}",
            measure.number,
        )

    @work(group="dialog")
    async def action_add_milestone(self) -> None:
        measure = self.current
        if measure is None:
            return
        milestone = await self.app.push_screen_wait(dialogs.MilestoneDialog(measure))
        if milestone is None:
            return
        self._save(
            lambda: self.catalogue.add_milestone(
                measure.number, milestone.title, due=milestone.due, note=milestone.note
            ),
            f"{measure.number}: Meilenstein „{milestone.title}“ angelegt",
            measure.number,
        )

    @work(group="dialog")
    async def action_complete_milestone(self) -> None:
        measure = self.current
        if measure is None or measure.next_milestone is None:
            return
        title = measure.next_milestone.title
        reached = await self.app.push_screen_wait(
            dialogs.ReachedDialog(measure, measure.next_milestone)
        )
        if reached is None:
            return
        today = LooseDate.from_date(local_today())
        when = "heute" if reached.on == today else f"am {reached.on.german()}"
        self._save(
            lambda: self.catalogue.complete_milestone(
                measure.number, title, on=reached.on, note=reached.note
            ),
            f"{measure.number}: Meilenstein „{title}“ erreicht ({when})",
            measure.number,
        )

    @work(group="dialog")
    async def action_edit_milestone(self) -> None:
        """Choose one of the measure's milestones: Enter changes it, Entf deletes it."""
        measure, detail = self.current, self.detail
        if measure is None or detail is None or detail.measure.number != measure.number:
            return
        if not detail.milestones:
            self.notify(f"{measure.number} hat keine Meilensteine.", severity="warning")
            return
        milestones = {milestone.id: milestone for milestone in detail.milestones}
        choice = await self.app.push_screen_wait(
            dialogs.RowChooser(
                f"Meilenstein von {measure.number} ändern oder löschen",
                measure.title,
                [(milestone.id, milestone.describe()) for milestone in detail.milestones],
                can_delete=True,
            )
        )
        if choice is None:
            return
        milestone = milestones[choice.row_id]
        if choice.delete:
            yes = await self.app.push_screen_wait(
                dialogs.ConfirmDialog(
                    "Meilenstein löschen?", f"{measure.number}: {milestone.describe()}"
                )
            )
            if yes:
                self._save(
                    lambda: self.catalogue.delete_milestone(measure.number, milestone.id),
                    f"{measure.number}: Meilenstein „{milestone.title}“ gelöscht",
                    measure.number,
                )
            return
        edited = await self.app.push_screen_wait(dialogs.MilestoneDialog(measure, milestone))
        if edited is None:
            return
        self._save(
            lambda: self.catalogue.edit_milestone(
                measure.number,
                milestone.id,
                title=edited.title,
                due=edited.due,
                clear_due=edited.due is None,
                note=edited.note,
            ),
            f"{measure.number}: Meilenstein „{edited.title}“ geändert",
            measure.number,
        )

    @work(group="dialog")
    async def action_edit_delay(self) -> None:
        """The open delay's dialog, its values filled in; of several, choose one first."""
        measure, detail = self.current, self.detail
        if measure is None or detail is None or detail.measure.number != measure.number:
            return
        open_delays = {delay.id: delay for delay in detail.delays if delay.is_open}
        if not open_delays:
            return
        chosen: str | None = next(iter(open_delays))
        if len(open_delays) > 1:
            choice = await self.app.push_screen_wait(
                dialogs.RowChooser(
                    f"Offene Verzögerung von {measure.number} ändern",
                    measure.title,
                    [(delay.id, delay.describe()) for delay in open_delays.values()],
                )
            )
            chosen = choice.row_id if choice else None
        if chosen is None:
            return
        delay = open_delays[chosen]
        edited = await self.app.push_screen_wait(dialogs.DelayDialog(measure, delay))
        if edited is None:
            return
        self._save(
            lambda: self.catalogue.edit_delay(
                measure.number,
                delay.id,
                cause=edited.cause,
                since=edited.since,
                until=edited.until,
                clear_until=edited.until is None,
                note=edited.note,
            ),
            f"{measure.number}: Verzögerung geändert",
            measure.number,
        )

    @work(group="dialog")
    async def action_log_delay(self) -> None:
        measure = self.current
        if measure is None:
            return
        if measure.status.is_final:
            self.notify(
                f"{measure.number} ist „{measure.status.label}“ – zuerst wieder aufnehmen (s).",
                severity="warning",
            )
            return
        delay = await self.app.push_screen_wait(dialogs.DelayDialog(measure))
        if delay is None:
            return
        self._save(
            lambda: self.catalogue.log_delay(measure.number, delay),
            f"{measure.number}: Verzögerung erfasst",
            measure.number,
        )

    @work(group="dialog")
    async def action_resolve_delay(self) -> None:
        measure = self.current
        if measure is None or self.detail is None:
            return
        open_delays = [delay for delay in self.detail.delays if delay.is_open]
        resolution = await self.app.push_screen_wait(dialogs.ResolveDialog(measure, open_delays))
        if resolution is None:
            return
        self._save(
            lambda: self.catalogue.resolve_delays(
                measure.number,
                on=resolution.on,
                return_to=resolution.return_to,
                note=resolution.note,
            ),
            f"{measure.number}: Verzögerung behoben",
            measure.number,
        )

    @work(group="dialog")
    async def action_new_measure(self) -> None:
        fields = self.catalogue.fields()
        data = await self.app.push_screen_wait(
            dialogs.MeasureDialog(fields=fields, field_code=self.field_code)
        )
        if data is None:
            return
        try:
            texts: dict[str, Any] = dict(data.texts)
            created = self.catalogue.create_measure(
                data.field_code, texts.pop("title"), on=data.on, **texts
            )
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Nicht gespeichert", timeout=8)
            return
        self._saw_own_change()
        self.reload(keep=created.number)  # a new row and new counts: read the list again
        self.status_line.say(f"Maßnahme {created.number} „{created.title}“ angelegt{UNDO_HINT}")

    @work(group="dialog")
    async def action_edit_measure(self) -> None:
        measure = self.current
        if measure is None:
            return
        data = await self.app.push_screen_wait(dialogs.MeasureDialog(fields=[], measure=measure))
        if data is None:
            return
        self._save(
            lambda: self.catalogue.edit_measure(
                measure.number, expected_revision=measure.revision, **data.texts
            ),
            f"{measure.number}: geändert",
            measure.number,
        )

    @work(group="dialog")
    async def action_renumber(self) -> None:
        measure = self.current
        if measure is None:
            return
        number = await self.app.push_screen_wait(dialogs.RenumberDialog(measure))
        if number is None or number == measure.number:
            return
        try:
            self.catalogue.renumber(measure.number, number, expected_revision=measure.revision)
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Nicht gespeichert", timeout=8)
            return
        self._saw_own_change()
        self.reload(keep=number)  # its place in the list changes
        self.status_line.say(f"{measure.number} hat jetzt die Nummer {number}{UNDO_HINT}")

    @work(group="dialog")
    async def action_undo(self) -> None:
        """Ask about this author's newest change that can be undone; while its undo is
        refused (someone built on it), say why and offer the one before."""
        older_than: str | None = None
        refused = ""
        while True:
            try:
                event = self.catalogue.last_undoable(older_than=older_than)
            except KoordinatorError as error:
                self.notify(str(error), severity="error")
                return
            if event is None:
                if refused:
                    self.notify(refused, severity="error", title="Nicht rückgängig", timeout=8)
                else:
                    self.notify(NOTHING_TO_UNDO)
                return
            question = (f"{refused}\n\nStattdessen die Änderung davor?\n" if refused else "") + (
                f"Maßnahme {event.number}: {event.summary}\n"
                f"({local_time(event.occurred_at)}, {event.author})"
            )
            yes = await self.app.push_screen_wait(
                dialogs.ConfirmDialog("Letzte eigene Änderung rückgängig machen?", question)
            )
            if not yes:
                return
            try:
                self.catalogue.undo_last(expected_event_id=event.id, older_than=older_than)
            except ConflictError as error:
                self.refresh_measure(event.number)
                older_than, refused = event.id, str(error)
                continue
            except KoordinatorError as error:
                self.notify(str(error), severity="error", title="Nicht gespeichert", timeout=8)
                self.refresh_measure(event.number)
                return
            self._saw_own_change()
            self.refresh_measure(event.number, go_to=True)
            self.status_line.say(f"{event.number}: rückgängig gemacht – {event.summary}")
            return

    # --- dashboard, snapshot, report, import ----------------------------------------------
    # Each runs its slow part in a thread worker (`_in_thread`): keys keep working, a line
    # says what runs, and one job at a time (a second export is refused, not started twice).

    @work(group="dialog")
    async def action_dashboard(self) -> None:
        from koordinator.core.report import report_figures  # imported when first needed
        from koordinator.tui.screens.dashboard import DashboardScreen

        figures = await self._in_thread(
            "Übersicht wird berechnet …", "Übersicht nicht möglich", report_figures, self.catalogue
        )
        if figures is not None:
            await self.app.push_screen(DashboardScreen(figures))

    @work(group="dialog")
    async def action_export(self) -> None:
        from koordinator.core.snapshot import export_to_file

        if self._refuse_second_job():
            return
        path = await self._ask_destination(
            lambda folder, name: dialogs.ExportDialog(folder, name=name)
        )
        if path is None:
            return
        export = await self._in_thread(
            "Export läuft …",
            "Nicht exportiert",
            lambda: export_to_file(self.catalogue.database, path, author=self.catalogue.author),
        )
        if export is None:
            return
        from koordinator.tui.screens.findings import FindingsScreen

        written = f"Snapshot geschrieben: {export.written}"
        if not export.findings:
            self.status_line.say(written, title="Exportiert")
            return
        count = len(export.findings)
        await self.app.push_screen(
            FindingsScreen(
                f"Export: {count} Hinweis{'' if count == 1 else 'e'} der Prüfung",
                written,
                (str(finding) for finding in export.findings),
            )
        )

    @work(group="dialog")
    async def action_write_report(self) -> None:
        from koordinator.core.report import write_report

        if self._refuse_second_job():
            return
        proposed = f"koordinator-bericht-{local_today().isoformat()}.md"
        path = await self._ask_destination(
            lambda folder, name: dialogs.ExportDialog(
                folder, title="Bericht schreiben", name=name or proposed
            )
        )
        if path is None:
            return
        written = await self._in_thread(
            "Bericht wird geschrieben …",
            "Bericht nicht geschrieben",
            lambda: write_report(self.catalogue, path),
        )
        if written is not None:
            self.status_line.say(f"Bericht geschrieben: {written}", title="Bericht")

    @work(group="dialog")
    async def action_import(self) -> None:
        """Merge a snapshot file (as `koordinator import` does); what it did in a screen."""
        from koordinator.core.snapshot import import_snapshots

        if self._refuse_second_job():
            return
        path = await self.app.push_screen_wait(dialogs.ImportDialog(self._export_folder()))
        if path is None:
            return
        result = await self._in_thread(
            "Import läuft …",
            "Nicht importiert",
            lambda: import_snapshots(self.catalogue.database, [path], author=self.catalogue.author),
        )
        if result is None:
            return
        self._saw_own_change()
        self.reload(keep=self.table.current_number)
        from koordinator.tui.screens.findings import FindingsScreen

        lines = list(result.lines())
        await self.app.push_screen(FindingsScreen("Import", lines[-1], lines[:-1]))

    def _export_folder(self) -> Path:
        """The folder the settings name (read now: an edited settings file counts at once);
        the default, the documents folder, is created if it is missing."""
        from koordinator.core.settings import load_settings

        settings, _ = load_settings(getattr(self.app, "settings_path", None))
        folder = settings.export_directory()
        if settings.export_folder is None:
            # Should it fail, the dialog says the folder is missing, and a path can be typed.
            with suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
        return folder

    async def _ask_destination(
        self, dialog: Callable[[Path, str | None], ModalScreen[Path | None]]
    ) -> Path | None:
        """The file to write, from `dialog(folder, name)`; a file that exists is replaced
        only after a yes (else the dialog opens again with that name)."""
        folder, name = self._export_folder(), None
        while True:
            path = await self.app.push_screen_wait(dialog(folder, name))
            if path is None or not path.exists():
                return path
            if await self.app.push_screen_wait(
                dialogs.ConfirmDialog("Datei ersetzen?", f"{path} gibt es schon. Ersetzen?")
            ):
                return path
            name = path.name if path.parent == folder.resolve() else str(path)

    def _refuse_second_job(self) -> bool:
        if self._job is None:
            return False
        self.status_line.say(f"{self._job} – erst danach ein weiterer Auftrag", title="Läuft noch")
        return True

    async def _in_thread(
        self, running: str, failed: str, job: Callable[..., T], *args: object
    ) -> T | None:
        """`job(*args)` in a thread worker; after PROGRESS_DELAY seconds a line says
        `running`.  A KoordinatorError is notified under `failed` (None comes back)."""
        from koordinator.tui.widgets.progress_line import ProgressLine

        if self._refuse_second_job():
            return None
        self._job = running
        progress = ProgressLine(running)

        def show_progress() -> None:
            if self._job == running and not progress.is_mounted:
                self.mount(progress, before=self.status_line)

        timer = self.set_timer(PROGRESS_DELAY, show_progress)
        try:
            worker: Worker[T] = self.run_worker(
                partial(job, *args), thread=True, group="job", exit_on_error=False
            )
            try:
                return await worker.wait()
            except WorkerFailed as failure:
                if not isinstance(failure.error, KoordinatorError):
                    raise failure.error from None
                self.notify(str(failure.error), severity="error", title=failed, timeout=10)
                return None
        finally:
            timer.stop()
            self._job = None
            if progress.is_mounted:
                await progress.remove()

    # --- others' changes, history ----------------------------------------------------------

    def _data_version(self) -> int | None:
        try:
            return self.catalogue.data_version()
        except KoordinatorError:
            return None  # unreadable now: the next poll asks again

    def _look_for_changes(self) -> None:
        """Someone else wrote to the database: read it again, the cursor on its measure."""
        if self.status_line.asking:
            return  # the answer belongs to the measure asked about; the next poll reloads
        version = self._data_version()
        if version is None or version == self._seen_version:
            return
        self._seen_version = version
        self.reload(keep=self.table.current_number)

    def _saw_own_change(self) -> None:
        """This screen's own change is shown already (`refresh_measure`): no reload for it.
        Another process's change committed in the same instant shows with the next one,
        or with `r`."""
        self._seen_version = self._data_version()

    @work(group="dialog")
    async def action_history(self) -> None:
        """All changes; Enter on one shows its measure."""
        from koordinator.tui.screens.history import HistoryScreen  # imported when first opened

        number = await self.app.push_screen_wait(HistoryScreen(self.catalogue))
        if number is not None:
            self.go_to(number)

    def action_refresh(self) -> None:
        self.reload()
        self.notify("Neu geladen.")

    def go_to(self, number: str) -> None:
        """Show measure `number`, clearing filters that would hide it."""
        if self.table.measure(number) is None:
            self.field_code = None
            self.filter_text = ""
            self.status_filter = None
            box = self.query_one(FilterInput)
            box.value = ""
            box.show_status(None)
            box.display = False
        self.reload(keep=number)
        self.table.focus()


def field_line(fields: list[FieldView], chosen: int | None) -> Text:
    """The narrow terminal's one line in place of the field pane: the chosen field and how
    to choose another (the keys 0-4, as in the pane)."""
    if chosen is None:
        shown = f"Alle ({sum(field.measure_count for field in fields)})"
    else:
        field = next((f for f in fields if f.code == chosen), None)
        shown = f"{chosen} {field.name} ({field.measure_count})" if field else str(chosen)
    last = max((field.code for field in fields), default=0)
    return Text.assemble(
        "Handlungsfeld: ", (printable(shown), "bold"), f"  · 0–{last}: Feld wählen"
    )


@dataclass(frozen=True)
class StatusFilter:
    """The answer to `f`'s question (not a status change's): list only this status."""

    status: Status


def _on_another_day(on: LooseDate | None) -> str:
    """The " (am 03/2021)" of a saved change's confirmation, when it happened on another day."""
    if on is None or on == LooseDate.from_date(local_today()):
        return ""
    return f" (am {on.german()})"
