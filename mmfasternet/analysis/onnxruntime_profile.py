"""Where ONNX Runtime spends its time on an exported model, by kind of operator."""
import json
import math
import os
from collections import defaultdict
from typing import Dict, Tuple

import torch

from mmfasternet.deploy import onnxruntime_session


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
