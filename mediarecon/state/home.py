"""The home folder (MEDIARECON_HOME) and the place of everything in it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

# the file that makes a folder a mediarecon home (written by `mediarecon init` and by the first run)
MARKER = "mediarecon-home.json"


@dataclass(frozen=True)
class Home:
    """The one folder that holds all state."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def manifest(self) -> Path:
        return self.landing / "manifest.sqlite"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def validated(self) -> Path:
        return self.root / "validated"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def published_db(self) -> Path:
        return self.warehouse_dir / "mediarecon.duckdb"

    @property
    def published_inputs(self) -> Path:
        """What the published warehouse was built from (publish.py): a night with nothing new keeps it."""
        return self.warehouse_dir / "mediarecon.inputs.json"

    @property
    def previous_db(self) -> Path:
        return self.warehouse_dir / "mediarecon.prev.duckdb"

    @property
    def build_db(self) -> Path:
        # Same basename as the published file: DuckDB catalogs are named after it (views keep the name).
        return self.warehouse_dir / "build" / "mediarecon.duckdb"

    @property
    def users_db(self) -> Path:
        """The dashboard's users and sessions (web.users)."""
        return self.root / "web" / "users.sqlite"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    def is_home(self) -> bool:
        """A folder made by `init`, `generate` or a run (a home from before the marker has a manifest)."""
        return self.marker.is_file() or self.manifest.is_file()

    def ensure(self, inbox_folders: tuple[str, ...] = ()) -> "Home":
        """Create the home's folders, and `inbox/<name>/` for each given source (ingest.sources.INBOX_FOLDERS),
        and its marker."""
        for d in [self.landing, self.quarantine, self.validated, self.warehouse_dir / "build",
                  self.exports, self.runs] + [self.inbox / name for name in inbox_folders]:
            d.mkdir(parents=True, exist_ok=True)
        if not self.marker.exists():
            created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            self.marker.write_text(json.dumps({"mediarecon_home": 1, "created_at": created}) + "\n", encoding="utf-8")
        return self
