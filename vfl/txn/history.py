"""Refusing to start without the history that the parties' versions imply.

A passive party at version 5 has seen five committed requests, each journaled
and signed by the coordinator that owns it. A coordinator that starts with
its state dir gone (or another one) would begin an empty journal and sign
with a new key: the history and every issued receipt's key would be lost
without a word. So it refuses to start instead, naming what is missing;
``--new-history`` says on purpose that a federation moves to a new
coordinator (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path

from vfl.txn.receipts import PRIVATE_KEY_FILE, read_private_key
from vfl.txn.sqlite import JOURNAL_FILE, JournalError, SqliteJournal

__all__ = ["check_history_files", "check_journal_covers"]

_RESTORE = (
    "restore the state dir from a backup, or pass --new-history to start a new journal "
    "and key on purpose (receipts issued so far stay verifiable only with the old key)"
)


def _versions_line(versions: dict[str, int]) -> str:
    return ", ".join(f"{party} at v{version}" for party, version in versions.items() if version)


def check_history_files(state_dir: Path, versions: dict[str, int]) -> None:
    """Before anything is created: parties above v0 need the journal and the signing key."""
    if max(versions.values(), default=0) == 0:
        return
    if (Path(state_dir) / PRIVATE_KEY_FILE).exists():  # a corrupt key says so first
        read_private_key(Path(state_dir) / PRIVATE_KEY_FILE)
    for name, what in ((PRIVATE_KEY_FILE, "signing key"), (JOURNAL_FILE, "request journal")):
        if not (Path(state_dir) / name).exists():
            raise JournalError(
                f"the parties hold committed versions ({_versions_line(versions)}) but the "
                f"{what} {Path(state_dir) / name} is missing: {_RESTORE}"
            )


def check_journal_covers(journal: SqliteJournal, versions: dict[str, int]) -> None:
    """No party may be above the highest version the journal accounts for."""
    covered = journal.highest_version()
    ahead = {party: version for party, version in versions.items() if version > covered}
    if ahead:
        raise JournalError(
            f"the request journal {journal.path} accounts for versions up to v{covered} but "
            f"{_versions_line(ahead)}: its rows were lost (emptied or replaced); {_RESTORE}"
        )
