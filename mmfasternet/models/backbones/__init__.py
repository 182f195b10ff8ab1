from .fasternet import FasterNet

__all__ = ['FasterNet']
