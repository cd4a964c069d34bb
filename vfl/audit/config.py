"""The gradient defenses' knobs, without torch (the CLI reads their defaults).

:mod:`vfl.audit.defenses` holds the defenses themselves and re-exports
:class:`DefenseConfig`; :mod:`vfl.audit.registry` lists their names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DefenseConfig"]


class DefenseConfig(BaseModel):
    """Knobs of the gradient defenses; each reads the ones it uses."""

    model_config = ConfigDict(frozen=True)

    noise_multiplier: float = Field(0.5, ge=0, description="noise norm / clip norm")
    clip_norm: float | None = Field(None, gt=0, description="None: batch median row norm")
    seed: int = 0
