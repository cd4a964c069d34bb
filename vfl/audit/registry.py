"""The registries of attacks (``vfl.attacks``) and defenses (``vfl.defenses``).

An attack entry is an :class:`~vfl.audit.base.Attack` class (``ATTACKS.create``
builds one, with its ``options_model`` if it declares one); a
defense entry is a :class:`~vfl.audit.defenses.Defense`, whose gradient
transform is built from the audit's ``DefenseConfig``. The tables say where
each built-in lives, so ``vfl audit --help`` lists them without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vfl.registry import Registry

if TYPE_CHECKING:
    from vfl.audit.base import Attack
    from vfl.audit.defenses import Defense

__all__ = ["ATTACKS", "DEFENSES"]

ATTACKS: Registry[type[Attack]] = Registry(
    "attack",
    "vfl.attacks",
    {
        "direction": "vfl.audit.leakage:DirectionAttack",
        "forget-id": "vfl.audit.disclosure:ForgetIdAttack",
        "forgotten-class": "vfl.audit.disclosure:ForgottenClassAttack",
        "model-completion": "vfl.audit.depth:ModelCompletionAttack",
        "norm": "vfl.audit.leakage:NormAttack",
        "probe": "vfl.audit.depth:ProbeAttack",
    },
)
DEFENSES: Registry[Defense] = Registry(
    "defense",
    "vfl.defenses",
    {
        "align": "vfl.audit.defenses:ALIGN",
        "equalize": "vfl.audit.defenses:EQUALIZE",
        "hide": "vfl.audit.defenses:HIDE",
        "maxnorm": "vfl.audit.defenses:MAXNORM",
        "noise": "vfl.audit.defenses:NOISE",
    },
)
