"""Where ONNX Runtime spends its time on a model, by kind of operator."""
import json
import math
import os
import tempfile
from collections import defaultdict
from typing import Dict, Tuple

import numpy as np

from mmfasternet.deploy.runtimes.onnxruntime import OnnxRuntime

# Where each operator that ONNX Runtime runs a conv or matrix product with keeps its weight.
WEIGHT_INPUT = {'Conv': 1, 'FusedConv': 1, 'QLinearConv': 3, 'Gemm': 1, 'FusedGemm': 1,
                'MatMul': 1, 'QGemm': 3}


def profile_onnxruntime(path: str, feeds: Dict[str, np.ndarray], runs: int = 10,
                        threads: int = 1) -> Dict[str, Tuple[float, float]]:
    """Where ONNX Runtime spends its time on ``path``, by kind of operator.

    Convs are told apart by operator (``Conv``, or ``QLinearConv`` in an int8 model), kernel
    size and being depthwise or not; other operators by type. Multiply-adds are counted
    for convs and matrix products as ONNX Runtime computes them, from the weights of its
    optimised graph: its blocked (NCHWc) fp32 convs pad channel counts below the block size
    (8 or 16, by CPU).

    Args:
        path (str): The ``.onnx`` file, fp32 or int8 (QDQ).
        feeds (dict): One input of each name.
        runs (int): Counted runs, after 3 warm-up runs that are not. Defaults to 10.
        threads (int): Intra-op threads. Defaults to 1.

    Returns:
        dict: For each kind, milliseconds per run and multiply-adds (G) per run.
    """
    import onnx
    with tempfile.TemporaryDirectory() as folder:
        optimized_path = os.path.join(folder, 'optimized.onnx')
        session = OnnxRuntime.session_of(
            path, threads, enable_profiling=True,
            profile_file_prefix=os.path.join(folder, 'profile'),
            optimized_model_filepath=optimized_path,
            log_severity_level=3)  # saving a blocked-layout graph warns that it is
        warmup = 3
        for _ in range(warmup + runs):
            session.run(None, feeds)
        with open(session.end_profiling()) as f:
            events = json.load(f)
        optimized = onnx.load(optimized_path)
    shapes = {tensor.name: list(tensor.dims) for tensor in optimized.graph.initializer}
    weights = {node.name: shapes.get(node.input[WEIGHT_INPUT[node.op_type]])
               for node in optimized.graph.node if node.op_type in WEIGHT_INPUT}
    starts = sorted(e['ts'] for e in events if e.get('name') == 'model_run')
    first_timed = starts[warmup]
    totals = defaultdict(lambda: [0.0, 0.0])
    for event in events:
        if (event.get('cat') != 'Node' or not event['name'].endswith('_kernel_time')
                or event['ts'] < first_timed):
            continue
        kind, macs = event['args']['op_name'], 0.0
        weight = weights.get(event['name'][:-len('_kernel_time')])
        out = list(event['args']['output_type_shape'][0].values())[0]
        if weight and 'Conv' in kind:
            # weight[0] output channels; the rest of ``out`` is batch and pixels in any layout
            macs = math.prod(weight) * math.prod(out) / weight[0]
            depthwise = weight[1] == 1 and weight[0] > 1
            kind = f'{kind} {weight[2]}x{weight[3]}{" depthwise" if depthwise else ""}'
        elif kind in WEIGHT_INPUT:
            first = list(event['args']['input_type_shape'][0].values())[0]
            macs = math.prod(out) * first[-1]
        totals[kind][0] += event['dur'] / 1e3 / runs
        totals[kind][1] += macs / 1e9 / runs
    return {kind: tuple(value) for kind, value in totals.items()}
