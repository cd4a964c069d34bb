"""The unlearning evaluation suite above the core: shadow federations and ``--eval full``.

The metrics themselves are pure and live in :mod:`vfl.metrics`; this package
trains what they need (shadow federations for U-LiRA, in worker processes,
cached on disk) and assembles a simulation's full evaluation.
"""

from vfl.evaluation.suite import PHASES, EvalConfig, FullEvaluation

__all__ = ["PHASES", "EvalConfig", "FullEvaluation"]
