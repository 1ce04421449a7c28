"""The export dialog: proposes a dated file name, Enter confirms, Esc cancels."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.app import App
from textual.widgets import Input, Static

from koordinator.tui.dialogs.export_dialog import ExportDialog

TODAY = date(2021, 2, 23)


async def run_dialog(directory: Path, *keys: str) -> tuple[list[Path | None], str]:
    """Push the dialog on a bare App, press `keys`; the dismissed values and the error line."""
    results: list[Path | None] = []
    app: App[None] = App()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(ExportDialog(directory, today=TODAY), results.append)
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        errors = [str(s.render()) for s in app.screen.query(".field-error").results(Static)]
    return results, " ".join(errors).strip()


async def test_enter_accepts_the_proposed_name_in_the_folder(tmp_path: Path) -> None:
    results, _ = await run_dialog(tmp_path, "enter")
    assert results == [tmp_path.resolve() / "koordinator-2021-02-23.toml"]


async def test_a_typed_name_replaces_the_proposal(tmp_path: Path) -> None:
    results, _ = await run_dialog(tmp_path, "ctrl+u", *"stand.toml", "enter")
    assert results == [tmp_path.resolve() / "stand.toml"]


async def test_an_absolute_path_is_taken_as_it_is(tmp_path: Path) -> None:
    other = tmp_path / "andere"
    other.mkdir()
    target = other / "x.toml"
    results, _ = await run_dialog(tmp_path / "andere", "ctrl+u", *str(target), "enter")
    assert results == [target]


async def test_escape_cancels(tmp_path: Path) -> None:
    results, _ = await run_dialog(tmp_path, *"abc", "escape")
    assert results == [None]


async def test_a_missing_folder_keeps_the_dialog_open_and_says_why(tmp_path: Path) -> None:
    results, error = await run_dialog(tmp_path, "ctrl+u", *"fehlt/x.toml", "enter")
    assert results == []
    assert "existiert nicht" in error


async def test_an_empty_name_is_refused(tmp_path: Path) -> None:
    results, error = await run_dialog(tmp_path, "ctrl+u", "enter")
    assert results == []
    assert "Dateiname fehlt" in error


async def test_the_input_starts_with_the_proposal(tmp_path: Path) -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        app.push_screen(ExportDialog(tmp_path, today=TODAY))
        await pilot.pause()
        assert app.screen.query_one("#filename", Input).value == "koordinator-2021-02-23.toml"


async def test_a_link_into_a_missing_folder_keeps_the_dialog_open_and_says_why(
    tmp_path: Path,
) -> None:
    """The dialog asks the writer's own question (koordinator.core.files.destination)."""
    (tmp_path / "stand.toml").symlink_to("fehlt/stand.toml")
    results, error = await run_dialog(tmp_path, "ctrl+u", *"stand.toml", "enter")
    assert results == []
    assert "Verknüpfung auf" in error and "existiert nicht" in error


async def test_a_link_to_a_file_is_accepted_as_the_name_typed(tmp_path: Path) -> None:
    (tmp_path / "ablage.toml").write_text("# alt\n", encoding="utf-8")
    (tmp_path / "stand.toml").symlink_to("ablage.toml")
    results, _ = await run_dialog(tmp_path, "ctrl+u", *"stand.toml", "enter")
    assert results == [tmp_path.resolve() / "stand.toml"]
