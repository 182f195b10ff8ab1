"""Pictures: prediction drawing in test runs (:mod:`.predictions`) and loss curves from
mmengine's logs (:mod:`.curves`, imported on use: it selects matplotlib's file backend)."""
from .predictions import enable_prediction_drawing

__all__ = ['enable_prediction_drawing']
