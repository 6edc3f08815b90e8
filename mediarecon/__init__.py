"""mediarecon: reconciliation of the French State's media buying (CLI, settings, home folder)."""

__version__ = "0.1.0"
