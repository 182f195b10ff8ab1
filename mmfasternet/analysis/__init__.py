"""What a user measures on their own config: params and FLOPs (:mod:`.complexity`). The
benchmarks that compare FasterNet with its peers live in the repository's ``benchmarks/``."""
from .complexity import TensorForward, complexity, count_model, tensor_model

__all__ = ['TensorForward', 'complexity', 'count_model', 'tensor_model']
