"""Pictures: predictions drawn in or after test runs (:mod:`.predictions`) and loss curves from
mmengine's logs (:mod:`.curves`, imported on use: it selects matplotlib's file backend)."""
from .predictions import draw_predictions, enable_prediction_drawing

__all__ = ['draw_predictions', 'enable_prediction_drawing']
