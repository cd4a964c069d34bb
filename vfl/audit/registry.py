"""The registry of attacks: name -> attack class.

Each attack registers itself with :func:`register_attack` when its module is
imported; the table below says which module that is, so listing the names
(``vfl audit --help``) imports neither torch nor scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vfl.registry import LazyRegistry

if TYPE_CHECKING:
    from vfl.audit.base import Attack

__all__ = ["attack_names", "get_attack", "register_attack"]

_ATTACKS: LazyRegistry[Attack] = LazyRegistry(
    "attack",
    {  # name -> module whose import registers it (tests check each one does)
        "direction": "vfl.audit.leakage",
        "forget-id": "vfl.audit.disclosure",
        "forgotten-class": "vfl.audit.disclosure",
        "model-completion": "vfl.audit.depth",
        "norm": "vfl.audit.leakage",
        "probe": "vfl.audit.depth",
    },
)
register_attack = _ATTACKS.register
attack_names = _ATTACKS.names
get_attack = _ATTACKS.get
