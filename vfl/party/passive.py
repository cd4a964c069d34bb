"""The passive party: feature columns and a bottom model, nothing else.

Its whole API speaks in sample IDs, embeddings and embedding gradients. It
never receives a label, a class, or a loss -- not during training and not
during unlearning, where it cannot tell a forgetting step from a recovery step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vfl.data.base import PartyShard
from vfl.data.tables import FeatureTable, SampleIndex
from vfl.errors import ProtocolError, WireFormatError
from vfl.models.bottom import BottomModelConfig, build_bottom_model
from vfl.party.alignment import PassiveAlignment
from vfl.party.ids import IdIndex, as_id_array
from vfl.party.optim import UpdateConfig, build_optimizer, set_mode
from vfl.party.versioned import VersionedModel
from vfl.seeding import seeded

__all__ = ["PartyInfo", "PassiveParty"]

MAX_GRADIENT_ABS = 1e6
"""The largest gradient value a passive party applies. Gradients of a loss with
respect to embeddings are far below 1; a value near float32's limit (3e38) is
finite but overflows the weights to inf/NaN in one step."""


@dataclass(frozen=True)
class PartyInfo:
    """What a passive party tells about itself (safe to send anywhere)."""

    party_id: str
    embed_dim: int
    n_samples: int
    version: int
    digest: str


class PassiveParty(VersionedModel):
    """One organisation's columns and bottom model, addressed by sample ID."""

    def __init__(self, shard: PartyShard, model: BottomModelConfig, seed: int = 0) -> None:
        """An aligned party over ``shard`` (simulations, tests); files use :meth:`from_table`."""
        self._start(shard.party_id, shard.feature_shape, None, model, seed)
        self._load(shard)

    @classmethod
    def from_table(
        cls, party_id: str, table: FeatureTable, model: BottomModelConfig, seed: int = 0
    ) -> PassiveParty:
        """A party over its own table: unaligned until :meth:`set_index`, unless the table
        arrives with its index (the built-in datasets)."""
        party = cls.__new__(cls)
        party._start(party_id, table.feature_shape, table, model, seed)
        if table.index is not None:
            party.set_index(table.index, checked=False)
        return party

    def _start(
        self,
        party_id: str,
        feature_shape: tuple[int, ...],
        table: FeatureTable | None,
        model: BottomModelConfig,
        seed: int,
    ) -> None:
        self.party_id = party_id
        self._feature_shape = feature_shape
        self._table = table
        self._index: IdIndex | None = None
        self._alignment: PassiveAlignment | None = None
        self.sample_index: SampleIndex | None = None
        self._model_cfg = model
        self._pending: tuple[np.ndarray, torch.Tensor] | None = None
        self.requests_only = False
        """Deployed with durable state: weights change only inside a request (begin first),
        so a version always names the weights and a fenced-off coordinator cannot train."""
        super().__init__()
        self.reinitialize(seed)

    def _load(self, shard: PartyShard) -> None:
        self._features = torch.from_numpy(np.ascontiguousarray(shard.features))
        self._index = IdIndex(shard.ids)
        self._pending = None

    # -- alignment ---------------------------------------------------------
    def align_begin(self, session: str, peer_size: int) -> tuple[int, int]:
        """Start a PSI session over this party's own IDs: ``(set size, setup chunks)``."""
        with self._lock:
            self._alignment = PassiveAlignment(self._own_table().ids, session, peer_size)
            return self._alignment.size, self._alignment.setup_chunks

    def align_session(self, session: str) -> PassiveAlignment:
        if self._alignment is None:
            raise ProtocolError("align: no alignment begun; run `vfl align`")
        self._alignment.check_session(session)
        return self._alignment

    def set_index(self, index: SampleIndex, checked: bool = True) -> None:
        """Fix the sample order (wire position ``k`` = ``index.ids[k]``); with ``checked``
        every ID must be in this party's PSI intersection (a restart reloads without it)."""
        with self._lock:
            if checked:
                if self._alignment is None:
                    raise ProtocolError("set index: no alignment begun; run `vfl align`")
                self._alignment.check_index(index)
            self._load(self._own_table().shard(self.party_id, index))
            self.sample_index = index
            if checked and self.durable is not None:
                self.durable.save_index(index)

    def resume_index(self, index: SampleIndex) -> None:
        self.set_index(index, checked=False)

    def _require_open_request(self, verb: str) -> None:
        if self.requests_only and self._request is None:
            raise ProtocolError(
                f"{self.party_id} refuses {verb} outside a request: a deployed party's "
                "weights change only between begin and commit"
            )

    def _own_table(self) -> FeatureTable:
        if self._table is None:
            raise ProtocolError(f"{self.party_id} was built from a fixed shard; it does not align")
        return self._table

    def _aligned_index(self) -> IdIndex:
        if self._index is None:
            raise ProtocolError(
                f"{self.party_id} is not aligned yet: run `vfl align` before training"
            )
        return self._index

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        return self._aligned_index().rows(ids)

    # -- model lifecycle -------------------------------------------------
    def reinitialize(self, seed: int) -> None:
        """Fresh weights from ``seed`` (what retraining from scratch starts with)."""
        with self._lock:
            self._require_open_request("reinitialize")
            with seeded(seed):
                self.model = build_bottom_model(self._feature_shape, self._model_cfg)
            self.embed_dim = int(self._model_cfg.embed_dim)
            self.configure(UpdateConfig())

    def configure(self, update: UpdateConfig) -> None:
        """Set optimizer and norm-layer behaviour; resets optimizer state."""
        with self._lock:
            self._update = update
            self._optimizer = build_optimizer(list(self.model.parameters()), update)
            self._pending = None

    # -- the per-batch protocol -----------------------------------------
    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        """Embeddings of ``ids``; with ``train`` the graph is kept for :meth:`backward`."""
        ids = as_id_array(ids)
        with self._lock:
            return self._embed_rows(ids, self._rows(ids), train)

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        """:meth:`backward` for ``ids``, then :meth:`embed` of ``next_ids``, as one call.

        ``next_ids`` are checked before the optimizer steps, so a request with an
        unknown next ID changes nothing (it must not leave half of itself applied).
        """
        next_ids = as_id_array(next_ids)
        with self._lock:
            rows = self._rows(next_ids)
            self.backward(ids, grad)
            return self._embed_rows(next_ids, rows, train)

    def _embed_rows(self, ids: np.ndarray, rows: np.ndarray, train: bool) -> torch.Tensor:
        if train:  # a training forward pass moves BatchNorm's running statistics
            self._require_open_request("a training embed")
        x = self._features[rows]
        set_mode(self.model, train, self._update)
        if not train:
            with torch.no_grad():
                return self.model(x).detach()
        out = self.model(x)
        self._pending = (ids, out)
        return out.detach()

    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        """Apply d(loss)/d(embeddings of ``ids``) from the active party: one optimizer step."""
        with self._lock:
            self._require_open_request("backward")
            out = self._require_pending(ids)
            if tuple(grad.shape) != tuple(out.shape) or grad.dtype != out.dtype:
                raise WireFormatError(
                    f"gradient must have shape {list(out.shape)} and dtype {out.dtype}, "
                    f"got shape {list(grad.shape)} and dtype {grad.dtype}"
                )
            low, high = (float(v) for v in torch.aminmax(grad)) if grad.numel() else (0.0, 0.0)
            if not -MAX_GRADIENT_ABS <= low <= high <= MAX_GRADIENT_ABS:  # NaN fails too
                raise ProtocolError(
                    f"gradient holds NaN, infinity or values beyond ±{MAX_GRADIENT_ABS:g}: "
                    "one step with it would overflow the model's weights to NaN"
                )
            self._optimizer.zero_grad(set_to_none=True)
            out.backward(grad)
            self._optimizer.step()
            self._pending = None

    def _require_pending(self, ids: np.ndarray) -> torch.Tensor:
        """The kept graph of the last training embed, if ``ids`` are exactly its IDs.

        The embed checked its IDs (1-D, int64, unique), so IDs equal to them need no
        second check -- a sort per step; only IDs that differ are examined, to say why.
        """
        self._aligned_index()  # before alignment, the refusal names the command
        if self._pending is None:
            raise ProtocolError("backward without a preceding embed(train=True)")
        pending_ids, out = self._pending
        ids = np.asarray(ids)
        same = ids.dtype.kind in "iu" and ids.shape == pending_ids.shape
        if not (same and np.array_equal(pending_ids, ids)):
            as_id_array(ids)  # a malformed list is refused as such
            raise ProtocolError("backward IDs differ from the last embed(train=True)")
        return out

    # -- state -------------------------------------------------------------
    def _on_state_loaded(self) -> None:
        self._pending = None  # a graph from old weights must not be stepped

    def info(self) -> PartyInfo:
        return PartyInfo(
            self.party_id,
            self.embed_dim,
            0 if self._index is None else len(self._index),
            self.version,
            self.digest(),
        )
