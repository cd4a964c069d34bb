"""The gradient defenses' knobs and names, without torch (for the CLI's help).

:mod:`vfl.audit.defenses` holds the defenses themselves and re-exports
:class:`DefenseConfig`; a test checks :data:`DEFENSE_NAMES` against its table.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFENSE_NAMES", "DefenseConfig"]

DEFENSE_NAMES = ("align", "equalize", "hide", "maxnorm", "noise")
"""The names :func:`vfl.audit.defenses.defense_names` returns, in its order."""


class DefenseConfig(BaseModel):
    """Knobs of the gradient defenses; each reads the ones it uses."""

    model_config = ConfigDict(frozen=True)

    noise_multiplier: float = Field(0.5, ge=0, description="noise norm / clip norm")
    clip_norm: float | None = Field(None, gt=0, description="None: batch median row norm")
    seed: int = 0
