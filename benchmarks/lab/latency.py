"""CPU latency of FasterNet and its peers, measured the paper's way, on every inference path.

The protocol of the paper (Sec. 4): batch 1, one thread, 224x224 input, BN folded into the
convs, warm-up runs, then the median of repeated runs. Models are timed round-robin, so that
ratios between them are fair on a machine whose speed drifts.
"""
import copy
import statistics
import time
from functools import partial
from typing import Callable, Dict, Hashable, List, Tuple

import torch
import torch.nn as nn

from mmfasternet.analysis import TensorForward
from mmfasternet.deploy import RUNTIMES, Runtime, export_onnx, open_runtime, switch_to_deploy
from mmfasternet.engine.tool_config import build_model, load_config
from .peers import build_timm_peer, peers_file


def build_classifier(name: str) -> TensorForward:
    """An eval-mode classifier with a one-tensor forward to its logits, BN not folded:
    ``fasternet_<arch>`` from this package's configs (``mmfasternet::``), a peer of
    ``benchmarks/peers.yml`` from timm (:func:`.peers.build_timm_peer`), anything else from
    mmpretrain's model zoo (architecture only, no weights)."""
    if name.startswith('fasternet_'):
        model = build_model(load_config(f'mmfasternet::{name}_in1k.py'))
    elif name in peers_file()['peers']:
        return TensorForward(build_timm_peer(name))
    else:
        import mmpretrain
        model = mmpretrain.get_model(name, pretrained=False)
    return TensorForward(model.eval(), mode='tensor')


# Ways to run a model for inference on the CPU, each measured in benchmarks/results/benchmarks.md.
INFERENCE_PATHS = {
    'eval': 'plain eval mode',
    'folded': 'BN folded',
    'channels_last': 'folded, channels_last memory format',
    'torchscript': 'folded, traced, frozen and `torch.jit.optimize_for_inference`',
    'compile': 'folded, `torch.compile` (inductor)',
    'onnxruntime': 'folded, exported to ONNX (opset 20), ONNX Runtime CPU provider',
}


def inference_path(model: nn.Module, path: str, x: torch.Tensor, onnx_file: str = '',
                   threads: int = 1) -> Tuple[Callable, torch.Tensor]:
    """``model`` prepared for one of :data:`INFERENCE_PATHS`, and its input.

    Args:
        model (nn.Module): An eval-mode one-input model (see :class:`TensorForward`),
            BN not folded; it is copied, not changed.
        path (str): A key of :data:`INFERENCE_PATHS`.
        x (torch.Tensor): The input to run and, where needed, to trace or export with.
        onnx_file (str): Where the ``onnxruntime`` path writes its ONNX file.
        threads (int): ONNX Runtime's intra-op threads (PyTorch uses its global setting).

    Returns:
        tuple: A callable and the input to call it with (in its memory format).
    """
    if path not in INFERENCE_PATHS:
        raise ValueError(f'inference path must be one of {list(INFERENCE_PATHS)}, '
                         f'got {path!r}')
    if path == 'eval':
        return model, x
    model = switch_to_deploy(copy.deepcopy(model))
    if path == 'folded':
        return model, x
    if path == 'channels_last':
        return (model.to(memory_format=torch.channels_last),
                x.to(memory_format=torch.channels_last))
    if path == 'torchscript':
        with torch.no_grad():
            return torch.jit.optimize_for_inference(torch.jit.trace(model, x)), x
    if path == 'compile':
        compiled = torch.compile(model)
        with torch.no_grad():
            compiled(x)  # compiles now, outside the timed runs
        return compiled, x
    if not onnx_file:
        raise ValueError('the onnxruntime path needs onnx_file, where to write the export')
    export_onnx(model, onnx_file, shape=tuple(x.shape))
    return tensor_forward(open_runtime(onnx_file, threads=threads)), x


def tensor_forward(runtime: Runtime) -> Callable:
    """``runtime`` (a file of one image input) called like the PyTorch model: a tensor in,
    a tensor or a tuple of them out."""
    name = runtime.input_names[0]

    def forward(x: torch.Tensor):
        outputs = [torch.from_numpy(out) for out in runtime.run({name: x.cpu().numpy()})]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    return forward


def wall_seconds(fn: Callable, x: torch.Tensor) -> float:
    """Seconds that one ``fn(x)`` takes on the host clock."""
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


def round_robin_seconds(calls: Dict[Hashable, Tuple[Callable, torch.Tensor]], rounds: int,
                        per_round: int = 1, warmup: int = 3,
                        timer: Callable[[Callable, torch.Tensor], float] = wall_seconds,
                        settle: int = 0, settle_s: float = 0.0) -> Dict[Hashable, List[float]]:
    """The seconds of every timed run of each ``fn(x)``, taken round-robin.

    Every call first runs ``warmup`` times; then each of ``rounds`` rounds runs every call
    ``per_round`` times in turn, so that a slow patch of the machine (turbo, a busy
    neighbour) hits every model alike and ratios between them stay fair.

    The first run of a turn finds the caches full of the model before it. A model of a
    few milliseconds pays for that in proportion (FasterNet-T0 in OpenVINO int8 on an AMX
    Xeon: 2.2 ms in a loop of its own, 4.9 ms after ResNet-50), so the ratio would depend
    on the neighbour; ``settle`` untimed runs at the start of each turn time every call
    warm, as a loop over one model does.

    A runtime on several threads needs more: ONNX Runtime's idle workers spin for tens of
    ms after a run, so a session timed right after another finds a core taken
    (FasterNet-T0 int8 on 2 threads of a 2-core EPYC: 2.1 ms in a loop of its own, 3.6 ms
    right after another session, 4-6 ms after 1-5 runs of its own, 2.2 ms after 20);
    ``settle_s`` runs each call untimed for at least that long at the start of its turn.

    Args:
        calls (dict): Maps a name to a callable and its input.
        rounds (int): Round-robin rounds.
        per_round (int): Consecutive runs of each call per round. Defaults to 1.
        warmup (int): Untimed runs of each call first. Defaults to 3.
        timer (Callable): Runs ``fn(x)`` once and returns its seconds. Defaults to
            :func:`wall_seconds`.
        settle (int): Untimed runs of each call at the start of its turn. Defaults to 0.
        settle_s (float): And untimed runs until at least this many seconds have passed.
            Defaults to 0.

    Returns:
        dict: ``rounds * per_round`` durations (s) of each name.
    """
    for fn, x in calls.values():
        for _ in range(warmup):
            fn(x)
    seconds = {name: [] for name in calls}
    for _ in range(rounds):
        for name, (fn, x) in calls.items():
            start = time.perf_counter()
            for _ in range(settle):
                fn(x)
            while time.perf_counter() - start < settle_s:
                fn(x)
            for _ in range(per_round):
                seconds[name].append(timer(fn, x))
    return seconds


@torch.no_grad()
def interleaved_latency_ms(calls: Dict[Hashable, Tuple[Callable, torch.Tensor]],
                           rounds: int = 5, per_round: int = 4, warmup: int = 3,
                           settle: int = 0, settle_s: float = 0.0) -> Dict[Hashable, float]:
    """Median wall time (ms) of each ``fn(x)``, measured round-robin (see
    :func:`round_robin_seconds`)."""
    seconds = round_robin_seconds(calls, rounds, per_round, warmup, settle=settle,
                                  settle_s=settle_s)
    return {name: statistics.median(values) * 1e3 for name, values in seconds.items()}


# Side of the square fp32 matmul whose rate stands for the machine's practical peak.
MATMUL_SIZE = 1024
MATMUL_MACS = MATMUL_SIZE**3


def matmul_call(n: int = MATMUL_SIZE, backend: str = 'pytorch',
                threads: int = 1) -> Tuple[Callable, torch.Tensor]:
    """An n x n fp32 matmul (``n**3`` multiply-adds) and its input: the machine's practical
    peak, to time in the same round-robin as the models, since this machine's speed drifts.

    Args:
        n (int): Matrix size. Defaults to 1024.
        backend (str): ``'pytorch'`` (its BLAS, on its global threads) or
            ``'onnxruntime'`` (MLAS, on ``threads``). Defaults to ``'pytorch'``.
        threads (int): ONNX Runtime's intra-op threads. Defaults to 1.
    """
    a, b = torch.randn(n, n), torch.randn(n, n)
    if backend == 'pytorch':
        return partial(torch.matmul, other=b), a
    if backend != 'onnxruntime':
        raise ValueError(f"backend must be 'pytorch' or 'onnxruntime', got {backend!r}")
    from onnx import TensorProto, helper
    spec = [helper.make_tensor_value_info(k, TensorProto.FLOAT, [n, n]) for k in 'abc']
    graph = helper.make_graph([helper.make_node('MatMul', ['a', 'b'], ['c'])], 'matmul',
                              spec[:2], spec[2:])
    session = RUNTIMES['onnxruntime'].session_of(
        helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)],
                          ir_version=8)  # opset 18's IR: every onnxruntime since 1.14 reads it
        .SerializeToString(), threads)
    b_array = b.numpy()
    return (lambda x: session.run(None, dict(a=x.numpy(), b=b_array))), a
