"""The headless core: data, rules, snapshot and report.  Never imports Textual.

The CLI (`koordinator.cli`) and the terminal UI (`koordinator.tui`) are two thin doors onto
this package; everything they show or change goes through the service (`koordinator.core.service`).
"""
