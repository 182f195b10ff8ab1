"""Where OpenVINO spends its time on a model, by kind of operator and the kernel it ran."""
from collections import defaultdict
from typing import Dict

import numpy as np


def profile_openvino(path: str, feeds: Dict[str, np.ndarray], runs: int = 10,
                     threads: int = 1, precision: str = 'fp32') -> Dict[str, float]:
    """Milliseconds per run of each kind of operator OpenVINO executes for ``path``.

    A kind is the operator's type and its kernel (``Convolution jit_avx512_1x1_I8``,
    ``Concat ref_I8``): the kernel says whether it ran in int8, bf16 or fp32, and whether
    it is a fast (``jit``) or a reference (``ref``) implementation.

    Args:
        path (str): An ``.onnx`` file or OpenVINO IR ``.xml``.
        feeds (dict): One input of each name.
        runs (int): Counted runs, after 3 warm-up runs. Defaults to 10.
        threads (int): Inference threads. Defaults to 1.
        precision (str): ``'fp32'`` or ``'bf16'`` (the inference precision hint).
    """
    import openvino as ov
    compiled = ov.Core().compile_model(path, 'CPU', {
        'PERF_COUNT': True, 'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1,
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32'})
    request = compiled.create_infer_request()
    for _ in range(3):
        request.infer(feeds)
    totals = defaultdict(float)
    for _ in range(runs):
        request.infer(feeds)
        for info in request.profiling_info:
            if info.status == info.Status.EXECUTED:
                kind = f'{info.node_type} {info.exec_type}'
                totals[kind] += info.real_time.total_seconds() * 1e3 / runs
    return dict(totals)
