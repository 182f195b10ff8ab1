"""Parameter and FLOP counts of detector, segmentor and classifier configs.

FLOPs are mmengine's counts of multiply-adds (the paper's convention), taken in each task
library's ``tensor`` forward mode: for two-stage detectors that is the RPN, the box head on
the proposals and the mask head on the first 100 of them, as mmdet's own ``get_flops`` does.
"""
from typing import Dict, Tuple

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config

from mmfasternet.deploy import switch_to_deploy
from mmfasternet.deploy.tasks import task_of_config
from mmfasternet.engine.tool_config import build_model


def count_model(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...]) -> Dict[str, float]:
    """Params (millions) and multiply-adds (billions) of ``model(*inputs)``."""
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.unsupported_ops_warnings(False)  # element-wise ops are not counted, as usual
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        flops = analyzer.total()
    params = sum(p.numel() for p in model.parameters())
    return dict(params_m=params / 1e6, gflops=flops / 1e9)


class TensorForward(torch.nn.Module):
    """``model(x, **forward_kwargs)`` as a module with one input, as tracing, export, the
    FLOP counter and the timing loop need.

    Args:
        model (nn.Module): The model to call.
        **forward_kwargs: Passed on every call, e.g. ``mode='tensor'`` and ``data_samples``.
    """

    def __init__(self, model: torch.nn.Module, **forward_kwargs):
        super().__init__()
        self.model = model
        self.forward_kwargs = forward_kwargs

    def forward(self, x: torch.Tensor):
        return self.model(x, **self.forward_kwargs)


def tensor_model(cfg: Config, shape: Tuple[int, int], mode: str = 'tensor') -> TensorForward:
    """The eval-mode model of ``cfg`` as a one-input module for ``shape`` (height, width)
    inputs: with ``mode='tensor'`` backbone, neck and heads, no post-processing; with
    ``mode='predict'`` the whole inference of a detector or segmentor (NMS, masks, class
    maps), as its ``predict`` runs it."""
    samples = task_of_config(cfg).data_samples(tuple(shape))
    kwargs = dict(mode=mode) if samples is None else dict(data_samples=samples, mode=mode)
    return TensorForward(build_model(cfg), **kwargs)


def complexity(cfg: Config, shape: Tuple[int, int], deploy: bool = False) -> Dict[str, float]:
    """Params and FLOPs (both in millions/billions) of the model of ``cfg`` at ``shape``.

    Args:
        cfg (Config): The config.
        shape (tuple): Input height and width.
        deploy (bool): Fold BNs into convs first, as the paper counts. Defaults to False.

    Returns:
        dict: ``params_m`` (millions) and ``gflops`` (billions of multiply-adds).
    """
    model = tensor_model(cfg, shape)
    if deploy:
        switch_to_deploy(model)
    return count_model(model, (torch.rand(1, 3, *shape), ))
