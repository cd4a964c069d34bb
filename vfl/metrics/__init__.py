"""Unlearning metrics, all computed at the active party (labels never leave it).

* :mod:`vfl.metrics.base` -- accuracy split by retained/forgotten classes and the
  LUV paper's entropy MIA (what every report has, cheap);
* :mod:`vfl.metrics.tow` -- ToW and ToW-MIA against retraining (Zhao et al. 2024);
* :mod:`vfl.metrics.lira` -- the per-example likelihood-ratio test of U-LiRA
  (Hayes et al., SaTML 2025) as pure math over shadow-model statistics;
* :mod:`vfl.metrics.relearn` -- relearn time (Chundawat et al., TIFS 2023);
* :mod:`vfl.metrics.depth` -- forgetting depth: linear probes per layer.

The names of the former ``vfl/metrics.py`` module are re-exported here.
"""

from vfl.metrics.base import *  # noqa: F403  (the names are base's __all__, listed once)
from vfl.metrics.base import __all__  # noqa: F401
