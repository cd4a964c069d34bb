"""The coordinator: drives training and unlearning over any transport.

It lives with the active party (it needs the labels to pick forget sets) and
talks to passive parties only through :class:`PassivePartyClient`. Requests to
passive parties go out concurrently, one thread per party, so a round costs
the slowest party, not the sum.

A step's gradients do not go out on their own: they travel with the next
embed request (:meth:`PassivePartyClient.backward_and_embed`), so each
training step costs one round trip per party instead of two. Whoever runs
steps sends the last one's gradients when it is done (:meth:`Coordinator.flush`;
:meth:`Coordinator.train` and :meth:`Coordinator.running` do). Operations that
change state (configure, prepare, keeping a trial, rollback) flush first, so a
party's state is always what sending at once would have made it. Reads never
apply training: :meth:`versions`, :meth:`digests`, :meth:`begin` and opening a
:meth:`trial` refuse while gradients are unsent. :meth:`abort`, undoing a trial
and :meth:`reinitialize` drop them: they replace the weights the gradients
were for. A method whose training forward pass equals an evaluation one may
also skip an embed: :meth:`logits_ahead` measures with a training embed whose
graph the parties keep, and the next :meth:`step` on those IDs reuses it
(:class:`Lookahead`; LUV's loop does, one round trip per epoch fewer).

A party's state changes in two ways (see :mod:`vfl.party.versioned`): scratch
**trials** (:meth:`trial`, for a method's guard, the simulations and the
benchmarks) and versioned **requests** (:meth:`begin`, :meth:`prepare`,
:meth:`commit`, :meth:`abort`, :meth:`rollback`, driven by
:class:`vfl.txn.runner.RequestRunner`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from vfl.data.tables import SampleIndex
from vfl.errors import ConfigError, DataError, ProtocolError, UnknownSampleError
from vfl.party.active import ActiveParty, Objective
from vfl.party.ids import IdIndex
from vfl.party.optim import UpdateConfig
from vfl.progress import ProgressCallback, ProgressEvent, ignore_progress
from vfl.protocol.client import PassivePartyClient
from vfl.psi import PsiClient
from vfl.seeding import party_seed

__all__ = [
    "AlignmentReport",
    "Coordinator",
    "GradientTransform",
    "Lookahead",
    "TrainConfig",
    "Trial",
    "cross_entropy_objective",
]

T = TypeVar("T")
C = TypeVar("C", bound=PassivePartyClient)
R = TypeVar("R")

GradientTransform = Callable[[np.ndarray, list[torch.Tensor]], list[torch.Tensor]]
"""``transform(ids, grads) -> grads``, applied at the active party before gradients leave it
(defenses such as noise or norm equalisation plug in here)."""

FEATURE_LAYERS = ("embeddings", "penultimate")
EVAL_CHUNK = 2048
"""IDs per evaluation request: bounds message size on every transport."""


class TrainConfig(BaseModel):
    """How the federation trains (original model, retraining and fine-tuning)."""

    model_config = ConfigDict(frozen=True)

    epochs: int = Field(20, ge=1, le=10_000)
    batch_size: int = Field(64, ge=1, le=65_536)
    update: UpdateConfig = UpdateConfig()


def cross_entropy_objective(labels: torch.Tensor) -> Objective:
    """Plain supervised loss on the embeddings of one batch."""

    def objective(top: nn.Module, embeddings: list[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(top(embeddings), labels)

    return objective


@dataclass(frozen=True)
class AlignmentReport:
    """What ``vfl align`` prints: every party's set size and what they share."""

    active_size: int
    party_sizes: dict[str, int]
    pairwise: dict[str, int]
    """``|A ∩ Pk|`` per passive party."""
    index: SampleIndex

    @property
    def shared(self) -> int:
        return len(self.index.ids)


def _pairwise_psi(
    client: PassivePartyClient, own: Sequence[str], session: str
) -> tuple[int, list[str]]:
    """One DH-PSI run with ``client``'s party as the server: ``(its set size, shared IDs)``.

    A fresh :class:`PsiClient` per party: reusing one key with two parties would
    let them link what each received (docs/psi.md).
    """
    psi = PsiClient(own, session)
    size, chunks = client.align_begin(session, len(own))
    setup = [client.align_setup_chunk(session, i) for i in range(chunks)]
    response = [client.align_request(session, chunk) for chunk in psi.request()]
    shared = psi.intersection(setup, response)
    reveal = psi.reveal()
    answered = -1
    for i, chunk in enumerate(reveal):
        answered = client.align_reveal(session, chunk, last=i == len(reveal) - 1)
    if answered != len(shared):
        raise ProtocolError(
            f"party {client.party_id} found {answered} shared IDs, the active party {len(shared)}"
        )
    return size, shared


@dataclass(frozen=True)
class Lookahead:
    """Embeddings of a training embed whose graph every party still holds.

    A later :meth:`Coordinator.step` on a subset of ``ids`` may use them instead
    of embedding again: one round trip fewer (on Flower, one message, seconds).
    The rows a step does not use get zero gradients, which change nothing. Valid
    until anything replaces the parties' graphs or weights (another training
    embed, sending gradients, configure, undo, abort, re-initialise); a stale
    one is refused, never silently used. Exact only where a training forward
    pass equals an evaluation one (norm statistics frozen, no dropout): the
    caller that asks for one says it is (LUV's loop does).
    """

    ids: np.ndarray
    embeddings: list[torch.Tensor]
    index: IdIndex
    """Row of each of ``ids``: a step looks its IDs up here."""


class Coordinator:
    """Runs rounds between the active party and every passive party.

    One thread drives a coordinator at a time (the active server's request
    runner holds a lock for that): the unsent gradients of the last step are
    state that a second caller would race for.
    """

    def __init__(
        self,
        active: ActiveParty,
        clients: Sequence[PassivePartyClient],
        gradient_transforms: Sequence[GradientTransform] = (),
        fence: str = "",
    ) -> None:
        """``fence`` names this coordinator to parties that keep durable state (the
        fingerprint of its journal's key): they serve only the first one they see."""
        self.active = active
        self.clients = list(clients)
        self.fence = fence
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.clients)))
        self._transforms: tuple[GradientTransform, ...] = tuple(gradient_transforms)
        self._unsent: tuple[np.ndarray, list[torch.Tensor]] | None = None
        """The last step's IDs and gradients, until the next embed carries them."""
        self._graph: np.ndarray | None = None
        """The IDs of the look-ahead whose graph every party still holds (:class:`Lookahead`)."""

    # -- middleware ------------------------------------------------------------
    @property
    def gradient_transforms(self) -> tuple[GradientTransform, ...]:
        """Applied in order to every step's gradients before they leave the active party."""
        return self._transforms

    @contextmanager
    def transforming(self, *transforms: GradientTransform) -> Iterator[None]:
        """Apply ``transforms`` (after the standing ones) to the steps inside the block."""
        before = self._transforms
        self._transforms = (*before, *transforms)
        try:
            yield
        finally:
            self._transforms = before

    def intercept(self, index: int, wrap: Callable[[PassivePartyClient], C]) -> C:
        """Put ``wrap(client)`` in place of party ``index``'s client (e.g. a recorder)."""
        wrapped = wrap(self.clients[index])
        self.clients[index] = wrapped
        return wrapped

    # -- fan-out -------------------------------------------------------------
    def each(self, fn: Callable[[PassivePartyClient], T]) -> list[T]:
        """Call ``fn`` on every passive party concurrently; results in party order."""
        return _gathered([self._pool.submit(fn, c) for c in self.clients])

    def close(self) -> None:
        """Release threads and connections. Sends nothing: a close after an error
        must not push that run's last gradients (see :meth:`running`)."""
        self._pool.shutdown(wait=True)
        for client in self.clients:
            client.close()

    @contextmanager
    def running(self) -> Iterator[Coordinator]:
        """Yield this coordinator; on a normal exit send unsent gradients; always close."""
        try:
            yield self
            self.flush()
        finally:
            self.close()

    # -- one round -----------------------------------------------------------
    def embed(self, ids: np.ndarray, train: bool) -> list[torch.Tensor]:
        """Every party's embeddings of ``ids``, sent with the last step's gradients if unsent."""
        unsent, self._unsent = self._unsent, None
        if train or unsent is not None:
            self._graph = None  # a new graph, or the last one stepped by the gradients sent
        if unsent is None:
            return self.each(lambda c: c.embed(ids, train))
        grad_ids, grads = unsent
        return self.each_with(grads, lambda c, g: _backward_and_embed(c, grad_ids, g, ids, train))

    def embed_ahead(self, ids: np.ndarray) -> Lookahead:
        """A training embed of ``ids`` that a later :meth:`step` may reuse (:class:`Lookahead`)."""
        embeddings = self.embed(ids, train=True)
        self._graph = np.array(ids, copy=True)  # the caller may reuse its buffer
        return Lookahead(self._graph, embeddings, IdIndex(self._graph))

    def step(self, ids: np.ndarray, objective: Objective, ahead: Lookahead | None = None) -> float:
        """Embed ``ids`` and step the top model; the gradients go out with the next embed.

        With ``ahead`` (which must hold every ID in ``ids``), its embeddings are used
        instead of embedding again.
        """
        if ahead is None:
            embeddings = self.embed(ids, train=True)
        else:
            rows = self._rows_in(ahead, ids)
            embeddings = [e[rows] for e in ahead.embeddings]
        result = self.active.step(embeddings, objective)
        grads = result.grads
        for transform in self._transforms:
            grads = transform(ids, grads)
        if ahead is None:
            self._unsent = (np.array(ids, copy=True), grads)  # the caller may reuse its buffer
        else:
            self._unsent = (ahead.ids, [_scatter(g, rows, len(ahead.ids)) for g in grads])
        return result.loss

    def _rows_in(self, ahead: Lookahead, ids: np.ndarray) -> torch.Tensor:
        """Where ``ids`` sit in ``ahead``; refused unless the parties still hold its graph."""
        if ahead.ids is not self._graph or self._unsent is not None:
            raise ProtocolError("step: the look-ahead embeddings are stale (the graph is gone)")
        return torch.from_numpy(ahead.index.rows(np.asarray(ids, dtype=np.int64)))

    def flush(self) -> None:
        """Send the last step's gradients now, if no embed has carried them yet."""
        unsent, self._unsent = self._unsent, None
        if unsent is not None:
            self._graph = None
            ids, grads = unsent
            self.each_with(grads, lambda c, g: c.backward(ids, g))

    def _drop_unsent(self) -> None:
        """Forget unsent gradients and the parties' graph: their weights are being replaced."""
        self._unsent, self._graph = None, None

    def _refuse_unsent(self, what: str) -> None:
        """A read must not apply training as a side effect, nor describe a stale state."""
        if self._unsent is not None:
            raise ProtocolError(
                f"{what}: the last step's gradients are unsent; call Coordinator.flush() "
                "after the last step (train() and running() do)"
            )

    def each_with(self, values: Sequence[T], fn: Callable[[PassivePartyClient, T], R]) -> list[R]:
        """Like :meth:`each`, pairing party ``k`` with ``values[k]``."""
        return _gathered(
            [self._pool.submit(fn, c, v) for c, v in zip(self.clients, values, strict=True)]
        )

    # -- lifecycle across all parties -------------------------------------
    def configure(self, passive: UpdateConfig, active: UpdateConfig | None = None) -> None:
        self.flush()
        self._graph = None  # a party's new optimizer drops its graph
        self.each(lambda c: c.configure(passive))
        self.active.configure(active or passive)

    def reinitialize(self, seed: int) -> None:
        """Fresh weights everywhere, each party seeded by :func:`party_seed`."""
        self._drop_unsent()  # gradients for weights about to be replaced
        self.each(lambda c: c.reinitialize(party_seed(seed, c.party_id)))
        self.active.reinitialize(party_seed(seed, "active"))

    # -- trials: scratch copies on every party, never a version ------------
    @contextmanager
    def trial(self, name: str = "trial") -> Iterator[Trial]:
        """Every party keeps a copy of its state; decide inside the block with
        :meth:`Trial.keep` or :meth:`Trial.undo`.

        Leaving the block normally without a decision is a bug: the trial is
        undone (scratch work never leaks) and :class:`ProtocolError` is raised.
        Leaving it by an exception sends nothing (a party may be unreachable):
        the trial stays open on the parties until the request that encloses
        it aborts, which ends every trial opened inside it. Refused while
        gradients are unsent: the copy would not say whether they belong to it.
        """
        self._refuse_unsent("trial")
        self.each(lambda c: c.open_trial(name))
        self.active.open_trial(name)
        handle = Trial(self, name)
        yield handle
        if not handle.decided:
            handle.undo()
            raise ProtocolError(f"trial {name!r} ended without keep() or undo(); it was undone")

    def _keep_trial(self, name: str) -> None:
        self.flush()
        self.each(lambda c: c.keep_trial(name))
        self.active.keep_trial(name)

    def _undo_trial(self, name: str) -> None:
        self._drop_unsent()  # gradients from steps the undo takes back
        self._on_every_party(lambda c: c.undo_trial(name), lambda: self.active.undo_trial(name))

    # -- requests: versions by two-phase commit on every party ---------------
    def begin(self, token: str) -> None:
        """Every party remembers the state :meth:`abort` goes back to."""
        self._refuse_unsent("begin")
        self.each(lambda c: c.begin(token, self.fence))
        self.active.begin(token)

    def prepare(self, token: str) -> dict[str, tuple[int, str]]:
        """Phase one on every party: ``{party: (next version, digest)}``."""
        self.flush()
        prepared = self.each(lambda c: c.prepare(token))
        out = dict(zip([c.party_id for c in self.clients], prepared, strict=True))
        out["active"] = self.active.prepare(token)
        return out

    def commit(self, token: str) -> list[int]:
        """Phase two on every party: each prepared candidate becomes the new version."""
        self._refuse_unsent("commit")  # a step after prepare would not be in the candidate
        self._graph = None
        return [*self.each(lambda c: c.commit(token)), self.active.commit(token)]

    def abort(self, token: str) -> None:
        """Every party goes back to where :meth:`begin` was, even when one cannot be
        reached (its error is raised after). Unsent gradients are dropped."""
        self._drop_unsent()
        self._on_every_party(lambda c: c.abort(token), lambda: self.active.abort(token))

    def abort_if_open(self, token: str) -> None:
        """Abort ``token`` again wherever it is still open: the retry after an abort
        that did not reach a party. A party's refusal means nothing of ``token`` is
        open there (the first abort reached it, or it restarted), so it is not an
        error; a party that cannot be reached raises."""
        self._drop_unsent()
        self.each(lambda c: _unless_refused(lambda: c.abort(token)))
        _unless_refused(lambda: self.active.abort(token))

    def _on_every_party(
        self, passive: Callable[[PassivePartyClient], object], active: Callable[[], object]
    ) -> None:
        """``passive`` on every passive party, then ``active``, which runs even if one failed."""
        try:
            self.each(passive)
        finally:
            active()

    def versions(self) -> dict[str, int]:
        self._refuse_unsent("versions")
        out = {info.party_id: info.version for info in self.each(lambda c: c.info())}
        out["active"] = self.active.version
        return out

    def rollback(self, version: int) -> None:
        """Every party back to a committed ``version`` it holds: repairs a version
        split, and a party whose weights are not its version's (each reloads it)."""
        self.flush()
        self._graph = None
        self.each(lambda c: c.rollback(version, self.fence))
        self.active.rollback(version)

    def digests(self) -> dict[str, str]:
        self._refuse_unsent("digests")
        out = {info.party_id: info.digest for info in self.each(lambda c: c.info())}
        out["active"] = self.active.digest()
        return out

    # -- alignment -------------------------------------------------------------
    def align(self, seed: int, session: str | None = None) -> AlignmentReport:
        """Private entity alignment: PSI with every party, then the index and the split.

        The index is ``A ∩ P0 ∩ P1 ∩ …``; the active party splits it (its ``split``
        column, else seeded from ``seed``) and sends each party the two sorted ID
        lists, nothing else. An empty intersection changes nothing anywhere.
        """
        table = self.active.table
        if table is None:
            raise ProtocolError("this federation was built from fixed shards; it does not align")
        self._drop_unsent()  # gradients for a sample order about to be replaced
        session = session or secrets.token_hex(16)
        results = self.each(lambda c: _pairwise_psi(c, table.psi_ids, session))
        shared_by_all = set(table.psi_ids).intersection(*(set(shared) for _, shared in results))
        if shared_by_all.isdisjoint(table.ids):  # nothing labelled to train on
            sizes = [len(shared) for _, shared in results]
            pairs = ", ".join(f"{c.party_id} {n}" for c, n in zip(self.clients, sizes, strict=True))
            raise DataError(
                f"alignment: no ID is held by every party (empty intersection; shared with "
                f"the active party: {pairs})"
            )
        index = table.split(shared_by_all, seed)
        self.each(lambda c: c.set_index(session, index, self.fence))
        self.active.set_index(index)
        ids = [c.party_id for c in self.clients]
        return AlignmentReport(
            active_size=len(table.psi_ids),
            party_sizes=dict(zip(ids, [size for size, _ in results], strict=True)),
            pairwise=dict(zip(ids, [len(shared) for _, shared in results], strict=True)),
            index=index,
        )

    # -- training and inference ------------------------------------------
    def train(
        self,
        ids: np.ndarray,
        cfg: TrainConfig,
        seed: int,
        progress: ProgressCallback = ignore_progress,
        phase: str = "train",
    ) -> None:
        """Mini-batch training on ``ids`` (shuffled per epoch from ``seed``)."""
        self.configure(cfg.update)
        rng = np.random.default_rng(seed)
        n_batches = -(-len(ids) // cfg.batch_size)
        if n_batches > 1 and len(ids) % cfg.batch_size == 1:
            n_batches -= 1  # a lone last sample joins the batch before: BatchNorm needs 2 rows
        total = cfg.epochs * n_batches
        for epoch in range(cfg.epochs):
            order = rng.permutation(ids)
            loss_sum = 0.0
            for b in range(n_batches):
                end = (b + 1) * cfg.batch_size if b < n_batches - 1 else len(ids)
                batch = order[b * cfg.batch_size : end]
                labels = self.active.labels_of(batch)
                loss_sum += self.step(batch, cross_entropy_objective(labels))
                progress(ProgressEvent(phase, epoch * n_batches + b + 1, total))
            progress(
                ProgressEvent(phase, (epoch + 1) * n_batches, total, {"loss": loss_sum / n_batches})
            )
        self.flush()

    def logits(self, ids: np.ndarray) -> torch.Tensor:
        """Top-model logits for ``ids`` (eval mode, batched)."""
        return torch.cat(
            [self.active.logits(self.embed(chunk, train=False)) for chunk in _chunks(ids)]
        )

    def logits_ahead(self, ids: np.ndarray) -> tuple[torch.Tensor, Lookahead | None]:
        """:meth:`logits`, from a training embed that the next :meth:`step` may reuse.

        Only for callers whose training forward pass equals an evaluation one (see
        :class:`Lookahead`). Beyond one evaluation chunk there is no look-ahead.
        """
        if len(ids) > EVAL_CHUNK:
            return self.logits(ids), None
        ahead = self.embed_ahead(ids)
        return self.active.logits(ahead.embeddings), ahead

    def features(self, ids: np.ndarray, layer: str = "embeddings") -> torch.Tensor:
        """Concatenated passive embeddings, or the top model's ``penultimate`` layer."""
        if layer not in FEATURE_LAYERS:
            raise ConfigError(
                f"unknown layer {layer!r}; choose one of: {', '.join(FEATURE_LAYERS)}"
            )
        parts = []
        for chunk in _chunks(ids):
            embeddings = self.embed(chunk, train=False)
            if layer == "embeddings":
                parts.append(torch.cat(embeddings, 1))
            else:
                parts.append(self.active.penultimate(embeddings))
        return torch.cat(parts)

    def predict(self, ids: np.ndarray) -> np.ndarray:
        return self.logits(ids).argmax(1).numpy()

    def scores(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(predicted class, class probabilities)`` for ``ids``: the class is
        :meth:`predict`'s (argmax of the logits, so ties break the same way)."""
        logits = self.logits(ids)
        return logits.argmax(1).numpy(), torch.softmax(logits, dim=1).numpy()


class Trial:
    """An open :meth:`Coordinator.trial`: decide it once, with :meth:`keep` or :meth:`undo`."""

    def __init__(self, co: Coordinator, name: str) -> None:
        self._co = co
        self.name = name
        self.decided = False

    def keep(self) -> None:
        """Keep what every party changed since the trial opened."""
        self._decide()
        self._co._keep_trial(self.name)

    def undo(self) -> None:
        """Every party goes back to the state the trial copied."""
        self._decide()
        self._co._undo_trial(self.name)

    def _decide(self) -> None:
        if self.decided:
            raise ProtocolError(f"trial {self.name!r} was already kept or undone")
        self.decided = True


def _backward_and_embed(
    client: PassivePartyClient,
    ids: np.ndarray,
    grad: torch.Tensor,
    next_ids: np.ndarray,
    train: bool,
) -> torch.Tensor:
    """One party's half of :meth:`Coordinator.embed` with unsent gradients.

    A party refuses a bad combined call whole. When the embed half was the bad
    one, the gradient must still arrive, as it would have on its own: it is
    resent alone before the error is raised. (A party that could not be reached
    is left alone: whether it applied the call is unknown, and the request
    that owns it aborts and restores.)
    """
    try:
        return client.backward_and_embed(ids, grad, next_ids, train)
    except (ProtocolError, UnknownSampleError):
        client.backward(ids, grad)
        raise


def _unless_refused(call: Callable[[], object]) -> None:
    """``call()``; a party's refusal (:class:`ProtocolError`) is swallowed, nothing else."""
    with suppress(ProtocolError):
        call()


def _gathered(futures: list[Future[T]]) -> list[T]:
    """Every party's result once *all* have finished; else the first failed party's error.

    ``pool.map`` raises as soon as one call fails, while other parties may still
    be mid-call (resending a gradient, say): whatever the caller did next
    raced them. Waiting for all makes a fan-out one completed step, and the
    error raised is always the same one (the lowest party index), not the fastest.
    """
    wait(futures)
    return [f.result() for f in futures]


def _scatter(grad: torch.Tensor, rows: torch.Tensor, n: int) -> torch.Tensor:
    """``grad``'s rows placed at ``rows`` of an ``n``-row zero matrix."""
    out = grad.new_zeros((n, *grad.shape[1:]))
    out[rows] = grad
    return out


def _chunks(ids: np.ndarray, size: int = EVAL_CHUNK) -> list[np.ndarray]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
