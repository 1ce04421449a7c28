"""The store: every SQL statement of koordinator, behind `store.interface.Store`.

Nothing outside this package talks to a database driver.  The package itself imports
nothing, so that the UI's first paint can use the `sqlite3` reads (`fast_reads`) without
loading SQLAlchemy.
"""
