"""A party's two kinds of state change: scratch trials, and versioned requests.

Each verb means one thing, whatever else is open:

* **Trials** are scratch copies: :meth:`~VersionedModel.open_trial` keeps a
  copy of the state, :meth:`~VersionedModel.undo_trial` goes back to it,
  :meth:`~VersionedModel.keep_trial` drops it and keeps what changed. They
  never touch versions or disk. LUV's per-epoch guard, the simulations'
  "unlearn, then go back and retrain" and the benchmarks use them.
* **Requests** make versions, by two-phase commit:
  :meth:`~VersionedModel.begin` remembers the state to abort to,
  :meth:`~VersionedModel.prepare` writes the candidate next version (durably,
  with :class:`DurableVersions` attached), :meth:`~VersionedModel.commit` makes
  the prepared candidate the new version (also after a restart in between),
  :meth:`~VersionedModel.abort` drops the candidate and goes back to where
  ``begin`` was, and :meth:`~VersionedModel.rollback` makes an older committed
  version current again (``vfl repair``).

Trials nest inside a request (a method's guard runs inside the request that
owns it), never the other way round: a request cannot begin while a trial is
open, and it cannot be prepared until its trials have ended.
"""

from __future__ import annotations

import threading
from abc import ABC
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn

from vfl.errors import FencedError, ProtocolError
from vfl.party.state import clone_state, state_digest

if TYPE_CHECKING:
    from vfl.data.tables import SampleIndex
    from vfl.party.optim import UpdateConfig

__all__ = ["DurableVersions", "VersionedModel"]


class DurableVersions(Protocol):
    """Where committed versions and prepared candidates live: a party's
    :class:`~vfl.party.store.CheckpointStore`."""

    def write_candidate(self, token: str, version: int, model: dict[str, Any]) -> str:
        """Durably write the candidate; return the digest of its weights."""
        ...

    def has_candidate(self, token: str) -> bool: ...
    def promote(self, token: str) -> dict[str, Any]:
        """Make the candidate current; return its checkpoint (``model``, ``version``)."""
        ...

    def discard(self, token: str) -> bool: ...
    def rollback(self, party: VersionedModel, version: int) -> None: ...
    def save_index(self, index: SampleIndex) -> None:
        """Durably keep the aligned sample index (a restart resumes aligned)."""
        ...

    def load_fence(self) -> str | None:
        """The coordinator this party is bound to, if it is bound yet."""
        ...

    def save_fence(self, fence: str) -> None: ...


class VersionedModel(ABC):
    """Base for parties: subclasses set ``model`` and ``_optimizer``."""

    model: nn.Module
    _optimizer: torch.optim.Optimizer
    _update: UpdateConfig

    def configure(self, update: UpdateConfig) -> None:
        """A fresh optimizer with ``update``'s settings (subclasses build it)."""
        raise NotImplementedError

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._trials: dict[str, dict[str, Any]] = {}  # oldest first
        self._request: str | None = None  # the open request's token
        self._before_request: dict[str, Any] = {}  # the state abort goes back to
        self._prepared = False
        self._committed: dict[str, int] = {}  # token -> version, so a retried commit is a no-op
        self.version = 0
        self.durable: DurableVersions | None = None

    def resume_index(self, index: SampleIndex) -> None:
        """Take back the sample index this party was aligned on before a restart."""
        raise ProtocolError(f"{type(self).__name__} does not align")

    def state_dict(self) -> dict[str, Any]:
        """Weights and optimizer state: everything a checkpoint must hold."""
        with self._lock:
            return {"model": self.model.state_dict(), "optimizer": self._optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.model.load_state_dict(state["model"])
            self._optimizer.load_state_dict(state["optimizer"])
            self._on_state_loaded()

    def load_model(self, model: dict[str, Any], version: int) -> None:
        """Become a stored checkpoint: its weights and its version."""
        with self._lock:
            self.model.load_state_dict(model)
            self.version = version
            self._on_state_loaded()

    def _on_state_loaded(self) -> None:  # noqa: B027  (optional hook)
        """Hook for subclasses that cache anything derived from the weights."""

    def _snapshot(self) -> dict[str, Any]:
        """What a trial or a request goes back to: the state, and the optimizer settings
        it belongs to (a method may switch Adam for SGD inside; Adam's state does not
        load into SGD, nor SGD's into Adam)."""
        return {"state": clone_state(self.state_dict()), "update": self._update}

    def _restore(self, snapshot: dict[str, Any]) -> None:
        if snapshot["update"] != self._update:
            self.configure(snapshot["update"])
        self.load_state_dict(snapshot["state"])

    def digest(self) -> str:
        """Digest of the model weights (optimizer state excluded: it is not the model)."""
        with self._lock:
            return state_digest(self.model.state_dict())

    # -- trials: scratch copies, no versions -------------------------------
    def open_trial(self, token: str) -> None:
        """Keep a copy of the current state under ``token`` until it is kept or undone."""
        with self._lock:
            if token in self._trials:
                raise ProtocolError(f"trial {token!r} is already open")
            self._trials[token] = self._snapshot()

    def keep_trial(self, token: str) -> None:
        """Keep what changed since ``token`` opened; trials opened inside it end with it."""
        with self._lock:
            self._end_trial(token)

    def undo_trial(self, token: str) -> None:
        """Go back to the state ``token`` copied; trials opened inside it end with it."""
        with self._lock:
            self._restore(self._end_trial(token))

    def _end_trial(self, token: str) -> dict[str, Any]:
        if token not in self._trials:
            raise ProtocolError(f"no open trial {token!r}")
        tokens = list(self._trials)
        for inner in tokens[tokens.index(token) + 1 :]:
            del self._trials[inner]
        return self._trials.pop(token)

    @property
    def open_trials(self) -> int:
        """How many trials are open (nested ones count each)."""
        with self._lock:
            return len(self._trials)

    # -- the coordinator fence ---------------------------------------------
    def check_fence(self, fence: str) -> None:
        """Refuse a coordinator other than the one this party is bound to.

        A party with durable versions binds to the first non-empty fence it sees
        (the fingerprint of the coordinator's journal key) and keeps it on disk. A
        second coordinator -- a stray one with an empty state dir, or one keeping
        no journal (empty fence) -- can then neither begin a request, roll the
        party back, nor re-align it. Without durable versions nothing is bound.
        """
        if self.durable is None:
            return
        bound = self.durable.load_fence()
        if bound is None:
            if fence:
                self.durable.save_fence(fence)
            return
        if fence != bound:
            raise FencedError(
                f"this party belongs to coordinator {bound[:12]}, not "
                f"{fence[:12] or 'one without a journal'}: a second coordinator? To move the "
                "party to a new coordinator, stop it and delete coordinator.fence in its state dir"
            )

    # -- requests: versions by two-phase commit ----------------------------
    def begin(self, token: str, fence: str = "") -> None:
        """Start request ``token``: remember the state :meth:`abort` goes back to."""
        self.check_fence(fence)
        with self._lock:
            if self._trials:
                raise ProtocolError(f"cannot begin {token!r}: a trial is open")
            if self._request is not None:
                raise ProtocolError(
                    f"cannot begin {token!r}: request {self._request!r} is still open; abort it"
                )
            self._request, self._prepared = token, False
            self._before_request = self._snapshot()

    def prepare(self, token: str) -> tuple[int, str]:
        """Phase one: durably write the candidate next version; return ``(version, digest)``.

        The candidate is not current until :meth:`commit`; :meth:`abort` drops it.
        """
        with self._lock:
            self._require_request(token, "prepare")
            if self._trials:
                raise ProtocolError(f"cannot prepare {token!r}: a trial is still open")
            version = self.version + 1
            if self.durable is not None:  # the store hashes the weights it writes
                digest = self.durable.write_candidate(token, version, self.model.state_dict())
            else:
                digest = self.digest()
            self._prepared = True
            return version, digest

    def commit(self, token: str) -> int:
        """Phase two: the prepared candidate becomes the new version; return it.

        With durable versions it is on disk (one rename) before this returns. A
        party that restarted after preparing finds the candidate on disk and
        becomes it. Committing a token twice returns the same version.
        """
        with self._lock:
            if token in self._committed:
                return self._committed[token]
            if self._request != token:
                if self.durable is not None and self.durable.has_candidate(token):
                    return self._commit_from_disk(token)
                raise ProtocolError(f"no prepared request {token!r} to commit")
            if not self._prepared:
                raise ProtocolError(f"request {token!r} was not prepared: prepare it first")
            if self.durable is not None:
                self.durable.promote(token)
            self.version += 1
            self._end_request()
            self._committed = {token: self.version}
            return self.version

    def _commit_from_disk(self, token: str) -> int:
        """Roll forward after a restart: the prepared candidate becomes this party's model."""
        assert self.durable is not None
        state = self.durable.promote(token)
        self.load_model(state["model"], int(state["version"]))
        self._committed = {token: self.version}
        return self.version

    def abort(self, token: str) -> None:
        """Drop ``token``'s candidate and go back to where :meth:`begin` was; trials end too.

        A party that restarted after preparing holds no open request but still
        has its candidate on disk: it already runs its last committed version,
        so dropping the candidate is the whole abort.
        """
        with self._lock:
            dropped = self.durable is not None and self.durable.discard(token)
            if self._request != token:
                if dropped:
                    return
                raise ProtocolError(f"no open request {token!r} to abort")
            self._trials.clear()
            self._restore(self._before_request)
            self._end_request()

    def _require_request(self, token: str, verb: str) -> None:
        if self._request != token:
            raise ProtocolError(f"no open request {token!r} to {verb}; begin it first")

    def _end_request(self) -> None:
        self._request, self._before_request, self._prepared = None, {}, False

    def rollback(self, version: int, fence: str = "") -> int:
        """Make a held committed ``version`` current again (``vfl repair``).

        With durable versions the checkpoint is loaded even when ``version`` is
        already current: a repair then also puts back weights that drifted from
        their version's (an abort that never arrived), so the version a party
        reports names its weights again.
        """
        self.check_fence(fence)
        with self._lock:
            if self._request is not None or self._trials:
                raise ProtocolError("cannot roll back while a request or a trial is open")
            if version == self.version and self.durable is None:
                return version
            if self.durable is None:
                raise ProtocolError(
                    f"this party keeps no checkpoints; it cannot go back to version {version}"
                )
            self.durable.rollback(self, version)
            self._committed = {}
            return self.version
