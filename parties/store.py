"""Where a party process keeps its committed model: one checkpoint per party.

The file holds the model's ``state_dict`` and the version it was committed as;
it is written atomically and read with ``weights_only=True`` (see
:mod:`vfl.party.state`). Optimizer state is not kept: every request
configures a fresh optimizer. A durable journal with digests per version can
replace this class without touching the servicers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from vfl.errors import CheckpointError
from vfl.party.state import load_checkpoint, save_checkpoint
from vfl.party.versioned import VersionedModel

__all__ = ["CheckpointStore"]

log = logging.getLogger(__name__)


class CheckpointStore:
    """``state_dir/NAME.pt``; with no ``state_dir`` nothing is persisted."""

    def __init__(self, state_dir: Path | None, name: str) -> None:
        self.path = Path(state_dir) / f"{name}.pt" if state_dir is not None else None

    def load_into(self, party: VersionedModel) -> bool:
        """Load the last committed model if there is one; return whether it was loaded."""
        if self.path is None or not self.path.exists():
            return False
        state = load_checkpoint(self.path)
        try:
            party.model.load_state_dict(state["model"])
            party.version = int(state["version"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint {self.path} does not fit this party's model ({exc}); "
                "move it away to start fresh"
            ) from exc
        log.info("loaded version %d from %s", party.version, self.path)
        return True

    def save_if_settled(self, party: VersionedModel) -> bool:
        """Persist only when no snapshot is still open.

        A request may commit inner steps (e.g. per unlearning epoch) inside its
        own snapshot; writing those would leave a mid-request model on disk if
        the request is later aborted and restored. Only the outermost commit is
        written.
        """
        if party.open_snapshots:
            return False
        self.save(party)
        return True

    def save(self, party: VersionedModel) -> None:
        if self.path is not None:
            save_checkpoint(
                self.path, {"model": party.model.state_dict(), "version": party.version}
            )
