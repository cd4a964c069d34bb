"""Where a party process keeps its models: one checkpoint file per committed version.

Layout under a party's ``--state-dir``::

    versions/v{N}.pt              committed version N (the newest good one is current)
    versions/prepared-{token}.pt  a request's candidate: durable, but not current yet
    NAME.pt                       a symlink to the current version, for operators
    index.json                    the aligned sample index (train and test IDs), once aligned
    coordinator.fence             the coordinator this party serves (docs/operations.md)

Each file holds ``{"model": state_dict, "version": N, "digest": sha256, "party": name}``
and is written atomically (temp file, fsync, rename, fsync dir). The digest is
the weights' :func:`~vfl.party.state.state_digest`, the same one the party
reports, and it is checked on every load: a corrupt file is never used. The
newest :data:`KEEP` versions are kept so ``vfl repair`` can roll back.
Optimizer state is not kept: every request configures a fresh optimizer.

Two-phase commit: ``prepare`` writes the candidate, ``commit`` renames it to
``v{N}.pt`` (one atomic rename), ``abort`` deletes it. A party that restarts
between prepare and commit starts from its last committed version but still
finds the candidate, so the coordinator can roll the request forward.

It lives with the party (not in :mod:`vfl.txn`) because it is a party's own
durable state: both party processes attach one, and it needs nothing of the
coordinator's journal or runner.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from vfl.atomic import write_atomic
from vfl.data.tables import SampleIndex
from vfl.errors import CheckpointError, DataError, ProtocolError
from vfl.party.state import fsync_dir, load_checkpoint, save_checkpoint, state_digest
from vfl.party.versioned import VersionedModel

__all__ = ["KEEP", "CheckpointStore"]

log = logging.getLogger(__name__)

KEEP = 3
"""Committed versions kept on disk; older ones are deleted after each commit."""

_VERSION = re.compile(r"^v(\d+)\.pt$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class CheckpointStore:
    """``state_dir/versions/``; with no ``state_dir`` nothing is persisted.

    It is the :class:`~vfl.party.versioned.DurableVersions` of one party:
    attach it with :meth:`load_into` and the party's prepare, commit, abort and
    rollback write through it.
    """

    def __init__(self, state_dir: Path | None, name: str, keep: int = KEEP) -> None:
        self.dir = Path(state_dir) / "versions" if state_dir is not None else None
        self.index_path = Path(state_dir) / "index.json" if state_dir is not None else None
        self.fence_path = Path(state_dir) / "coordinator.fence" if state_dir is not None else None
        self.name = name
        self.keep = keep
        self.current: int | None = None

    # -- paths ---------------------------------------------------------------
    def version_path(self, version: int) -> Path:
        assert self.dir is not None
        return self.dir / f"v{version}.pt"

    def candidate_path(self, token: str) -> Path:
        assert self.dir is not None
        if not _TOKEN.match(token):
            raise ProtocolError(f"request token {token!r} is not a valid file name part")
        return self.dir / f"prepared-{token}.pt"

    @property
    def path(self) -> Path | None:
        """The current version's file (it may not exist before the first commit)."""
        return None if self.dir is None else self.version_path(self.current or 0)

    def versions(self) -> list[int]:
        """Committed versions held on disk (good or not), oldest first."""
        if self.dir is None or not self.dir.is_dir():
            return []
        found = (_VERSION.match(p.name) for p in self.dir.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    # -- reading -------------------------------------------------------------
    def read(self, path: Path) -> dict[str, Any]:
        """A checkpoint whose digest matches its weights and whose party is this one."""
        state = load_checkpoint(path)
        model, digest = state.get("model"), state.get("digest")
        if not isinstance(model, dict) or "version" not in state:
            raise CheckpointError(f"checkpoint {path} lacks its model or version")
        if digest is not None and state_digest(model) != digest:
            raise CheckpointError(
                f"checkpoint {path} is corrupt: its weights do not match its digest"
            )
        if state.get("party", self.name) != self.name:
            raise CheckpointError(f"checkpoint {path} belongs to {state['party']}, not {self.name}")
        return state

    def load_into(self, party: VersionedModel) -> bool:
        """Load the aligned index and the newest good version, attach this store; return
        whether a version was loaded.

        A corrupt newest file is logged (naming it) and the previous good version
        is used; if every file is bad, this raises rather than start from fresh
        weights. With no versions at all, the party's fresh weights become v0.
        """
        if self.dir is None:
            return False
        index = self.load_index()
        if index is not None:  # aligned before the restart (the intersection was checked then)
            party.resume_index(index)
        party.durable = self
        held = self.versions()
        if not held:
            self.save(party.version, party.model.state_dict())
            return False
        for version in reversed(held):
            path = self.version_path(version)
            try:
                state = self.read(path)
            except CheckpointError as exc:
                log.error("%s; falling back to the previous version", exc)
                continue
            self._load(party, state)
            log.info("loaded version %d from %s", party.version, path)
            return True
        raise CheckpointError(
            f"no good checkpoint in {self.dir} (tried versions {held}); see the log, "
            "and move the folder away only if you mean to start from fresh weights"
        )

    def _load(self, party: VersionedModel, state: dict[str, Any]) -> None:
        try:
            party.load_model(state["model"], int(state["version"]))
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint of version {state.get('version')} in {self.dir} does not fit "
                f"this party's model ({exc})"
            ) from exc
        self._point_at(party.version)

    # -- writing (the DurableVersions protocol) ------------------------------
    def _payload(self, version: int, model: dict[str, Any]) -> dict[str, Any]:
        digest = state_digest(model)
        return {"model": model, "version": version, "digest": digest, "party": self.name}

    def save(self, version: int, model: dict[str, Any]) -> None:
        """Write ``version`` as committed and current (a party's first weights, as v0)."""
        if self.dir is None:
            return
        save_checkpoint(self.version_path(version), self._payload(version, model))
        self._became_current(version)

    def write_candidate(self, token: str, version: int, model: dict[str, Any]) -> str:
        """Phase one: the candidate is on disk when this returns, not current; its digest."""
        payload = self._payload(version, model)
        if self.dir is not None:
            save_checkpoint(self.candidate_path(token), payload)
        return payload["digest"]

    def has_candidate(self, token: str) -> bool:
        return self.dir is not None and self.candidate_path(token).exists()

    def promote(self, token: str) -> dict[str, Any]:
        """Phase two: the candidate becomes the current version; return its checkpoint."""
        candidate = self.candidate_path(token)
        state = self.read(candidate)
        target = self.version_path(int(state["version"]))
        try:
            os.replace(candidate, target)
            fsync_dir(target.parent)
        except OSError as exc:
            raise CheckpointError(f"cannot commit {candidate} as {target}: {exc}") from exc
        self._became_current(int(state["version"]))
        return state

    def discard(self, token: str) -> bool:
        """Drop the candidate of an aborted request; return whether there was one."""
        if self.dir is None:
            return False
        path = self.candidate_path(token)
        if not path.exists():
            return False
        path.unlink()
        return True

    def rollback(self, party: VersionedModel, version: int) -> None:
        """Make ``version`` current again; newer versions are set aside as ``*.rolled-back``."""
        if self.dir is None or version not in self.versions():
            raise CheckpointError(
                f"{self.name} does not hold version {version} (it holds {self.versions()})"
            )
        state = self.read(self.version_path(version))
        for newer in (v for v in self.versions() if v > version):
            path = self.version_path(newer)
            os.replace(path, path.with_name(path.name + ".rolled-back"))
        fsync_dir(self.dir)
        self._load(party, state)

    def _point_at(self, version: int) -> None:
        """``version`` is current; ``NAME.pt`` (a convenience symlink) points at it."""
        assert self.dir is not None
        self.current = version
        link = self.dir.parent / f"{self.name}.pt"
        tmp = link.with_name(link.name + ".tmp")
        try:
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(Path("versions") / self.version_path(version).name)
            os.replace(tmp, link)
        except OSError as exc:  # only the convenience link is stale; versions/ is the truth
            log.warning("cannot point %s at version %d: %s", link, version, exc)

    def _became_current(self, version: int) -> None:
        """Point at it; keep the newest :attr:`keep` versions and no stale candidates."""
        assert self.dir is not None
        self._point_at(version)
        for old in self.versions()[: -self.keep]:
            self.version_path(old).unlink(missing_ok=True)
        for stale in self.dir.glob("prepared-*.pt"):  # one request at a time: none is live now
            with contextlib.suppress(OSError):
                stale.unlink()

    # -- the coordinator fence -------------------------------------------------
    def load_fence(self) -> str | None:
        if self.fence_path is None or not self.fence_path.exists():
            return None
        return self.fence_path.read_text().strip() or None

    def save_fence(self, fence: str) -> None:
        """Bind this party to the coordinator ``fence`` names (written once, atomically)."""
        if self.fence_path is None:
            return
        self.fence_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.fence_path, lambda fh: fh.write(fence.encode() + b"\n"), durable=True)

    # -- the aligned sample index ----------------------------------------------
    def save_index(self, index: SampleIndex) -> None:
        """Keep the index a party was aligned on, so a restart needs no new ``vfl align``."""
        if self.index_path is None:
            return
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            {"train": list(index.train), "test": list(index.test), "score": list(index.score)}
        )
        write_atomic(self.index_path, lambda fh: fh.write(text.encode()), durable=True)

    def load_index(self) -> SampleIndex | None:
        """The saved index, or ``None`` before the first alignment; a bad file raises."""
        if self.index_path is None or not self.index_path.exists():
            return None
        try:
            data = json.loads(self.index_path.read_text())
            score = tuple(data.get("score", ()))  # absent in an index saved before scoring
            return SampleIndex(tuple(data["train"]), tuple(data["test"]), score)
        except (OSError, ValueError, KeyError, TypeError, DataError) as exc:
            raise CheckpointError(
                f"{self.index_path} is not a sample index ({exc}); run `vfl align` again "
                "after moving it away"
            ) from exc
