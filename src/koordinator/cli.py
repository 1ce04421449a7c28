"""The command line: argparse subcommands that call the headless core, German output.

Thin by design: parse, call the catalogue (`koordinator.core.catalogue`), print.  User mistakes
end as one line on stderr and exit code 2, never a traceback.  Only the standard library is
imported at start; the core (SQLAlchemy) is imported when a command runs, and Textual only
when the terminal UI starts, so `koordinator --help` and the subcommands start fast.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from koordinator import __version__
from koordinator.core.errors import EXIT_USER_ERROR  # argparse's usage errors exit with 2 too

if TYPE_CHECKING:
    from koordinator.core.catalogue import CatalogueApi
    from koordinator.core.views import EventView, MeasureDetail, MeasureView, MilestoneView
    from koordinator.core.workflow import DelayInput

EXIT_OK = 0
# A century: more months back than that would reach before the year 1 (and nothing is stale).
MAX_STALE_MONTHS = 1200

EPILOG = """\
Ohne Befehl startet die Terminal-Oberfläche.

Beispiele:
  koordinator list --status verzögert
  koordinator show 3.6
  koordinator status 1.11 im_zeitplan --note "Projektstart erfolgt"
  koordinator status 3.2 delayed --cause corona --since 03/2020 --until 2021
  koordinator status 1.8 handed_over --unit "FB 20" --on 03/2021
  koordinator milestone 1.6 Pilotbetrieb --due 06/2021
  koordinator milestone 1.6 --complete --on 30.06.2021
  koordinator milestone 1.6 Pilotbetrieb --edit --due 09/2021
  koordinator milestone 1.6 Pilotbetrieb --delete
  koordinator delay 3.2 --resolve
  koordinator delay 3.2 --edit --until 2022 --note "Lieferengpass"
  koordinator new 1 "Digitale Bauakte" --unit "FB 60"
  koordinator edit 1.17 --note "Start 2022"
  koordinator renumber 1.17 1.18
  koordinator undo                          (die letzte eigene Änderung zurücknehmen)
  koordinator status 1.11 established --format json   (das erfasste Ereignis als JSON)
  koordinator export -o stand.toml          (Snapshot für FB 12)
  koordinator import anna.toml bernd.toml --dry-run
  koordinator diff stand-alt.toml           (was hat sich seitdem geändert?)
  koordinator report -o bericht.md --since stand-alt.toml

Datenbank: --db PFAD, sonst KOORDINATOR_DB, sonst die Standard-Datenbank im Benutzerordner
(wird beim ersten Start mit dem Beispielkatalog angelegt).
Status: planning, on_schedule, delayed, established, handed_over, dropped – oder deutsch
(„In Planung“, „Im Zeitplan“, „Verzögert“, „Etabliert“, „In die Linie übergeben“, „Verworfen“).
Daten: JJJJ, JJJJ-MM, JJJJ-MM-TT, MM/JJJJ oder TT.MM.JJJJ.
"""


class _GermanHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's own words ("usage:") in German, like the rest of the program."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "Aufruf: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """A usage mistake (unknown option, `--field x`) is one line on stderr, exit 2, like
    every other mistake; the full usage is one `--help` away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False  # replaced by a German -h below
        kwargs.setdefault("formatter_class", _GermanHelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "Argumente"
        self._optionals.title = "Optionen"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="diese Hilfe zeigen"
        )

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_USER_ERROR,
            f"{self.prog}: {_one_line(_german_usage_error(message))} – Hilfe: {self.prog} --help\n",
        )


# argparse's own messages (Python 3.11-3.13), in German; one not listed stays as it is.
_USAGE_ERRORS = (
    (r"unrecognized arguments: (.*)", r"unbekannte Angabe: \1"),
    (r"the following arguments are required: (.*)", r"es fehlt: \1"),
    (
        r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)",
        r"\1: \2 gibt es nicht – möglich: \3",
    ),
    (r"argument (\S+): expected one argument", r"\1: erwartet einen Wert"),
    (r"argument (\S+): invalid int value: (.*)", r"\1: \2 ist keine ganze Zahl"),
    (r"argument (\S+): not allowed with argument (.*)", r"\1: nicht zusammen mit \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"\1 ist mehrdeutig: \2"),
    (r"argument (\S+): (.*)", r"\1: \2"),  # a type function's own (German) message
)


def _german_usage_error(message: str) -> str:
    import re

    for pattern, german in _USAGE_ERRORS:
        match = re.fullmatch(pattern, message)
        if match:
            return match.expand(german)
    return message


class _Command(_Parser):
    """One command's parser.  Its own arguments are added when it is used (parsed, or its
    help shown), not on every start: adding all commands' arguments took ~10 ms, before
    the first paint of the UI and in every command."""

    def __init__(
        self, *args: Any, arguments: Callable[[argparse.ArgumentParser], None], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._add_arguments: Callable[[argparse.ArgumentParser], None] | None = arguments

    def _complete(self) -> None:
        if self._add_arguments is not None:
            add_arguments, self._add_arguments = self._add_arguments, None
            add_arguments(self)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        self._complete()
        return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()


# The largest integer SQLite stores: a larger one fails in the driver (OverflowError).
SQLITE_MAX_INTEGER = 2**63 - 1


def _whole_number(low: int, high: int = SQLITE_MAX_INTEGER) -> Callable[[str], int]:
    """An argparse type: a whole number of ASCII digits from `low` to `high`.  int() alone
    takes "٣" and "1_000", and numbers larger than SQLite can store."""

    def parse(text: str) -> int:
        shown = repr(text) if len(text) <= 30 else repr(text[:29] + "…")
        cleaned = text.strip()
        digits = cleaned.removeprefix("-").removeprefix("+")
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"{shown} ist keine ganze Zahl")
        # The length first: int() refuses 4,300 digits and more (with a ValueError).
        if len(digits) > 20 or not low <= int(cleaned) <= high:
            raise argparse.ArgumentTypeError(f"{shown} liegt nicht zwischen {low} und {high}")
        return int(cleaned)

    return parse


def _author(text: str) -> str:
    """An argparse type for --as: the name without surrounding blanks, and not blank (an
    empty --as is a mistake, not a wish for the default; its other texts the catalogue
    checks as every author's)."""
    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r} – der Name darf nicht leer sein")
    return name


def _common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--db", metavar="PFAD", help="Datenbankdatei oder sqlite:///-URL")
    common.add_argument(
        "--as",
        dest="author",
        type=_author,
        metavar="NAME",
        help="Autor der Änderungen (sonst KOORDINATOR_USER)",
    )
    common.add_argument(
        "--read-only", action="store_true", help="nur lesen, nichts ändern (z. B. in Sitzungen)"
    )
    return common


def _events_format(command: argparse.ArgumentParser) -> None:
    """--format of a command that records a change (docs/cli-json.md)."""
    command.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: die erfassten Ereignisse als JSON-Liste",
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = _Parser(
        prog="koordinator",
        description="Den Maßnahmenkatalog der Digitalisierungsstrategie pflegen – offline, im Terminal.",
        epilog=EPILOG,
        formatter_class=_GermanHelpFormatter,
        parents=[common],
    )
    parser.add_argument(
        "--version", action="version", version=f"koordinator {__version__}", help="Version zeigen"
    )
    commands = parser.add_subparsers(dest="command", metavar="BEFEHL", parser_class=_Command)

    def command(
        name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None]
    ) -> None:
        # typeshed wants the parents to be of the subparsers' class (_Command); argparse
        # takes any parser, and the common options are a plain one.
        commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[common],  # type: ignore[list-item]
            arguments=arguments,
        )

    def list_arguments(list_cmd: argparse.ArgumentParser) -> None:
        list_cmd.add_argument(
            "--field", type=_whole_number(1, 99), metavar="N", help="nur Handlungsfeld N (1–4)"
        )
        list_cmd.add_argument("--status", metavar="STATUS", help="nur dieser Status")
        list_cmd.add_argument("--format", choices=("table", "json"), default="table")

    command("list", "Maßnahmen auflisten", list_arguments)

    def show_arguments(show: argparse.ArgumentParser) -> None:
        show.add_argument("number", metavar="NR", help="Maßnahmennummer, z. B. 3.6")
        show.add_argument("--format", choices=("text", "json"), default="text")

    command(
        "show", "eine Maßnahme mit Meilensteinen, Verzögerungen und Verlauf zeigen", show_arguments
    )

    def status_arguments(status: argparse.ArgumentParser) -> None:
        status.add_argument("number", metavar="NR")
        status.add_argument("status", metavar="STATUS")
        status.add_argument("--note", default="", help="Anmerkung (Pflicht beim Wiederaufnehmen)")
        status.add_argument("--unit", default="", help="übernehmende Dienststelle (handed_over)")
        status.add_argument("--reason", default="", help="Begründung (dropped)")
        status.add_argument("--cause", default="corona", help="Ursache der Verzögerung (delayed)")
        status.add_argument("--since", help="Verzögerung seit (Datum; Standard: heute)")
        status.add_argument("--until", help="Verzögerung voraussichtlich bis / neues Ziel (Datum)")
        status.add_argument(
            "--on", metavar="DATUM", help="der Wechsel geschah am (Datum; Standard: heute)"
        )
        _events_format(status)

    command("status", "den Status einer Maßnahme ändern", status_arguments)

    def milestone_arguments(milestone: argparse.ArgumentParser) -> None:
        milestone.add_argument("number", metavar="NR")
        milestone.add_argument(
            "milestone", metavar="TITEL", nargs="?", help="Titel des Meilensteins"
        )
        milestone.add_argument("--due", help='fällig (Datum; mit --edit "": ohne Termin)')
        milestone.add_argument("--done", metavar="DATUM", help="bereits erreicht am (Datum)")
        milestone.add_argument("--note")
        milestone.add_argument(
            "--complete",
            action="store_true",
            help=(
                "als erreicht markieren: den offenen Meilenstein mit genau diesem TITEL"
                " (Groß-/Kleinschreibung egal), ohne TITEL den nächsten offenen"
            ),
        )
        milestone.add_argument("--on", help="mit --complete: erreicht am (Standard: heute)")
        milestone.add_argument(
            "--edit",
            action="store_true",
            help="den Meilenstein TITEL (oder mit dieser Kennung) ändern: --title, --due, --note",
        )
        milestone.add_argument("--title", metavar="NEU", help="mit --edit: neuer Titel")
        milestone.add_argument(
            "--delete",
            action="store_true",
            help="den irrtümlich angelegten Meilenstein TITEL (oder mit dieser Kennung) löschen",
        )
        _events_format(milestone)

    command(
        "milestone",
        "einen Meilenstein anlegen, als erreicht markieren, ändern oder löschen",
        milestone_arguments,
    )

    def delay_arguments(delay: argparse.ArgumentParser) -> None:
        delay.add_argument("number", metavar="NR")
        delay.add_argument("--cause", help="Ursache (Standard: corona)")
        delay.add_argument("--since", help="seit (Datum; Standard: heute)")
        delay.add_argument(
            "--until", help='voraussichtlich bis / neues Ziel (Datum; mit --edit "": offen)'
        )
        delay.add_argument("--note")
        delay.add_argument("--resolve", action="store_true", help="offene Verzögerungen beheben")
        delay.add_argument("--on", help="mit --resolve: behoben am (Standard: heute)")
        delay.add_argument(
            "--to",
            default="on_schedule",
            help="mit --resolve: neuer Status einer verzögerten Maßnahme (on_schedule, established)",
        )
        delay.add_argument(
            "--edit",
            nargs="?",
            const="",
            metavar="KENNUNG",
            help=(
                "die offene Verzögerung ändern: --cause, --since, --until, --note"
                " (bei mehreren offenen ihre KENNUNG, siehe show --format json)"
            ),
        )
        _events_format(delay)

    command("delay", "eine Verzögerung erfassen, ändern oder beheben", delay_arguments)

    def new_arguments(new: argparse.ArgumentParser) -> None:
        new.add_argument(
            "field", metavar="FELD", type=_whole_number(1, 99), help="Handlungsfeld, z. B. 1"
        )
        new.add_argument("title", metavar="TITEL", help="Titel der Maßnahme")
        new.add_argument("--unit", default="", help="verantwortliche Dienststelle")
        new.add_argument("--note", default="", help="Anmerkung")
        new.add_argument(
            "--on", metavar="DATUM", help="neu aufgenommen am (Datum; Standard: heute)"
        )
        _events_format(new)

    command(
        "new",
        "eine Maßnahme neu aufnehmen (sie erhält die nächste Nummer ihres Handlungsfelds)",
        new_arguments,
    )

    def edit_arguments(edit: argparse.ArgumentParser) -> None:
        edit.add_argument("number", metavar="NR", help="Maßnahmennummer, z. B. 1.17")
        edit.add_argument("--title", help="neuer Titel")
        edit.add_argument("--unit", help='verantwortliche Dienststelle ("": keine)')
        edit.add_argument("--note", help='Anmerkung ("": keine)')
        _events_format(edit)

    command("edit", "Titel, Verantwortlich oder Notiz einer Maßnahme ändern", edit_arguments)

    def renumber_arguments(renumber: argparse.ArgumentParser) -> None:
        renumber.add_argument("number", metavar="NR", help="Maßnahmennummer, z. B. 1.17")
        renumber.add_argument("new_number", metavar="NEU", help="die neue Nummer, z. B. 1.18")
        _events_format(renumber)

    command("renumber", "einer Maßnahme eine andere (freie) Nummer geben", renumber_arguments)

    def undo_arguments(undo: argparse.ArgumentParser) -> None:
        undo.add_argument(
            "--yes",
            action="store_true",
            help="ohne Rückfrage (ohne Terminal, z. B. in Skripten, nötig)",
        )
        _events_format(undo)

    command("undo", "die letzte eigene Änderung rückgängig machen", undo_arguments)

    def history_arguments(history: argparse.ArgumentParser) -> None:
        history.add_argument("number", metavar="NR", nargs="?", help="nur diese Maßnahme")
        history.add_argument(
            "--limit", type=_whole_number(1), metavar="N", help="höchstens N Einträge"
        )
        history.add_argument("--format", choices=("text", "json"), default="text")

    command("history", "Verlauf der Änderungen (neueste zuerst)", history_arguments)

    def report_arguments(report: argparse.ArgumentParser) -> None:
        report.add_argument(
            "--format",
            choices=("markdown", "text"),
            help="Standard: text auf dem Terminal; mit -o nach Dateiendung (.txt text, sonst markdown)",
        )
        report.add_argument(
            "--since", metavar="SNAPSHOT.toml", help="mit den Änderungen seit diesem Snapshot"
        )
        report.add_argument(
            "--from",
            dest="period_from",
            metavar="DATUM",
            help="Berichtszeitraum ab (Standard: Stand des Snapshots, sonst 12 Monate zurück)",
        )
        report.add_argument(
            "--stand",
            metavar="DATUM",
            help="der Bericht, wie er an diesem Tag stand (Standard: heute)",
        )
        report.add_argument("-o", "--output", metavar="DATEI", help="in diese Datei schreiben")

    command(
        "report", "den Bericht zum Umsetzungsstand für den Gemeinderat schreiben", report_arguments
    )

    def export_arguments(export: argparse.ArgumentParser) -> None:
        export.add_argument("-o", "--output", metavar="DATEI", help="in diese Datei schreiben")
        export.add_argument(
            "--strict",
            action="store_true",
            help="nicht exportieren, wenn die Prüfung Hinweise findet",
        )
        export.add_argument(
            "--stale-months",
            type=_whole_number(0, MAX_STALE_MONTHS),
            metavar="N",
            help="Hinweis auf Maßnahmen, die seit mehr als N Monaten unverändert sind (Standard: 6; 0: aus)",
        )

    command(
        "export",
        "einen TOML-Snapshot schreiben (ohne -o auf die Standardausgabe)",
        export_arguments,
    )

    def import_arguments(import_cmd: argparse.ArgumentParser) -> None:
        import_cmd.add_argument(
            "files", metavar="DATEI", nargs="+", help="Snapshot-Dateien (.toml)"
        )
        import_cmd.add_argument(
            "--dry-run", action="store_true", help="nur zeigen, was sich ändern würde"
        )

    command("import", "Snapshots zusammenführen: neue Einträge übernehmen", import_arguments)

    def diff_arguments(diff: argparse.ArgumentParser) -> None:
        diff.add_argument("old", metavar="ALT.toml", help="der ältere Snapshot")
        diff.add_argument(
            "new", metavar="NEU.toml", nargs="?", help="der neuere Snapshot (ohne: die Datenbank)"
        )
        diff.add_argument("--format", choices=("text", "json"), default="text")

    command("diff", "was sich seit einem Snapshot geändert hat", diff_arguments)

    def init_arguments(init: argparse.ArgumentParser) -> None:
        content = init.add_mutually_exclusive_group()
        content.add_argument(
            "--sample", action="store_true", help="mit dem Beispielkatalog (Standard)"
        )
        content.add_argument(
            "--empty", action="store_true", help="nur die vier Handlungsfelder, keine Maßnahmen"
        )
        init.add_argument(
            "--overwrite", action="store_true", help="eine vorhandene Datei ausdrücklich ersetzen"
        )

    command(
        "init", "eine neue Datenbank anlegen (nie stillschweigend überschreibend)", init_arguments
    )

    return parser


# --- entry point ---------------------------------------------------------------------------


def run() -> int:
    """The `koordinator` program (console script and `python -m koordinator`): `main`, and
    then an exit that does not walk every object left for Python's last cycle collection
    (they are freed when the process ends anyway).

    The cycle collector is off from the start: importing Textual and SQLAlchemy builds
    some 200,000 long-lived objects, and each full collection walked them again (two of
    50-110 ms before the UI's first paint).  A command keeps it off (see `main`); the UI
    turns it on once its first screen is painted, after moving what start-up built out of
    its way (`MainScreen._after_first_paint`).
    """
    gc.disable()
    try:
        code = main(own_signals=True)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of the output has gone (`koordinator list | head`): stop quietly, as
        # a command killed by SIGPIPE would (and keep Python from complaining at exit).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE: what a shell reports for a command ended by it
    except Exception:
        # A bug, not the input (that is a KoordinatorError, one line and exit 2): the
        # details to a log file, one line, and never the exit code of a success.
        import traceback

        from koordinator.crash import report_crash

        return report_crash(traceback.format_exc(), what="der Befehl wurde")
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None, *, own_signals: bool = False) -> int:
    """Run koordinator with `argv`; `own_signals`: the process is koordinator's (`run`), so
    a command may take SIGTERM and SIGHUP (tests call `main` inside pytest's process)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _run_command(args)  # the terminal UI: long-lived, keeps the cycle collector
    # A command runs once and ends.  Python's cycle collector would only walk its objects
    # again and again (while SQLAlchemy and the models are imported; over the 100,000
    # events of a large snapshot): reference counting frees them as usual.
    from koordinator.core.cycles import no_cycle_collection

    if own_signals:
        _end_cleanly_on_termination()
    with no_cycle_collection():
        return _run_command(args)


def _end_cleanly_on_termination() -> None:
    """SIGTERM and SIGHUP (a closed terminal) end a command as Ctrl+C does: through its
    `finally` blocks, so that an open transaction is rolled back and a half-built file
    (`init`, `export -o`) is removed, instead of Python stopping where it stands."""
    import signal

    def interrupt(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, interrupt)


def _run_command(args: argparse.Namespace) -> int:
    from koordinator.core.errors import KoordinatorError

    try:
        if args.command is None:
            return _run_ui(args)
        if args.command == "init":
            return _init(args)
        if args.command == "diff" and args.new:
            return _diff(None, args)  # two files: no database needed (none is created)
        # The report without --since is plain SQL on sqlite3 (see koordinator.core.report):
        # without SQLAlchemy, as the UI's first screen; anything unusual goes the usual way.
        catalogue = _open_catalogue(
            args, lazy=args.command == "report" and not args.since and args.stand is None
        )
        try:
            _tell(catalogue.notice)
            return HANDLERS[args.command](catalogue, args)
        finally:
            catalogue.close()
    except KoordinatorError as error:
        print(f"koordinator: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


def _one_line(message: str, limit: int = 1000) -> str:
    """A message as one printable line: what the user typed may hold line breaks, terminal
    control characters or bidirectional controls (shown escaped, as \\n, \\x1b or
    \\u202e), or be huge (clipped)."""
    from koordinator.core.text import printable

    line = printable(message)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _print(line: str = "", *, file: Any = None) -> None:
    """Print one line that holds text from the database or a snapshot: nothing in it can
    move the cursor, overwrite or forge a line, or reorder what the terminal shows."""
    from koordinator.core.text import printable

    print(printable(line), file=file)


def _tell(notice: str) -> None:
    """What opening the database did that the user must know (an older database migrated,
    and where its backup is): one line on stderr, so that stdout stays the command's."""
    if notice:
        print(f"koordinator: {_one_line(notice)}", file=sys.stderr)


def _named_author(args: argparse.Namespace) -> str | None:
    """The name changes are signed with, if one was chosen: --as, else KOORDINATOR_USER,
    else the name kept in the settings (asked for at the UI's first start)."""
    from koordinator.core.history import named_author
    from koordinator.core.settings import load_settings

    given: str | None = getattr(args, "author", None)
    return given or named_author(configured=load_settings()[0].author)


def _open_catalogue(
    args: argparse.Namespace, *, lazy: bool, author: str | None = None
) -> CatalogueApi:
    """The catalogue of --db (`koordinator.core.catalogue.open_catalogue`), as --read-only
    and the author (`_named_author`, else the login) say; `lazy`: the UI's form, whose
    first reads import no SQLAlchemy."""
    from koordinator.core.catalogue import open_catalogue
    from koordinator.core.history import default_author

    return open_catalogue(
        getattr(args, "db", None),
        read_only=getattr(args, "read_only", False),
        author=author or _named_author(args) or default_author(),
        lazy=lazy,
    )


def _run_ui(args: argparse.Namespace) -> int:
    from koordinator.core.history import default_author

    named = _named_author(args)
    catalogue = _open_catalogue(args, lazy=True, author=named or default_author())
    try:
        from koordinator.tui import run_app

        return run_app(
            catalogue,
            read_only=catalogue.read_only,
            notice=catalogue.notice,
            # Nobody said who is writing: the UI asks (a reader writes nothing to sign).
            ask_name=named is None and not catalogue.read_only,
        )
    finally:
        catalogue.close()


def _init(args: argparse.Namespace) -> int:
    from koordinator.core.errors import DatabaseError
    from koordinator.core.store.sample import fill_fields_only, fill_sample
    from koordinator.core.store.sqlite_store import create_database, resolve_target

    target = resolve_target(getattr(args, "db", None))
    if target.is_default:
        target.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        create_database(
            target.path,
            fill=fill_fields_only if args.empty else fill_sample,
            overwrite=args.overwrite,
        )
    except FileExistsError:
        raise DatabaseError(
            f"{target.display}: existiert bereits – nichts geändert "
            "(mit --overwrite ausdrücklich ersetzen)"
        ) from None
    what = (
        "leere Datenbank (vier Handlungsfelder)" if args.empty else "Beispielkatalog (49 Maßnahmen)"
    )
    _print(f"{target.display}: {what} angelegt")
    return EXIT_OK


# --- reading commands ----------------------------------------------------------------------


def _list(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.workflow import Status, parse_status

    status = parse_status(args.status) if args.status else None
    measures = catalogue.list_measures(field_code=args.field, status=status)
    if args.format == "json":
        by_status = {s.value: 0 for s in Status}
        by_field: dict[str, int] = {}
        for measure in measures:
            by_status[measure.status.value] += 1
            by_field[str(measure.field_code)] = by_field.get(str(measure.field_code), 0) + 1
        _print_json(
            {
                "total": len(measures),
                "by_status": by_status,
                "by_field": by_field,
                "measures": [measure.to_json() for measure in measures],
            }
        )
        return EXIT_OK
    _print_table(measures)
    return EXIT_OK


def _print_table(measures: list[MeasureView]) -> None:
    from koordinator.core.text import clip, printable

    width = shutil.get_terminal_size((100, 24)).columns
    units = [printable(m.unit) for m in measures]
    status_width = max((len(m.status.label) for m in measures), default=6)
    unit_width = min(max(map(len, units), default=4), 18)
    title_width = max(width - 6 - status_width - unit_width - 8, 20)
    print(f"{'Nr':<5}  {'Status':<{status_width}}  {'Verantwortlich':<{unit_width}}  Titel")
    for m, unit in zip(measures, units, strict=True):
        marker = " [Verzögerung offen]" if m.open_delays and m.status.value != "delayed" else ""
        title = clip(printable(m.title) + marker, title_width)
        print(
            f"{m.number:<5}  {m.status.label:<{status_width}}  {clip(unit, unit_width):<{unit_width}}  {title}"
        )
    print(f"{len(measures)} Maßnahmen")


def _show(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    detail = catalogue.measure(args.number)
    if args.format == "json":
        _print_json(detail.to_json())
    else:
        for line in _detail_lines(catalogue, detail):
            _print(line)
    return EXIT_OK


def _detail_lines(catalogue: CatalogueApi, detail: MeasureDetail) -> list[str]:
    """The lines of `show`, each to be printed with `_print` (a note's lines are lines of
    their own, under the first)."""
    from koordinator.core.dates import german
    from koordinator.core.text import printable_lines

    m = detail.measure
    fields = {field.code: field.name for field in catalogue.fields()}
    origin = (
        f"Katalog 2019 (beschlossen {german(m.origin_date)})"
        if m.origin == "catalog"
        else f"neu aufgenommen ({german(m.origin_date)})"
    )
    lines = [
        f"{m.number}  {m.title}",
        f"  Handlungsfeld:  {m.field_code} – {fields.get(m.field_code, '')}",
        f"  Status:         {m.status.label}",
        f"  Verantwortlich: {m.unit or '(nicht angegeben)'}",
        f"  Herkunft:       {origin}",
        *(
            f"  {'Notiz:' if index == 0 else '':<16}{line}"
            for index, line in enumerate(printable_lines(m.note or "–"))
        ),
        f"  Geändert:       {_local_time(m.updated_at)} (Revision {m.revision})",
        "",
        "Meilensteine:",
    ]
    lines += [
        f"  [{'x' if ms.done else ' '}] {ms.describe()}" + (f" – {ms.note}" if ms.note else "")
        for ms in detail.milestones
    ] or ["  keine"]
    lines += ["", "Verzögerungen:"]
    lines += [
        f"  {delay.describe()}" + (f" – {delay.note}" if delay.note else "")
        for delay in detail.delays
    ] or ["  keine"]
    lines += ["", "Verlauf (neueste zuerst):"]
    lines += [_event_line(event, with_number=False) for event in detail.history] or ["  keiner"]
    return lines


def _history(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    events = catalogue.history(args.number, limit=args.limit)
    if args.format == "json":
        _print_json({"events": [event.to_json() for event in events]})
        return EXIT_OK
    for event in events:
        _print(_event_line(event, with_number=args.number is None))
    if not events:
        print("Noch keine Einträge.")
    return EXIT_OK


def _event_line(event: EventView, *, with_number: bool) -> str:
    number = f"{event.number:<5} " if with_number else ""
    note = f" – {event.note}" if event.note else ""
    return f"  {_local_time(event.occurred_at)}  {number}{event.author}: {event.shown}{note}"


def _local_time(stamp: str) -> str:
    from koordinator.core.dates import local_time

    return local_time(stamp)


def _print_json(data: Any) -> None:
    from koordinator.core.text import printable_json

    sys.stdout.write(printable_json(json.dumps(data, ensure_ascii=False, indent=2)))
    sys.stdout.write("\n")


# --- changing commands ---------------------------------------------------------------------


def _status(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.dates import LooseDate
    from koordinator.core.workflow import Status, parse_status

    target = parse_status(args.status)
    delay = _delay_input(args) if target == Status.DELAYED else None
    event = catalogue.change_status(
        args.number,
        target,
        note=args.note,
        receiving_unit=args.unit,
        reason=args.reason,
        delay=delay,
        on=LooseDate.parse_optional(args.on, field="--on"),
    )
    _print_recorded(args, [event])
    return EXIT_OK


def _milestone(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.dates import LooseDate
    from koordinator.core.errors import InputError

    if args.edit or args.delete:
        return _milestone_edit(catalogue, args)
    if args.title is not None:
        raise InputError("--title gehört zu --edit (der neue Titel)")
    if args.complete:
        if args.due or args.done:
            raise InputError("--complete verträgt sich nicht mit --due/--done (--on für das Datum)")
        milestone = catalogue.complete_milestone(
            args.number,
            args.milestone,
            on=LooseDate.parse_optional(args.on, field="--on"),
            note=args.note or "",
        )
        if args.format == "json":
            _print_events([_event_of_milestone(catalogue, args.number, milestone, completed=True)])
        else:
            _print(f"{args.number}: Meilenstein {milestone.describe()}")
        return EXIT_OK
    if args.on:
        raise InputError("--on gehört zu --complete; beim Anlegen: --done DATUM")
    if not args.milestone:
        raise InputError("Titel des Meilensteins fehlt (oder --complete zum Abhaken)")
    milestone = catalogue.add_milestone(
        args.number,
        args.milestone,
        due=LooseDate.parse_optional(args.due, field="--due"),
        done_on=LooseDate.parse_optional(args.done, field="--done"),
        note=args.note or "",
    )
    if args.format == "json":
        _print_events([_event_of_milestone(catalogue, args.number, milestone, completed=False)])
    else:
        _print(f"{args.number}: Meilenstein angelegt: {milestone.describe()}")
    return EXIT_OK


def _milestone_edit(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    """`milestone NR TITEL --edit …` and `--delete`: TITEL (or an id) names the milestone."""
    from koordinator.core.dates import LooseDate
    from koordinator.core.errors import InputError
    from koordinator.core.history import EventKind

    action = "--delete" if args.delete else "--edit"
    if args.edit and args.delete:
        raise InputError("--edit und --delete schließen einander aus")
    if args.complete or args.done or args.on:
        raise InputError(f"{action} verträgt sich nicht mit --complete/--done/--on")
    if not args.milestone or not args.milestone.strip():
        raise InputError(f"{action}: welcher Meilenstein? – seinen TITEL angeben")
    changes = {"title": args.title, "due": args.due, "note": args.note}
    if args.delete:
        if any(value is not None for value in changes.values()):
            raise InputError("--delete verträgt sich nicht mit --title/--due/--note")
        _print_recorded(args, [catalogue.delete_milestone(args.number, args.milestone)])
        return EXIT_OK
    if all(value is None for value in changes.values()):
        raise InputError("--edit: nichts zu ändern – --title, --due oder --note angeben")
    due = LooseDate.parse_optional(args.due, field="--due")
    newest = _newest_event_id(catalogue, args.number)
    milestone = catalogue.edit_milestone(
        args.number,
        args.milestone,
        title=args.title,
        due=due,
        clear_due=args.due is not None and due is None,
        note=args.note,
    )
    edited = [
        event
        for event in _events_after(catalogue, args.number, newest)
        if event.kind == EventKind.MILESTONE_EDITED
        and event.details.get("milestone_id") == milestone.id
        and event.author == catalogue.author
    ]
    if not edited and args.format != "json":
        _print(f"{args.number}: nichts geändert – die Angaben sind schon so")
    _print_recorded(args, edited)
    return EXIT_OK


def _newest_event_id(catalogue: CatalogueApi, number: str) -> str | None:
    newest = catalogue.history(number, limit=1)
    return newest[0].id if newest else None


def _events_after(catalogue: CatalogueApi, number: str, event_id: str | None) -> list[EventView]:
    """The measure's events recorded after the event `event_id`, newest first."""
    events = []
    for event in catalogue.history(number):
        if event.id == event_id:
            break
        events.append(event)
    return events


def _event_of_milestone(
    catalogue: CatalogueApi, number: str, milestone: MilestoneView, *, completed: bool
) -> EventView:
    """The event that recorded adding (or, `completed`, reaching) `milestone`."""
    from koordinator.core.history import EventKind

    def is_it(event: EventView) -> bool:
        if completed:
            return (
                event.kind == EventKind.MILESTONE_COMPLETED
                and event.details.get("milestone_id") == milestone.id
            )
        return (
            event.kind == EventKind.MILESTONE_ADDED
            and event.details.get("milestone", {}).get("id") == milestone.id
        )

    return _recorded_event(catalogue, number, is_it)


def _delay_input(args: argparse.Namespace, *, note: str = "") -> DelayInput:
    """The delay given by --cause, --since and --until (of `status … delayed` or `delay`)."""
    from koordinator.core.dates import LooseDate
    from koordinator.core.workflow import DelayInput

    return DelayInput(
        cause=args.cause if args.cause is not None else DelayInput.cause,
        since=LooseDate.parse_optional(args.since, field="--since"),
        until=LooseDate.parse_optional(args.until, field="--until"),
        note=note,
    )


def _delay(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.dates import LooseDate
    from koordinator.core.errors import InputError
    from koordinator.core.workflow import parse_status

    if args.edit is not None:
        return _delay_edit(catalogue, args)
    if args.resolve:
        if args.since or args.until:
            raise InputError(
                "--resolve verträgt sich nicht mit --since/--until (--on für das Datum)"
            )
        event = catalogue.resolve_delays(
            args.number,
            on=LooseDate.parse_optional(args.on, field="--on"),
            return_to=parse_status(args.to),
            note=args.note or "",
        )
    else:
        if args.on:
            raise InputError("--on gehört zu --resolve; beim Erfassen: --since DATUM")
        event = catalogue.log_delay(args.number, _delay_input(args, note=args.note or ""))
    _print_recorded(args, [event])
    return EXIT_OK


def _delay_edit(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    """`delay NR --edit [KENNUNG] …`: the open delay (the only one, or the one named)."""
    from koordinator.core.dates import LooseDate
    from koordinator.core.errors import InputError

    if args.resolve or args.on:
        raise InputError("--edit verträgt sich nicht mit --resolve/--on")
    if all(getattr(args, name) is None for name in ("cause", "since", "until", "note")):
        raise InputError("--edit: nichts zu ändern – --cause, --since, --until oder --note angeben")
    until = LooseDate.parse_optional(args.until, field="--until")
    event = catalogue.edit_delay(
        args.number,
        args.edit.strip() or None,
        cause=args.cause,
        since=LooseDate.parse_optional(args.since, field="--since"),
        until=until,
        clear_until=args.until is not None and until is None,
        note=args.note,
    )
    if event is None and args.format != "json":
        _print(f"{args.number}: nichts geändert – die Angaben sind schon so")
    _print_recorded(args, [event] if event else [])
    return EXIT_OK


# --- new, edit, undo -----------------------------------------------------------------------


def _new(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.dates import LooseDate
    from koordinator.core.history import EventKind

    measure = catalogue.create_measure(
        args.field,
        args.title,
        unit=args.unit,
        note=args.note,
        on=LooseDate.parse_optional(args.on, field="--on"),
    )
    if args.format == "json":
        # A measure has one creation event: the newest measure_created of its number.
        created = _recorded_event(
            catalogue, measure.number, lambda event: event.kind == EventKind.MEASURE_CREATED
        )
        _print_events([created])
    else:
        # The number first and alone: `koordinator new … | cut -d' ' -f1` picks it up.
        _print(f"{measure.number} angelegt: {measure.title}")
    return EXIT_OK


def _edit(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.errors import InputError
    from koordinator.core.history import EventKind

    if args.title is None and args.unit is None and args.note is None:
        raise InputError("edit: nichts zu ändern – --title, --unit oder --note angeben")
    before = catalogue.measure(args.number).measure
    # On the revision just read: a change by someone else in between is refused, not mixed
    # up with this one (the unchanged revision below then means "nothing to record").
    after = catalogue.edit_measure(
        before.number,
        title=args.title,
        unit=args.unit,
        note=args.note,
        expected_revision=before.revision,
    )
    if after.revision == before.revision:
        if args.format == "json":
            _print_events([])
        else:
            _print(f"{after.number}: nichts geändert – die Angaben sind schon so")
        return EXIT_OK
    edited = _recorded_event(
        catalogue,
        after.number,
        lambda event: (
            event.kind == EventKind.MEASURE_EDITED
            and event.author == catalogue.author
            and event.occurred_at == after.updated_at
        ),
    )
    _print_recorded(args, [edited])
    return EXIT_OK


def _renumber(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    _print_recorded(args, [catalogue.renumber(args.number, args.new_number)])
    return EXIT_OK


def _undo(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from koordinator.core.errors import NOTHING_TO_UNDO, InputError, WorkflowError

    event = catalogue.last_undoable()
    if event is None:
        raise WorkflowError(NOTHING_TO_UNDO)
    if catalogue.read_only:
        # The store's refusal, with its reason (--read-only, the file's permissions), before
        # any question is asked; nothing can be written, and only this change is named.
        catalogue.undo_last(expected_event_id=event.id)
    if not args.yes:
        # No stdin at all (closed, `<&-`) is no terminal either.
        if sys.stdin is None or not sys.stdin.isatty():
            raise InputError(
                f"Maßnahme {event.number}: „{event.summary}“ nicht rückgängig gemacht – "
                "ohne Terminal keine Rückfrage: mit --yes bestätigen"
            )
        if not _confirmed(event):
            if args.format == "json":
                _print_events([])
            else:
                print("Nichts rückgängig gemacht.")
            return EXIT_OK
    # Only the change shown: one that became the newest meanwhile is refused, not undone.
    undone = catalogue.undo_last(expected_event_id=event.id)
    _print_recorded(args, [undone])
    return EXIT_OK


def _confirmed(event: EventView) -> bool:
    """Ask on the terminal whether to undo `event`.  The question goes to stderr, so that
    stdout stays the command's output (`--format json`)."""
    _print(
        f"Maßnahme {event.number}: {event.summary} "
        f"({_local_time(event.occurred_at)}, {event.author})",
        file=sys.stderr,
    )
    sys.stderr.write("Rückgängig machen? [j/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()  # "" at the end of input (Ctrl+D): no
    if not answer.endswith("\n"):
        sys.stderr.write("\n")  # the next line starts on a line of its own
    return answer.strip().casefold() in ("j", "ja", "y", "yes")


def _recorded_event(
    catalogue: CatalogueApi, number: str, is_it: Callable[[EventView], bool]
) -> EventView:
    """The event a change just recorded on measure `number`, for the changes whose service
    method returns a view, not the event: the measure's newest, or (when another one was
    recorded in between) the newest that `is_it`."""
    for limit in (1, None):
        for event in catalogue.history(number, limit=limit):
            if is_it(event):
                return event
    raise LookupError(f"Maßnahme {number}: das eben erfasste Ereignis fehlt im Verlauf")


def _print_recorded(args: argparse.Namespace, events: list[EventView]) -> None:
    """What a change recorded: as JSON (`--format json`), else each as "NR: summary"."""
    if args.format == "json":
        _print_events(events)
    else:
        for event in events:
            _print(f"{event.number}: {event.summary}")


def _print_events(events: list[EventView]) -> None:
    """The JSON list of recorded events (docs/cli-json.md)."""
    _print_json([event.to_json() for event in events])


# --- the report ----------------------------------------------------------------------------


def _report(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from pathlib import Path

    from koordinator.core.errors import InputError
    from koordinator.core.files import write_text
    from koordinator.core.report import (
        compute_figures_as_of,
        format_for,
        parse_period_start,
        parse_stand,
        render,
        report_figures,
    )

    period_start = parse_period_start(args.period_from)
    if args.stand is not None:
        stand = parse_stand(args.stand)
        if stand is None:
            raise InputError("--stand: bitte ein Datum angeben, z. B. 31.12.2020")
        if args.since:
            # The changes since a snapshot are measured against the catalogue as it is now.
            raise InputError("--stand verträgt sich nicht mit --since")
        figures = compute_figures_as_of(catalogue, stand, period_start=period_start)
    else:
        figures = report_figures(
            catalogue,
            period_start=period_start,
            since=Path(args.since) if args.since else None,
        )
    output = Path(args.output) if args.output else None
    fmt = args.format or (format_for(output) if output else "text")
    text = render(figures, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        written = write_text(output, text)
        _print(f"{written}: Bericht geschrieben ({figures.total} Maßnahmen, {fmt})")
    return EXIT_OK


# --- snapshots -------------------------------------------------------------------------------


def _export(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from pathlib import Path

    from koordinator.core.errors import SnapshotError
    from koordinator.core.files import write_text
    from koordinator.core.snapshot import DEFAULT_STALE_MONTHS, prepare_export

    stale_months = DEFAULT_STALE_MONTHS if args.stale_months is None else args.stale_months
    export = prepare_export(catalogue.database, author=catalogue.author, stale_months=stale_months)
    written = None
    if args.output is not None and not (args.strict and export.findings):
        # Written before the findings are listed: a file that cannot be written is one line.
        written = write_text(Path(args.output), export.text)
    if export.findings:
        # Findings go to stderr, so that `koordinator export > file.toml` stays a clean file.
        print(f"Hinweise vor dem Export ({len(export.findings)}):", file=sys.stderr)
        for finding in export.findings:
            _print(f"  {finding}", file=sys.stderr)
        if args.strict:
            raise SnapshotError(
                f"Export abgebrochen (--strict): {len(export.findings)} Hinweise – nichts geschrieben"
            )
    if written is None:
        sys.stdout.write(export.text)
        return EXIT_OK
    _print(
        f"{written}: Snapshot geschrieben ({len(export.snapshot.measures)} Maßnahmen, "
        f"{export.snapshot.event_count} Einträge)"
    )
    return EXIT_OK


def _import(catalogue: CatalogueApi, args: argparse.Namespace) -> int:
    from pathlib import Path

    from koordinator.core.snapshot import import_snapshots

    result = import_snapshots(
        catalogue.database,
        [Path(name) for name in args.files],
        dry_run=args.dry_run,
        author=catalogue.author,
    )
    for line in result.lines():
        _print(line)
    return EXIT_OK


def _diff(catalogue: CatalogueApi | None, args: argparse.Namespace) -> int:
    from pathlib import Path

    from koordinator.core.diff import diff
    from koordinator.core.snapshot import load, snapshot_of

    old = load(Path(args.old))
    if args.new or catalogue is None:
        new = load(Path(args.new))
    else:
        database = catalogue.database
        new = snapshot_of(
            database, author=catalogue.author, name=f"Datenbank {database.target.path.name}"
        )
    changes = diff(old, new)
    if args.format == "json":
        _print_json(changes.to_json())
    else:
        sys.stdout.write(changes.text())
    return EXIT_OK


HANDLERS: dict[str, Callable[[CatalogueApi, argparse.Namespace], int]] = {
    "list": _list,
    "show": _show,
    "history": _history,
    "status": _status,
    "milestone": _milestone,
    "delay": _delay,
    "new": _new,
    "edit": _edit,
    "renumber": _renumber,
    "undo": _undo,
    "report": _report,
    "export": _export,
    "import": _import,
    "diff": _diff,
}
