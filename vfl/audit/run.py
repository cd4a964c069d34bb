"""One audit: the same federation run twice -- undefended and defended -- and attacked.

Each arm opens a federation on any registered transport, wraps the attacking
passive party's client in a :class:`RecordingClient`, trains, unlearns and (optionally)
retrains from the original model, and after each stage runs every attack that
asks for that stage. The undefended arm uses the plain method; the defended
arm adds the chosen defenses' gradient transforms (during training,
unlearning and retraining) and, with ``hide``, the request-hiding method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import Field

from vfl.audit.base import AuditView, Finding, Stage
from vfl.audit.defenses import defended_method, defense_transforms
from vfl.audit.registry import ATTACKS, DEFENSES
from vfl.coordinator import Coordinator, TrainConfig
from vfl.data import party_shard
from vfl.data.base import Dataset
from vfl.errors import ConfigError
from vfl.metrics import evaluate
from vfl.progress import ProgressCallback, ignore_progress
from vfl.protocol.client import RecordingClient
from vfl.seeding import derive_seed
from vfl.simulation import SimulationConfig, default_epochs
from vfl.transport import open_federation
from vfl.unlearning import UnlearningContext, create_method, validate_classes

__all__ = ["AuditConfig", "merge_arms", "run_arm", "run_audit"]

ORIGINAL = "audit-original"
AUX_SALT = 11


class AuditConfig(SimulationConfig):
    """Everything ``vfl audit`` takes: a simulation's settings, and what to attack and defend.

    ``method`` is the undefended arm's method; ``method_options`` go to every
    arm that runs it. ``defenses`` (from :class:`SimulationConfig`) apply to the
    defended arm only.
    """

    attacks: list[str] | None = None  # None: every registered attack
    attacker: int = Field(0, ge=0, description="index of the attacking passive party")
    aux_per_class: int = Field(10, ge=1, description="public labelled samples per class")

    def defended_method(self) -> str:
        return defended_method(self.defenses, self.method)

    def options_of(self, method: str) -> dict[str, Any]:
        """``method_options`` go to ``method``; a method a defense swaps in runs as it comes."""
        return self.method_options if method == self.method else {}


Arm = dict[str, Any]


def _aux_ids(ctx: UnlearningContext, per_class: int) -> np.ndarray:
    classes = list(range(ctx.labels.num_classes))
    return ctx.few_shot(classes, per_class, AUX_SALT)


def _check_attacker(attacker: int, parties: int) -> None:
    if attacker >= parties:
        raise ConfigError(
            f"attacker party {attacker} does not exist: "
            f"there are {parties} passive parties (0..{parties - 1})"
        )


def _utility(co: Coordinator, classes: list[int]) -> dict[str, float]:
    e = evaluate(co, co.active.labels, classes)
    return {"test_acc": e.test_acc, "retain_acc": e.retain_acc, "forget_acc": e.forget_acc}


class _Arm:
    """One arm's federation, its recorder on the attacker, and the attacks to run."""

    def __init__(self, cfg: AuditConfig, co: Coordinator, dataset: Dataset, train: TrainConfig):
        _check_attacker(cfg.attacker, len(co.clients))
        recorder = co.intercept(cfg.attacker, RecordingClient)  # only the attacker's view
        spec, classes = cfg.federation, validate_classes(list(cfg.classes), dataset.num_classes)
        self.cfg, self.co, self.train = cfg, co, train
        self.ctx = UnlearningContext(co, classes, cfg.unlearn, train, spec.seed)
        self.attacks = [ATTACKS.create(n) for n in (cfg.attacks or ATTACKS.names())]
        shard = party_shard(dataset, spec.parties, cfg.attacker, spec.seed)
        self.view = AuditView(
            coordinator=co,
            attacker=recorder,
            attacker_features=shard.features,
            labels=co.active.labels,
            classes=classes,
            aux_ids=_aux_ids(self.ctx, cfg.aux_per_class),
        )
        self.findings: list[Finding] = []

    def stage(self, stage: Stage, action: Callable[[], None]) -> None:
        """Run ``action`` recording the attacker's calls, then the stage's attacks."""
        self.view.attacker.calls.clear()
        action()
        self.co.flush()  # the attacks see the model, and the calls, after the stage's last step
        self.view.calls[stage] = list(self.view.attacker.calls)
        for attack in self.attacks:
            if stage in attack.stages:
                self.findings += attack.run(self.view, stage)
        self.view.calls[stage] = []  # free the gradients; the findings are kept
        self.view.attacker.calls.clear()


def run_arm(
    cfg: AuditConfig,
    dataset: Dataset,
    train: TrainConfig,
    defended: bool,
    progress: ProgressCallback = ignore_progress,
) -> Arm:
    """One arm: ``{"method", "findings", "utility"}`` (benchmarks compare several)."""
    spec = cfg.federation
    method = cfg.defended_method() if defended else cfg.method
    with open_federation(cfg.transport, spec, dataset) as co:
        arm = _Arm(cfg, co, dataset, train)
        names = cfg.defenses if defended else []
        with co.transforming(*defense_transforms(names, cfg.defense)):
            utility = _run_stages(cfg, co, arm, dataset, train, method, progress)
    return {"method": method, "findings": arm.findings, "utility": utility}


def _run_stages(
    cfg: AuditConfig,
    co: Coordinator,
    arm: _Arm,
    dataset: Dataset,
    train: TrainConfig,
    method: str,
    progress: ProgressCallback,
) -> dict[str, Any]:
    """Train, unlearn and (optionally) retrain, running the attacks after each stage."""
    spec = cfg.federation
    ctx = arm.ctx
    ctx.progress = progress
    order_seed = derive_seed(spec.seed, "train-order")
    arm.stage("trained", lambda: co.train(dataset.train_ids, train, order_seed, progress))
    utility = {"original": _utility(co, ctx.classes)}
    unlearner = create_method(method, cfg.options_of(method))
    with co.trial(ORIGINAL) as original:
        arm.stage("unlearned", lambda: unlearner.run(ctx))
        utility["unlearned"] = _utility(co, ctx.classes)
        if not cfg.compare_retrain:
            original.keep()
            return utility
        original.undo()
        arm.stage("retrained", lambda: create_method("retrain").run(ctx))
        utility["retrained"] = _utility(co, ctx.classes)
    return utility


def merge_arms(undefended: Arm, defended: Arm | None) -> list[dict[str, Any]]:
    """One row per (attack, metric): the undefended and defended values side by side."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key, arm in (("undefended", undefended), ("defended", defended)):
        for f in arm["findings"] if arm else []:
            row = rows.setdefault(
                (f.name, f.metric),
                {
                    "name": f.name,
                    "metric": f.metric,
                    "better": f.better,
                    "undefended": None,
                    "defended": None,
                },
            )
            row[key] = f.value
            row.setdefault("detail", {})[key] = f.detail
    order = {name: k for k, name in enumerate(dict.fromkeys(n for n, _ in rows))}
    return sorted(rows.values(), key=lambda r: order[r["name"]])  # stable: stages stay in order


def _utility_row(arm: Arm) -> dict[str, Any]:
    u = arm["utility"]
    return {
        "method": arm["method"],
        "retain_acc": u["unlearned"]["retain_acc"],
        "forget_acc": u["unlearned"]["forget_acc"],
        **{f"{phase}_{k}": v for phase in u if phase != "unlearned" for k, v in u[phase].items()},
    }


def run_audit(
    cfg: AuditConfig, dataset: Dataset | None = None, progress: ProgressCallback = ignore_progress
) -> dict[str, Any]:
    """Run the undefended arm and, if any defense is chosen, the defended arm; merge them."""
    for name in cfg.defenses:
        DEFENSES.get(name)  # fail fast on a bad name, before any training
    for name in cfg.attacks or []:
        ATTACKS.get(name)
    create_method(cfg.method, cfg.method_options)  # a bad option fails here, too
    _check_attacker(cfg.attacker, cfg.federation.parties)
    dataset = dataset or cfg.federation.load()
    train = cfg.train or TrainConfig(epochs=default_epochs(dataset.n_train))
    undefended = run_arm(cfg, dataset, train, False, progress)
    defended = run_arm(cfg, dataset, train, True, progress) if cfg.defenses else None
    return {
        "dataset": cfg.federation.dataset,
        "parties": cfg.federation.parties,
        "classes_forgotten": sorted(cfg.classes),
        "transport": cfg.transport,
        "seed": cfg.federation.seed,
        "defenses": list(cfg.defenses),
        "defense_config": cfg.defense.model_dump(),
        "train": train.model_dump(),
        "attacks": merge_arms(undefended, defended),
        "utility": {
            "undefended": _utility_row(undefended),
            "defended": _utility_row(defended) if defended else None,
        },
    }
