"""Bottom models (one per passive party) and the active party's top model."""

from vfl.models.bottom import BottomModelConfig, bottom_model_names, build_bottom_model
from vfl.models.top import TopModel

__all__ = ["BottomModelConfig", "TopModel", "bottom_model_names", "build_bottom_model"]
