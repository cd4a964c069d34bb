"""Shadow federations for U-LiRA: trained in worker processes, cached on disk.

What "in" and "out" mean for class-level unlearning. The question U-LiRA asks
of a target model is per example: was this sample trained on (and then
unlearned), or never seen? The forgotten class is forgotten by every model
compared, so the candidates are that class's samples: its *training* samples
(members of the target's training set, then unlearned) and its *test* samples
(never trained on by the target: the non-members). Every shadow trains on all
retained training samples plus a random half of that candidate pool -- each
candidate is "in" for exactly half of the shadows (:func:`balanced_masks`) --
and is then unlearned with the method under test (the whole class, as the
target was). A perfect unlearning makes a candidate's confidence look the same
whether it was in or out, and the attack's AUC on the target is 0.5, as it is
for a retrained target.

Cost and cache. A shadow's *trained* state does not depend on the method, so
it is trained once and cached (``torch.save`` of every party's
``state_dict``, read back with ``weights_only=True``) under a hash of
everything that determines it; each method's confidences on the pool are
cached next to it. Re-running a table costs only the methods that are new.
Shadows train in a pool of worker processes, one torch thread each.

Sample requests (``ShadowJob.forget``) use the same mechanism with other
candidates (:func:`sample_pool`): the forget samples (members, then
unlearned) and as many never-trained test samples of the same classes (the
non-members). Every shadow trains on the retained training samples (train
minus the forget samples) plus its half of the candidates, and is then
unlearned with the method *on its own in-candidates* -- a sample request, as
the target's was. The retrained target's shadows are retrained without their
in-candidates. In both scopes a shadow's test split is every test sample it
did not train on plus its out-candidates, so a method that reads held-out
samples (``luv-samples``' non-member level) sees a test split like the
target's.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vfl.atomic import write_atomic
from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import Dataset
from vfl.errors import ConfigError
from vfl.federation import FederationSpec
from vfl.metrics.lira import logit_confidence
from vfl.protocol.client import InProcessClient
from vfl.seeding import derive_seed
from vfl.transport.inprocess import inprocess_federation
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method

__all__ = [
    "NO_UNLEARNING",
    "ShadowJob",
    "default_cache_dir",
    "pool_of",
    "sample_pool",
    "shadow_confidences",
]

NO_UNLEARNING = "none"
"""The "method" that leaves a shadow as trained (the attack on the original model)."""
CACHE_VERSION = 2
"""Bump when what a cached shadow means changes (its recipe, the pool, the file format).
2: a shadow's test split is every test sample it did not train on; the key has the scope."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vfl`` or ``~/.cache/vfl``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vfl"


def pool_of(dataset: Dataset, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The candidates (global IDs, train then test) and which of them are training members."""
    train = dataset.train_ids[np.isin(dataset.y_train, classes)]
    test = dataset.test_ids[np.isin(dataset.y_test, classes)]
    pool = np.concatenate([train, test])
    return pool, np.arange(pool.size) < train.size


def sample_pool(dataset: Dataset, samples: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A sample request's candidates: the forget samples, then as many test samples.

    The non-members are a seeded draw from the test split (never trained on)
    with the forget set's class mix -- per class as many as it has forget
    samples -- so the attack cannot separate the two sides by class alone.
    """
    forget = np.sort(np.asarray(samples, dtype=np.int64))
    y_all = np.concatenate([dataset.y_train, dataset.y_test])
    rng = np.random.default_rng(seed)
    drawn = []
    for c, need in zip(*np.unique(y_all[forget], return_counts=True), strict=True):
        test = dataset.test_ids[dataset.y_test == c]
        if test.size < need:
            raise ConfigError(
                f"--eval full: {need} forget samples of class {c} but {test.size} test samples "
                "to match them with; forget fewer"
            )
        drawn.append(rng.choice(test, int(need), replace=False))
    non_members = np.sort(np.concatenate(drawn)) if drawn else np.empty(0, np.int64)
    pool = np.concatenate([forget, non_members])
    return pool, np.arange(pool.size) < forget.size


@dataclass(frozen=True)
class ShadowJob:
    """Everything a worker needs to train (or load) shadows and score methods on them."""

    spec: FederationSpec
    train: TrainConfig
    unlearn: UnlearnConfig
    classes: list[int]
    masks: np.ndarray
    """``[shadows, pool]``: shadow ``k`` trains on candidate ``i`` when ``masks[k, i]``."""
    methods: tuple[tuple[str, Mapping[str, Any]], ...]
    cache_dir: Path
    pool: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    forget: np.ndarray | None = None
    """A sample request's forget samples (the target's); None: ``classes`` are forgotten."""

    @property
    def scope(self) -> str:
        return "classes" if self.forget is None else "samples"

    def retained(self, full: Dataset) -> np.ndarray:
        """The training samples every shadow trains on: all but the forgotten ones."""
        if self.forget is None:
            return full.train_ids[~np.isin(full.y_train, self.classes)]
        return full.train_ids[~np.isin(full.train_ids, self.forget)]

    def in_candidates(self, shadow_pool: np.ndarray, k: int) -> np.ndarray | None:
        """Shadow ``k``'s sample request (its in-candidates, its numbering); None: classes."""
        if self.forget is None:
            return None
        return np.sort(shadow_pool[self.masks[k]])

    def shadow_key(self, k: int) -> str:
        """Hash of what determines shadow ``k``'s trained state (not the methods)."""
        return _digest(
            {
                "v": CACHE_VERSION,
                "spec": self.spec.model_dump(mode="json"),
                "train": self.train.model_dump(mode="json"),
                "classes": self.classes,
                "scope": self.scope,
                "forget": None if self.forget is None else _array_digest(self.forget),
                "pool": _array_digest(self.pool),
                "members": _array_digest(self.masks[k]),
                "k": k,
            }
        )

    def method_key(self, k: int, method: str, options: Mapping[str, Any]) -> str:
        extra = {"method": method, "options": dict(options), "unlearn": self.unlearn.model_dump()}
        return _digest({"shadow": self.shadow_key(k), **extra})


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _array_digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def shadow_confidences(
    job: ShadowJob, workers: int = 2, dataset: Dataset | None = None
) -> dict[str, np.ndarray]:
    """``{method: [shadows, pool]}`` logit-scaled confidences, from cache or trained now.

    ``workers`` processes, each loading the data from ``job.spec``; with 1 the
    shadows train in this process, on ``dataset`` if given (the tests do that).
    """
    n = job.masks.shape[0]
    if workers <= 1:
        if dataset is not None:
            _DATASETS[job.spec.model_dump_json()] = dataset
        rows = [_shadow_task(job, k) for k in range(n)]
    else:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(min(workers, n), initializer=_worker_init) as pool:
            rows = pool.starmap(_shadow_task, [(job, k) for k in range(n)])
    return {name: np.stack([row[i] for row in rows]) for i, (name, _) in enumerate(job.methods)}


def _worker_init() -> None:
    """One torch thread per worker: two workers on two cores, no oversubscription."""
    torch.set_num_threads(1)


_DATASETS: dict[str, Dataset] = {}


def _load(spec: FederationSpec) -> Dataset:
    key = spec.model_dump_json()
    if key not in _DATASETS:
        _DATASETS[key] = spec.load()
    return _DATASETS[key]


def _shadow_dataset(full: Dataset, job: ShadowJob, k: int) -> tuple[Dataset, np.ndarray]:
    """Shadow ``k``'s data (train = its members, test = the candidates it leaves out and
    the test samples outside the pool) and the pool's IDs in that data's numbering."""
    x = np.concatenate([full.x_train, full.x_test])
    y = np.concatenate([full.y_train, full.y_test])
    inside, outside = job.pool[job.masks[k]], job.pool[~job.masks[k]]
    members = np.sort(np.concatenate([job.retained(full), inside]))
    unseen = full.test_ids[~np.isin(full.test_ids, job.pool)]
    outs = np.sort(np.concatenate([outside, unseen]))
    position = {int(g): i for i, g in enumerate(np.concatenate([members, outs]))}
    shadow_pool = np.array([position[int(g)] for g in job.pool], dtype=np.int64)
    data = replace(full, x_train=x[members], y_train=y[members], x_test=x[outs], y_test=y[outs])
    return data, shadow_pool


def _shadow_task(job: ShadowJob, k: int) -> list[np.ndarray]:
    """One shadow: every method's confidences on the pool (cached ones are read back)."""
    paths = [job.cache_dir / "scores" / f"{job.method_key(k, m, o)}.npy" for m, o in job.methods]
    if all(p.exists() for p in paths):
        return [np.load(p) for p in paths]
    data, shadow_pool = _shadow_dataset(_load(job.spec), job, k)
    seed = derive_seed(job.spec.seed, "shadow", k)
    with _trained_shadow(job, k, data, seed) as co:
        labels = co.active.labels.labels_of(shadow_pool)
        out = []
        for path, (method, options) in zip(paths, job.methods, strict=True):
            if not path.exists():
                conf = _method_confidence(co, job, k, (method, options), shadow_pool, labels)
                _save_array(path, conf)
            out.append(np.load(path))
    return out


def _method_confidence(
    co: Coordinator,
    job: ShadowJob,
    k: int,
    method_options: tuple[str, Mapping[str, Any]],
    ids: np.ndarray,
    labels: np.ndarray,
) -> np.ndarray:
    """Shadow ``k`` unlearned with the method (in a trial, undone): its confidences on ``ids``."""
    method, options = method_options
    seed = derive_seed(job.spec.seed, "shadow", k)
    with co.trial("shadow-method") as trial:
        if method != NO_UNLEARNING:
            samples = job.in_candidates(ids, k)
            ctx = UnlearningContext(
                co, list(job.classes), job.unlearn, job.train, seed, samples=samples
            )
            create_method(method, options).run(ctx)
            co.flush()
        conf = logit_confidence(co.logits(ids), labels)
        trial.undo()
    return conf


@contextmanager
def _trained_shadow(job: ShadowJob, k: int, data: Dataset, seed: int) -> Iterator[Coordinator]:
    path = job.cache_dir / "shadows" / f"{job.shadow_key(k)}.pt"
    with inprocess_federation(job.spec, data) as co:
        if path.exists():
            _load_state(co, torch.load(path, weights_only=True))
        else:
            co.reinitialize(seed)
            co.train(data.train_ids, job.train, derive_seed(seed, "train-order"))
            _save_state(path, _state_of(co))
        yield co


def _parties(co: Coordinator) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for client in co.clients:
        if not isinstance(client, InProcessClient):
            raise TypeError("shadow federations run in this process")
        out[client.party_id] = client.party
    out["active"] = co.active
    return out


def _state_of(co: Coordinator) -> dict[str, Any]:
    return {name: party.state_dict() for name, party in _parties(co).items()}


def _load_state(co: Coordinator, state: dict[str, Any]) -> None:
    for name, party in _parties(co).items():
        party.load_state_dict(state[name])


def _save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda fh: torch.save(state, fh))


def _save_array(path: Path, value: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda fh: np.save(fh, value))
