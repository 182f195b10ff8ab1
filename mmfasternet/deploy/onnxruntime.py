"""Run an exported model in ONNX Runtime: the fastest CPU inference path we measured for
FasterNet (docs/speed.md)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

from .export import export_onnx
from .runtimes import DeployError


def onnxruntime_session(model: Union[str, bytes], threads: int = 1,
                        profile_prefix: Optional[str] = None):
    """An ONNX Runtime CPU session with all graph optimisations on ``threads`` threads.

    Args:
        model (str | bytes): An ``.onnx`` file or a serialised model.
        threads (int): Intra-op threads; 1 is the paper's latency protocol. Defaults to 1.
        profile_prefix (str, optional): Profile every run into ``<prefix>_<time>.json``.
    """
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])


class OnnxRuntimeModel:
    """An ONNX file run by ONNX Runtime's CPU provider, called like the PyTorch model.

    Args:
        path (str): The ``.onnx`` file (one image input).
        threads (int): Intra-op threads; 1 is the paper's latency protocol. Defaults to 1.
    """

    def __init__(self, path: str, threads: int = 1):
        self.session = onnxruntime_session(path, threads)
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise DeployError(f'{path} has {len(inputs)} inputs; OnnxRuntimeModel runs '
                              f'models with one image input')
        self.input_name = inputs[0].name

    @classmethod
    def from_model(cls, model: nn.Module, path: str, shape: Tuple[int, ...] = (1, 3, 224, 224),
                   threads: int = 1, **forward_kwargs) -> 'OnnxRuntimeModel':
        """Fold ``model``'s BNs, export it to ``path`` and load it.

        Args:
            model (nn.Module): A FasterNet backbone or a model holding one.
            path (str): The ``.onnx`` file to write.
            shape (tuple): Input shape the graph is exported with.
            threads (int): Intra-op threads. Defaults to 1.
            **forward_kwargs: Passed to ``model.forward``, e.g. ``mode='tensor'``.
        """
        export_onnx(model, path, shape=shape, **forward_kwargs)
        return cls(path, threads)

    def __call__(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        outputs = self.session.run(None, {self.input_name: x.detach().cpu().numpy()})
        tensors = tuple(torch.from_numpy(out) for out in outputs)
        return tensors[0] if len(tensors) == 1 else tensors
