"""Run an exported model in ONNX Runtime: the fastest CPU inference path we measured for
FasterNet (docs/speed.md)."""
import json
import math
import os
from collections import defaultdict
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn

from mmfasternet.deploy import export_onnx


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


def open_onnx_file(path: str, threads: int = 1):
    """:func:`onnxruntime_session` for a file a user names, with a ``ValueError`` that
    says what is wrong when it is missing or not a readable ONNX file."""
    if not os.path.isfile(path):
        raise ValueError(f'{path} does not exist')
    try:
        return onnxruntime_session(path, threads)
    except Exception as error:  # onnxruntime raises its own exception types
        raise ValueError(f'{path} is not a readable ONNX file: {error}') from None


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
            raise ValueError(f'{path} has {len(inputs)} inputs; OnnxRuntimeModel runs '
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


def profile_onnxruntime(path: str, x: torch.Tensor, runs: int = 10,
                        threads: int = 1) -> Dict[str, Tuple[float, float]]:
    """Where ONNX Runtime spends its time on ``path``, by kind of operator.

    Convs are told apart by kernel size and by being depthwise or not; other ops by type.
    Multiply-adds are counted for convs and matrix products, as ONNX Runtime computes them:
    its blocked (NCHWc) convs pad channel counts below the block size (8 or 16, by CPU).

    Args:
        path (str): The ``.onnx`` file.
        x (torch.Tensor): The input.
        runs (int): Counted runs, after 3 warm-up runs that are not. Defaults to 10.
        threads (int): Intra-op threads. Defaults to 1.

    Returns:
        dict: For each kind, milliseconds per run and multiply-adds (G) per run.
    """
    session = onnxruntime_session(path, threads, os.path.splitext(path)[0] + '_profile')
    feed = {session.get_inputs()[0].name: x.numpy()}
    warmup = 3
    for _ in range(warmup + runs):
        session.run(None, feed)
    trace = session.end_profiling()
    with open(trace) as f:
        events = json.load(f)
    os.remove(trace)
    starts = sorted(e['ts'] for e in events if e.get('name') == 'model_run')
    first_timed = starts[warmup]
    totals = defaultdict(lambda: [0.0, 0.0])
    for event in events:
        if (event.get('cat') != 'Node' or not event['name'].endswith('_kernel_time')
                or event['ts'] < first_timed):
            continue
        kind, macs = event['args']['op_name'], 0.0
        inputs = [list(shape.values())[0] for shape in event['args']['input_type_shape']]
        out = list(event['args']['output_type_shape'][0].values())[0]
        if kind in ('Gemm', 'FusedGemm', 'MatMul'):
            macs = math.prod(out) * inputs[0][-1]
        if kind == 'Conv':
            weight = inputs[1]
            macs = math.prod(weight) * out[-1] * out[-2]
            depthwise = weight[1] == 1 and weight[0] > 1
            kind = f'Conv {weight[2]}x{weight[3]}{" depthwise" if depthwise else ""}'
        totals[kind][0] += event['dur'] / 1e3 / runs
        totals[kind][1] += macs / 1e9 / runs
    return {kind: tuple(value) for kind, value in totals.items()}
