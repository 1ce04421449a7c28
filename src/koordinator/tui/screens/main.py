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
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key, Resize
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input
from textual.worker import get_current_worker

from koordinator.core.dates import LooseDate, local_time, local_today
from koordinator.core.errors import NOTHING_TO_UNDO, ConflictError, KoordinatorError
from koordinator.core.views import DelayView, MeasureDetail, MeasureView, MilestoneView
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
    from koordinator.tui.dialogs import (
        DelayResolution,
        MeasureInput,
        MilestoneReached,
        NewMilestone,
        RowChoice,
        StatusChange,
    )

# Measures read before the first paint (more rows than any terminal shows at once); the rest
# is read by a worker once that paint is done.
FIRST_PAGE = 100

# Python's GIL switch interval (seconds) while a worker thread reads the whole list, and
# while one loads SQLAlchemy and the write side (imports hold the GIL longer than building
# views; a key pressed just after the first paint falls into that load).
READ_ALL_SWITCH_INTERVAL = 0.0005
LOAD_SWITCH_INTERVAL = 0.0001

# From this width on the details stand right of the table instead of below it.
WIDE_LAYOUT_COLUMNS = 150

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
    }
)
# Actions that act on the highlighted measure.
MEASURE_ACTIONS = EDITING_ACTIONS - {"new_measure", "undo"}


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

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield FieldList(id="fields")
            with Vertical(id="center"):
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
        # While the status line asks, the table leaves the cursor keys to on_key (the line
        # found once: a query of the screen on every key cost 0.3 ms).
        line = self.status_line
        self.table.keys_taken = lambda: line.asking
        self.reload()
        self.query_one(MeasureTable).focus()
        # `koordinator` starts with the cycle collector off (cli.run); an app made in a
        # test (many in one process) leaves the collector as it is.
        self._own_collector = not gc.isenabled()
        self.call_after_refresh(self._after_first_paint)

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

    @on(DataTable.RowHighlighted, "#measures")
    def _row_highlighted(self) -> None:
        # Normally the details already show this measure (see _cursor_moved); this catches
        # highlights without a row change, e.g. the first row after the table was filled.
        shown = self.detail.measure.number if self.detail else None
        if shown != self.table.current_number:
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
        self.refresh_measure(number, go_to=go_to)
        self.status_line.say(done)

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
            self.app.push_screen(
                dialogs.StatusDialog(measure, target), partial(self._save_status, measure)
            )

    def _save_status(self, measure: MeasureView, change: StatusChange | None) -> None:
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

    def action_add_milestone(self) -> None:
        if measure := self.current:
            self.app.push_screen(
                dialogs.MilestoneDialog(measure), partial(self._save_milestone, measure)
            )

    def _save_milestone(self, measure: MeasureView, milestone: NewMilestone | None) -> None:
        if milestone is None:
            return
        self._save(
            lambda: self.catalogue.add_milestone(
                measure.number, milestone.title, due=milestone.due, note=milestone.note
            ),
            f"{measure.number}: Meilenstein „{milestone.title}“ angelegt",
            measure.number,
        )

    def action_complete_milestone(self) -> None:
        measure = self.current
        if measure is None or measure.next_milestone is None:
            return
        milestone = measure.next_milestone
        self.app.push_screen(
            dialogs.ReachedDialog(measure, milestone),
            partial(self._save_reached, measure, milestone.title),
        )

    def _save_reached(
        self, measure: MeasureView, title: str, reached: MilestoneReached | None
    ) -> None:
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

    def action_edit_milestone(self) -> None:
        """Choose one of the measure's milestones: Enter changes it, Entf deletes it."""
        measure, detail = self.current, self.detail
        if measure is None or detail is None or detail.measure.number != measure.number:
            return
        if not detail.milestones:
            self.notify(f"{measure.number} hat keine Meilensteine.", severity="warning")
            return
        milestones = {milestone.id: milestone for milestone in detail.milestones}
        self.app.push_screen(
            dialogs.RowChooser(
                f"Meilenstein von {measure.number} ändern oder löschen",
                measure.title,
                [(milestone.id, milestone.describe()) for milestone in detail.milestones],
                can_delete=True,
            ),
            partial(self._milestone_chosen, measure, milestones),
        )

    def _milestone_chosen(
        self,
        measure: MeasureView,
        milestones: dict[str, MilestoneView],
        choice: RowChoice | None,
    ) -> None:
        if choice is None:
            return
        milestone = milestones[choice.row_id]
        if not choice.delete:
            self.app.push_screen(
                dialogs.MilestoneDialog(measure, milestone),
                partial(self._save_milestone_edit, measure, milestone),
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._save(
                    lambda: self.catalogue.delete_milestone(measure.number, milestone.id),
                    f"{measure.number}: Meilenstein „{milestone.title}“ gelöscht",
                    measure.number,
                )

        self.app.push_screen(
            dialogs.ConfirmDialog(
                "Meilenstein löschen?", f"{measure.number}: {milestone.describe()}"
            ),
            answered,
        )

    def _save_milestone_edit(
        self, measure: MeasureView, milestone: MilestoneView, edited: NewMilestone | None
    ) -> None:
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

    def action_edit_delay(self) -> None:
        """The open delay's dialog, its values filled in; of several, choose one first."""
        measure, detail = self.current, self.detail
        if measure is None or detail is None or detail.measure.number != measure.number:
            return
        open_delays = {delay.id: delay for delay in detail.delays if delay.is_open}
        if len(open_delays) == 1:
            self._delay_chosen(measure, open_delays, dialogs.RowChoice(next(iter(open_delays))))
        elif open_delays:
            self.app.push_screen(
                dialogs.RowChooser(
                    f"Offene Verzögerung von {measure.number} ändern",
                    measure.title,
                    [(delay.id, delay.describe()) for delay in open_delays.values()],
                ),
                partial(self._delay_chosen, measure, open_delays),
            )

    def _delay_chosen(
        self, measure: MeasureView, delays: dict[str, DelayView], choice: RowChoice | None
    ) -> None:
        if choice is not None:
            delay = delays[choice.row_id]
            self.app.push_screen(
                dialogs.DelayDialog(measure, delay),
                partial(self._save_delay_edit, measure, delay),
            )

    def _save_delay_edit(
        self, measure: MeasureView, delay: DelayView, edited: DelayInput | None
    ) -> None:
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

    def action_log_delay(self) -> None:
        measure = self.current
        if measure is not None and measure.status.is_final:
            self.notify(
                f"{measure.number} ist „{measure.status.label}“ – zuerst wieder aufnehmen (s).",
                severity="warning",
            )
            return
        if measure:
            self.app.push_screen(dialogs.DelayDialog(measure), partial(self._save_delay, measure))

    def _save_delay(self, measure: MeasureView, delay: DelayInput | None) -> None:
        if delay is None:
            return
        self._save(
            lambda: self.catalogue.log_delay(measure.number, delay),
            f"{measure.number}: Verzögerung erfasst",
            measure.number,
        )

    def action_resolve_delay(self) -> None:
        measure = self.current
        if measure is None or self.detail is None:
            return
        open_delays = [delay for delay in self.detail.delays if delay.is_open]
        self.app.push_screen(
            dialogs.ResolveDialog(measure, open_delays), partial(self._save_resolution, measure)
        )

    def _save_resolution(self, measure: MeasureView, resolution: DelayResolution | None) -> None:
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

    def action_new_measure(self) -> None:
        fields = self.catalogue.fields()
        self.app.push_screen(
            dialogs.MeasureDialog(fields=fields, field_code=self.field_code), self._save_new_measure
        )

    def _save_new_measure(self, data: MeasureInput | None) -> None:
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
        self.reload(keep=created.number)  # a new row and new counts: read the list again
        self.status_line.say(f"Maßnahme {created.number} „{created.title}“ angelegt")

    def action_edit_measure(self) -> None:
        if measure := self.current:
            self.app.push_screen(
                dialogs.MeasureDialog(fields=[], measure=measure), partial(self._save_edit, measure)
            )

    def _save_edit(self, measure: MeasureView, data: MeasureInput | None) -> None:
        if data is None:
            return
        self._save(
            lambda: self.catalogue.edit_measure(
                measure.number, expected_revision=measure.revision, **data.texts
            ),
            f"{measure.number}: geändert",
            measure.number,
        )

    def action_renumber(self) -> None:
        if measure := self.current:
            self.app.push_screen(
                dialogs.RenumberDialog(measure), partial(self._save_renumber, measure)
            )

    def _save_renumber(self, measure: MeasureView, number: str | None) -> None:
        if number is None or number == measure.number:
            return
        try:
            self.catalogue.renumber(measure.number, number, expected_revision=measure.revision)
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Nicht gespeichert", timeout=8)
            return
        self.reload(keep=number)  # its place in the list changes
        self.status_line.say(f"{measure.number} hat jetzt die Nummer {number}")

    def action_undo(self) -> None:
        self._offer_undo()

    def _offer_undo(self, older_than: str | None = None, refused: str = "") -> None:
        """Ask about this author's newest change that can be undone; if its undo is refused
        (someone built on it), say why and offer the one before."""
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

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.catalogue.undo_last(expected_event_id=event.id, older_than=older_than)
            except ConflictError as error:
                self.refresh_measure(event.number)
                self._offer_undo(event.id, str(error))
                return
            except KoordinatorError as error:
                self.notify(str(error), severity="error", title="Nicht gespeichert", timeout=8)
                self.refresh_measure(event.number)
                return
            self.refresh_measure(event.number, go_to=True)
            self.status_line.say(f"{event.number}: rückgängig gemacht – {event.summary}")

        self.app.push_screen(
            dialogs.ConfirmDialog("Letzte eigene Änderung rückgängig machen?", question),
            answered,
        )

    # --- dashboard, snapshot, report ------------------------------------------------------

    def action_dashboard(self) -> None:
        from koordinator.core.report import report_figures  # imported when first needed
        from koordinator.tui.screens.dashboard import DashboardScreen

        try:
            figures = report_figures(self.catalogue)
        except KoordinatorError as error:
            self.notify(str(error), severity="error")
            return
        self.app.push_screen(DashboardScreen(figures))

    def action_export(self) -> None:
        self.app.push_screen(dialogs.ExportDialog(), self._write_snapshot)

    def _write_snapshot(self, path: Path | None) -> None:
        if path is None:
            return
        from koordinator.core.snapshot import export_to_file

        try:
            export = export_to_file(self.catalogue.database, path, author=self.catalogue.author)
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Nicht exportiert", timeout=10)
            return
        self.notify(f"Snapshot geschrieben: {export.written}", title="Exportiert", timeout=10)
        if export.findings:
            shown = "\n".join(str(finding) for finding in export.findings[:8])
            more = len(export.findings) - 8
            self.notify(
                shown + (f"\n… und {more} weitere" if more > 0 else ""),
                title=f"{len(export.findings)} Hinweise der Prüfung",
                severity="warning",
                timeout=15,
            )

    def action_write_report(self) -> None:
        self.app.push_screen(
            dialogs.ExportDialog(
                title="Bericht schreiben",
                name=f"koordinator-bericht-{local_today().isoformat()}.md",
            ),
            self._write_report,
        )

    def _write_report(self, path: Path | None) -> None:
        if path is None:
            return
        from koordinator.core.report import write_report

        try:
            written = write_report(self.catalogue, path)
        except KoordinatorError as error:
            self.notify(str(error), severity="error", title="Bericht nicht geschrieben", timeout=10)
            return
        self.notify(f"Bericht geschrieben: {written}", title="Bericht", timeout=10)

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


@dataclass(frozen=True)
class StatusFilter:
    """The answer to `f`'s question (not a status change's): list only this status."""

    status: Status


def _on_another_day(on: LooseDate | None) -> str:
    """The " (am 03/2021)" of a saved change's confirmation, when it happened on another day."""
    if on is None or on == LooseDate.from_date(local_today()):
        return ""
    return f" (am {on.german()})"
