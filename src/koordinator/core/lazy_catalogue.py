"""The catalogue as the terminal UI starts with it: reads at once, the rest a moment later.

Importing SQLAlchemy takes some 400 ms, about half of koordinator's start.  The first
screen needs only reads (the fields of action, the first page of measures, the highlighted
measure's details), and `koordinator.core.store.fast_reads` serves them with the standard library's
`sqlite3`.  So the UI is painted with a `LazyCatalogue`, and `load()` (started by the UI
after its first paint, in a worker thread) imports SQLAlchemy and opens the `Catalogue`
with its write side.  Every other method of `CatalogueApi` (core/catalogue.py) is the
loaded `Catalogue`'s: an action that needs it before the load is done waits for it (it
never fails for that reason).

The reads stay on the fast path after the load as well; they are the same code the
`Catalogue` itself uses (it delegates its reads to `Reads`), on the same connections.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from koordinator.core.dates import local_today
from koordinator.core.errors import KoordinatorError
from koordinator.core.store.fast_reads import Reads, ScreenReads
from koordinator.core.store.sqlite_file import (
    CheckedDatabase,
    check_database,
    chosen_database,
    is_url,
    resolve_target,
)
from koordinator.core.workflow import Status

if TYPE_CHECKING:
    from koordinator.core.dates import LooseDate
    from koordinator.core.service import Catalogue
    from koordinator.core.store.sqlite_store import SqliteStore
    from koordinator.core.views import EventView, MeasureView, MilestoneView
    from koordinator.core.workflow import DelayInput


def open_lazy(flag: str | None, *, read_only: bool, author: str) -> LazyCatalogue | None:
    """The catalogue for the UI's first paint, or None where the usual way must be taken:
    a URL (parsed by SQLAlchemy), a default database not created yet (created from the
    sample, with SQLAlchemy).  A file that is not a database this version can use raises
    the DatabaseError of the one file check (`check_database`), which the usual way would
    only run again (an older database's migration with it)."""
    chosen = chosen_database(flag)
    if is_url(chosen):
        return None
    target = resolve_target(flag)
    if target.is_default and not target.path.exists():
        return None
    return LazyCatalogue(check_database(target, read_only=read_only), author=author)


class LazyCatalogue(ScreenReads):
    """`CatalogueApi`: the screen's reads at once; everything else from the `Catalogue` that
    `load` opens.

    The file is checked once, by `open_lazy` before the first connection; `load` opens the
    `SqliteStore` on that check (`CheckedDatabase`), never looking at the file again.
    """

    def __init__(self, checked: CheckedDatabase, *, author: str) -> None:
        self.checked = checked
        self.target = checked.target
        self.read_only = checked.read_only
        self._author = author
        self.reads = Reads(checked)
        self._today = local_today
        self._catalogue: Catalogue | None = None
        self._lock = threading.Lock()

    @property
    def display_name(self) -> str:
        return self.target.display

    @property
    def notice(self) -> str:
        return self.checked.notice

    @property
    def loaded(self) -> bool:
        return self._catalogue is not None

    @property
    def author(self) -> str:
        return self._author

    @author.setter
    def author(self, name: str) -> None:
        """A name given after opening (the UI asks at first start): the loaded Catalogue
        signs with it too, whichever of the two comes first (see `_loaded`)."""
        self._author = name
        if self._catalogue is not None:
            self._catalogue.author = name

    # fields, list_measures, measure (ScreenReads): no wait.

    # --- the rest: the Catalogue --------------------------------------------------------

    def load(self) -> None:
        """Load the Catalogue now (imports SQLAlchemy and opens the database the first time;
        a second caller meanwhile waits for the first).  A failure is raised to the caller
        (a DatabaseError says why) and the next call tries again."""
        self._loaded()

    def _loaded(self) -> Catalogue:
        catalogue = self._catalogue
        if catalogue is not None:
            return catalogue
        with self._lock:
            if self._catalogue is None:
                # Here, not at the top: this is the SQLAlchemy the first paint goes without.
                from koordinator.core.service import Catalogue
                from koordinator.core.store.sqlite_store import SqliteStore

                database = SqliteStore(self.checked, reads=self.reads)
                catalogue = Catalogue(database, author=self.author)
                # Not needed to work, only to make the first change faster: a failure here
                # (the file locked, say) is the first change's to report.
                with contextlib.suppress(KoordinatorError):
                    catalogue.warm_up()
                self._catalogue = catalogue
                catalogue.author = self._author  # if the name changed meanwhile
            return self._catalogue

    @property
    def database(self) -> SqliteStore:
        return self._loaded().database

    def history(self, number: str | None = None, *, limit: int | None = None) -> list[EventView]:
        return self._loaded().history(number, limit=limit)

    def last_undoable(self, *, older_than: str | None = None) -> EventView | None:
        return self._loaded().last_undoable(older_than=older_than)

    def create_measure(
        self,
        field_code: int,
        title: str,
        *,
        status: Status = Status.PLANNING,
        on: LooseDate | None = None,
        **texts: str,
    ) -> MeasureView:
        return self._loaded().create_measure(field_code, title, status=status, on=on, **texts)

    def edit_measure(
        self,
        number: str,
        *,
        expected_revision: int | None = None,
        **texts: str | None,
    ) -> MeasureView:
        return self._loaded().edit_measure(number, expected_revision=expected_revision, **texts)

    def renumber(
        self, number: str, new_number: str, *, expected_revision: int | None = None
    ) -> EventView:
        return self._loaded().renumber(number, new_number, expected_revision=expected_revision)

    def change_status(
        self,
        number: str,
        target: Status | str,
        *,
        note: str = "",
        receiving_unit: str = "",
        reason: str = "",
        delay: DelayInput | None = None,
        on: LooseDate | None = None,
        expected_revision: int | None = None,
    ) -> EventView:
        return self._loaded().change_status(
            number,
            target,
            note=note,
            receiving_unit=receiving_unit,
            reason=reason,
            delay=delay,
            on=on,
            expected_revision=expected_revision,
        )

    def add_milestone(
        self,
        number: str,
        title: str,
        *,
        due: LooseDate | None = None,
        done_on: LooseDate | None = None,
        done: bool = False,
        note: str = "",
    ) -> MilestoneView:
        return self._loaded().add_milestone(
            number, title, due=due, done_on=done_on, done=done, note=note
        )

    def complete_milestone(
        self, number: str, which: str | None = None, *, on: LooseDate | None = None, note: str = ""
    ) -> MilestoneView:
        return self._loaded().complete_milestone(number, which, on=on, note=note)

    def edit_milestone(
        self,
        number: str,
        milestone_id: str,
        *,
        title: str | None = None,
        due: LooseDate | None = None,
        clear_due: bool = False,
        note: str | None = None,
    ) -> MilestoneView:
        return self._loaded().edit_milestone(
            number, milestone_id, title=title, due=due, clear_due=clear_due, note=note
        )

    def delete_milestone(self, number: str, which: str) -> EventView:
        return self._loaded().delete_milestone(number, which)

    def log_delay(
        self, number: str, delay: DelayInput | None = None, *, note: str = ""
    ) -> EventView:
        return self._loaded().log_delay(number, delay, note=note)

    def edit_delay(
        self,
        number: str,
        delay_id: str | None = None,
        *,
        cause: str | None = None,
        since: LooseDate | None = None,
        until: LooseDate | None = None,
        clear_until: bool = False,
        note: str | None = None,
    ) -> EventView | None:
        return self._loaded().edit_delay(
            number,
            delay_id,
            cause=cause,
            since=since,
            until=until,
            clear_until=clear_until,
            note=note,
        )

    def resolve_delays(
        self,
        number: str,
        *,
        on: LooseDate | None = None,
        return_to: Status = Status.ON_SCHEDULE,
        note: str = "",
    ) -> EventView:
        return self._loaded().resolve_delays(number, on=on, return_to=return_to, note=note)

    def undo_last(
        self,
        expected_event_id: str | None = None,
        *,
        note: str = "",
        older_than: str | None = None,
    ) -> EventView:
        return self._loaded().undo_last(expected_event_id, note=note, older_than=older_than)

    def close(self) -> None:
        with self._lock:
            if self._catalogue is not None:
                self._catalogue.database.close()  # closes the reads too
            else:
                self.reads.close()
