"""koordinator: keep a city's catalogue of digitalisation measures up to date, offline."""

__version__ = "0.1.0"
