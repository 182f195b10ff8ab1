"""CPU latency of FasterNet and its peers, measured the paper's way, on every inference path.

The protocol of the paper (Sec. 4): batch 1, one thread, 224x224 input, BN folded into the
convs, warm-up runs, then the median of repeated runs. Models are timed round-robin, so that
ratios between them are fair on a machine whose speed drifts.
"""
import copy
import statistics
import time
from functools import partial
from typing import Callable, Dict, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config

from mmfasternet.analysis import TensorForward, build_model
from mmfasternet.deploy import switch_to_deploy
from mmfasternet.runtime import OnnxRuntimeModel, onnxruntime_session

# Paper Tab. 3: ImageNet top-1 (%) and i9-9900X single-thread latency (ms), by the names
# mmpretrain gives the same architectures.
PAPER = {
    'fasternet_t0': (71.9, 9.2), 'fasternet_t1': (76.2, 17.7), 'fasternet_t2': (78.9, 33.5),
    'fasternet_s': (81.3, 71.2), 'fasternet_m': (83.0, 129.5), 'fasternet_l': (83.5, 219.5),
    'mobilenet-v2_8xb32_in1k': (72.0, 12.2),
    'mobilevit-xxsmall_3rdparty_in1k': (69.0, 30.8),
    'mobilevit-xsmall_3rdparty_in1k': (74.8, 40.8),
    'mobilevit-small_3rdparty_in1k': (78.4, 56.7),
    'edgenext-xxsmall_3rdparty_in1k': (71.2, 15.7),
    'edgenext-xsmall_3rdparty_in1k': (75.0, 24.4),
    'edgenext-small_3rdparty_in1k': (79.4, 39.2),
    'poolformer-s12_3rdparty_32xb128_in1k': (77.2, 49.0),
    'poolformer-s24_3rdparty_32xb128_in1k': (80.3, 92.8),
    'poolformer-s36_3rdparty_32xb128_in1k': (81.4, 138.0),
    'poolformer-m36_3rdparty_32xb128_in1k': (82.1, 215.0),
    'poolformer-m48_3rdparty_32xb128_in1k': (82.5, 281.8),
    'resnet50_8xb32_in1k': (78.8, 73.0),
    'convnext-tiny_32xb128_in1k': (82.1, 86.3),
    'convnext-small_32xb128_in1k': (83.1, 153.2),
    'convnext-base_32xb128_in1k': (83.8, 257.1),
    'swin-tiny_16xb64_in1k': (81.3, 122.2),
    'swin-small_16xb64_in1k': (83.0, 224.2),
    'swin-base_16xb64_in1k': (83.5, 349.2),
}


def build_classifier(name: str, repo_root: str = '.') -> TensorForward:
    """An eval-mode classifier with its ``mode='tensor'`` forward, BN not folded:
    ``fasternet_<arch>`` from this project's configs, anything else from mmpretrain's model
    zoo (architecture only, no weights)."""
    if name.startswith('fasternet_'):
        model = build_model(Config.fromfile(f'{repo_root}/configs/{name}_in1k.py'))
    else:
        import mmpretrain
        model = mmpretrain.get_model(name, pretrained=False)
    return TensorForward(model.eval(), mode='tensor')


def fold_bn(model: nn.Module) -> nn.Module:
    """Fold every BN into the conv before it: FasterNet's ``switch_to_deploy`` for its
    backbones, mmcv's ``fuse_conv_bn`` for every other network."""
    return fuse_conv_bn(switch_to_deploy(model))


# Ways to run a model for inference on the CPU, each measured in docs/benchmarks.md.
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
    model = fold_bn(copy.deepcopy(model))
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
    return OnnxRuntimeModel.from_model(model, onnx_file, tuple(x.shape), threads), x


@torch.no_grad()
def interleaved_latency_ms(calls: Dict[str, Tuple[Callable, torch.Tensor]], rounds: int = 5,
                           per_round: int = 4, warmup: int = 3) -> Dict[str, float]:
    """Median wall time (ms) of each ``fn(x)``, measured round-robin so that a slow patch
    of the machine (turbo, a busy neighbour) hits every model alike and ratios between
    them stay fair."""
    for fn, x in calls.values():
        for _ in range(warmup):
            fn(x)
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, (fn, x) in calls.items():
            for _ in range(per_round):
                start = time.perf_counter()
                fn(x)
                times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


# Side of the square fp32 matmul whose rate stands for the machine's practical peak.
MATMUL_SIZE = 1024


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
    session = onnxruntime_session(
        helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)],
                          ir_version=8)  # opset 18's IR: every onnxruntime since 1.14 reads it
        .SerializeToString(), threads)
    b_array = b.numpy()
    return (lambda x: session.run(None, dict(a=x.numpy(), b=b_array))), a


# Detector and segmentor with FasterNet-S against the same with ResNet-50:
# (FasterNet-S config, ResNet-50 config, input height and width).
DENSE_PAIRS = {
    'Mask R-CNN': ('configs/mask_rcnn_fasternet_s.py',
                   'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', (800, 1333)),
    'UperNet': ('configs/upernet_fasternet_s.py',
                'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py', (512, 512)),
}


# Paper Tab. 1: feature maps (channels, height = width) of the operator comparison.
OPERATOR_FEATURE_MAPS = ((96, 56), (192, 28), (384, 14), (768, 7))


def operator_stack(kind: str, channels: int, layers: int = 10) -> nn.Module:
    """Ten stacked 3x3 layers of one operator kind, as in the paper's Tab. 1:
    ``conv``, ``gconv`` (16 groups), ``dwconv`` or ``pconv`` (r = 1/4)."""
    from mmfasternet.models.backbones.fasternet import PartialConv

    def layer():
        if kind == 'pconv':
            return PartialConv(channels, 4)
        groups = dict(conv=1, gconv=16, dwconv=channels)[kind]
        return nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=False)

    return nn.Sequential(*[layer() for _ in range(layers)]).eval()

