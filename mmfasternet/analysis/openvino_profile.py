"""Where OpenVINO spends its time on a model, by kind of operator and the kernel it ran."""
import math
from collections import defaultdict
from typing import Dict, Tuple

import numpy as np


def _macs(node) -> float:
    """Multiply-adds of one node of OpenVINO's execution graph: a conv (its weight input is
    ``[out, in, kh, kw]``, or ``[groups, out, in, kh, kw]``) or a fully connected layer; 0
    where a shape is only known at run time (a detector's heads on its detections)."""
    kind = node.get_rt_info()['layerType'].astype(str)
    shapes = [node.input(i).get_partial_shape() for i in range(node.get_input_size())]
    if (len(shapes) < 2 or not all(shape.is_static for shape in shapes[:2])
            or not node.output(0).get_partial_shape().is_static):
        return 0.0
    data, weight = (list(shape.to_shape()) for shape in shapes[:2])
    out = list(node.output(0).get_shape())
    if kind.endswith('Convolution'):
        return math.prod(weight) * math.prod(out[2:]) * out[0]
    if kind.startswith('FullyConnected'):
        return math.prod(out) * data[-1]
    return 0.0


def profile_openvino(path: str, feeds: Dict[str, np.ndarray], runs: int = 10,
                     threads: int = 1, precision: str = 'fp32'
                     ) -> Dict[str, Tuple[float, float]]:
    """Where OpenVINO spends its time on ``path``, by kind of operator and kernel.

    A kind is the operator's type, a conv's kernel size, and the kernel OpenVINO ran
    (``Convolution 1x1 jit_avx2_1x1_I8``, ``Concat ref_I8``): the kernel says whether it ran
    in int8, bf16 or fp32, and whether it is a fast (``jit``, ``brgconv``) or a reference
    (``ref``) implementation.

    Args:
        path (str): An ``.onnx`` file or OpenVINO IR ``.xml``.
        feeds (dict): One input of each name.
        runs (int): Counted runs, after 3 warm-up runs. Defaults to 10.
        threads (int): Inference threads. Defaults to 1.
        precision (str): ``'fp32'`` or ``'bf16'`` (the inference precision hint).

    Returns:
        dict: For each kind, milliseconds per run and multiply-adds (G) per run.
    """
    import openvino as ov

    from mmfasternet.deploy.runtimes.openvino import read_model
    core = ov.Core()
    model = read_model(core, path, {name: feed.shape for name, feed in feeds.items()})
    compiled = core.compile_model(model, 'CPU', {
        'PERF_COUNT': True, 'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1,
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32'})
    nodes = {node.get_friendly_name(): node
             for node in compiled.get_runtime_model().get_ordered_ops()}
    request = compiled.create_infer_request()
    for _ in range(3):
        request.infer(feeds)
    totals = defaultdict(lambda: [0.0, 0.0])
    for _ in range(runs):
        request.infer(feeds)
        for info in request.profiling_info:
            if info.status != info.Status.EXECUTED:
                continue
            node, kind = nodes.get(info.node_name), info.node_type
            macs = _macs(node) if node is not None else 0.0
            if macs and kind.endswith('Convolution'):
                kh, kw = list(node.input(1).get_shape())[-2:]
                kind = f'{kind} {kh}x{kw}'
            totals[f'{kind} {info.exec_type}'][0] += info.real_time.total_seconds() * 1e3 / runs
            totals[f'{kind} {info.exec_type}'][1] += macs / 1e9 / runs
    return {kind: tuple(value) for kind, value in totals.items()}
