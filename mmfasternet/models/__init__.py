from .backbones import FasterNet

__all__ = ['FasterNet']
