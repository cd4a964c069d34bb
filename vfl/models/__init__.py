"""Bottom models (one per passive party), their registry, and the active party's top model.

Your own models, and the contract they keep, are in :mod:`vfl.models.custom`.

Every name is imported on first use (see :mod:`vfl.lazy`), so
:mod:`vfl.models.registry` lists the bottom models without loading torch.
"""

from vfl.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "vfl.models.bottom": ("BottomModelConfig", "build_bottom_model"),
        "vfl.models.registry": ("BOTTOM_MODELS", "bottom_model_names"),
        "vfl.models.top": ("CustomTopModel", "TopModel", "build_top_model"),
    },
)
