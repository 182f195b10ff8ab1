from .fasternet_cls_head import FasterNetClsHead

__all__ = ['FasterNetClsHead']
