"""The catalogue as the doors see it: `CatalogueApi`, the one interface the CLI and the UI
call, and `open_catalogue`, the one factory that opens it.

Two forms stand behind the interface.  The plain one is the service
(`koordinator.core.service.Catalogue`): SQLAlchemy and the write side from the start, as a
command needs them.  The lazy one (`koordinator.core.lazy_catalogue.LazyCatalogue`) answers
the reads of the UI's first screen on `sqlite3` and loads the service after that paint.  This
module imports neither SQLAlchemy nor the service at import time: the UI imports it before
its first paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from koordinator.core.lazy_catalogue import open_lazy

if TYPE_CHECKING:
    from koordinator.core.dates import LooseDate
    from koordinator.core.store.fast_reads import Reads
    from koordinator.core.store.sqlite_store import SqliteStore
    from koordinator.core.views import (
        EventView,
        FieldView,
        MeasureDetail,
        MeasureView,
        MilestoneView,
    )
    from koordinator.core.workflow import DelayInput, Status


class CatalogueApi(Protocol):
    """What the CLI and the UI ask of the catalogue: every read and change they call."""

    author: str

    @property
    def display_name(self) -> str:
        """The database as the UI's title names it."""
        ...

    @property
    def read_only(self) -> bool: ...

    @property
    def notice(self) -> str:
        """What opening the database did that the user must be told (an older database
        migrated, and where its backup is), or ""."""
        ...

    @property
    def loaded(self) -> bool:
        """Whether the write side (SQLAlchemy) is loaded; always, for the plain form."""
        ...

    @property
    def reads(self) -> Reads:
        """The plain-SQL reads (the report reads through them)."""
        ...

    @property
    def database(self) -> SqliteStore:
        """The SQLAlchemy side, for snapshots (export, import, diff); loads it if need be."""
        ...

    def load(self) -> None:
        """Load the write side now (the UI does it after its first paint); a failure raises
        a DatabaseError and the next call tries again."""
        ...

    def close(self) -> None: ...

    # --- reading -----------------------------------------------------------------------

    def fields(self) -> list[FieldView]: ...

    def list_measures(
        self,
        *,
        field_code: int | None = None,
        status: Status | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[MeasureView]: ...

    def measure(self, number: str) -> MeasureDetail: ...

    def data_version(self) -> int:
        """Changes when the database was written to since the last call on this thread
        (by anyone, this process's own changes included); cheap enough to poll."""
        ...

    def history(
        self, number: str | None = None, *, limit: int | None = None
    ) -> list[EventView]: ...

    def last_undoable(self, *, older_than: str | None = None) -> EventView | None:
        """This author's newest change that can be undone (before the change `older_than`:
        the one before a refused undo)."""
        ...

    # --- changing ----------------------------------------------------------------------

    def create_measure(
        self,
        field_code: int,
        title: str,
        *,
        status: Status = ...,
        on: LooseDate | None = None,
        **texts: str,
    ) -> MeasureView:
        """`texts`: the measure's other editable fields (`records.editable`: unit, note);
        `on`: the day it was taken up (today unless given)."""
        ...

    def edit_measure(
        self,
        number: str,
        *,
        expected_revision: int | None = None,
        **texts: str | None,
    ) -> MeasureView:
        """`texts`: editable fields (title, unit, note) by name; None leaves one as it is."""
        ...

    def renumber(
        self, number: str, new_number: str, *, expected_revision: int | None = None
    ) -> EventView:
        """Another number for the measure, free and of a known field."""
        ...

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
    ) -> EventView: ...

    def add_milestone(
        self,
        number: str,
        title: str,
        *,
        due: LooseDate | None = None,
        done_on: LooseDate | None = None,
        done: bool = False,
        note: str = "",
    ) -> MilestoneView: ...

    def complete_milestone(
        self, number: str, which: str | None = None, *, on: LooseDate | None = None, note: str = ""
    ) -> MilestoneView: ...

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
        """`milestone_id`: its id, or its exact title."""
        ...

    def delete_milestone(self, number: str, which: str) -> EventView:
        """`which`: the milestone's id, or its exact title."""
        ...

    def log_delay(
        self, number: str, delay: DelayInput | None = None, *, note: str = ""
    ) -> EventView: ...

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
        """An open delay (None: the only one); None if nothing changes."""
        ...

    def resolve_delays(
        self,
        number: str,
        *,
        on: LooseDate | None = None,
        return_to: Status = ...,
        note: str = "",
    ) -> EventView: ...

    def undo_last(
        self,
        expected_event_id: str | None = None,
        *,
        note: str = "",
        older_than: str | None = None,
    ) -> EventView: ...


def open_catalogue(flag: str | None, *, read_only: bool, author: str, lazy: bool) -> CatalogueApi:
    """The catalogue of the database `flag` names (a path or URL; None: KOORDINATOR_DB or
    the default database, created from the sample on first use).

    `lazy`: the UI's form, whose first reads need no SQLAlchemy, wherever it can be (a file
    this version can use); otherwise, and for a URL or a default database yet to be
    created, the plain form, opened with SQLAlchemy and its messages.
    """
    if lazy:
        catalogue = open_lazy(flag, read_only=read_only, author=author)
        if catalogue is not None:
            return catalogue
    # Here, not at the top: the lazy form's first paint goes without SQLAlchemy.
    from koordinator.core.service import Catalogue
    from koordinator.core.store.sqlite_store import fill_with_sample, open_database, resolve_target

    target = resolve_target(flag)
    database = open_database(target, read_only=read_only, create_default=fill_with_sample)
    return Catalogue(database, author=author)
