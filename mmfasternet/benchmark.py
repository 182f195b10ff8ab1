"""CPU latency of FasterNet and its ImageNet peers, measured the paper's way.

The protocol of the paper (Sec. 4): batch 1, one thread, 224x224 input, BN folded into the
convs, warm-up runs, then the median of repeated runs.
"""
import statistics
import time
from functools import partial
from typing import Callable, Dict, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config

from mmfasternet.analysis import build_model
from mmfasternet.deploy import switch_to_deploy

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


def build_classifier(name: str, repo_root: str = '.', fold_bn: bool = True) -> nn.Module:
    """An eval-mode classifier, BN folded unless ``fold_bn=False``: ``fasternet_<arch>``
    from this project's configs, anything else from mmpretrain's model zoo (architecture
    only, no weights)."""
    if name.startswith('fasternet_'):
        model = build_model(Config.fromfile(f'{repo_root}/configs/{name}_in1k.py'))
        return switch_to_deploy(model) if fold_bn else model
    import mmpretrain
    model = mmpretrain.get_model(name, pretrained=False).eval()
    return fuse_conv_bn(model) if fold_bn else model


def classifier_call(model: nn.Module, shape: Tuple[int, ...] = (1, 3, 224, 224),
                    channels_last: bool = False) -> Tuple[Callable, torch.Tensor]:
    """A classifier's ``mode='tensor'`` forward and an input for it."""
    x = torch.randn(*shape)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    return partial(model, mode='tensor'), x


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


def matmul_gmacs(n: int = 1024, repeats: int = 10) -> float:
    """Multiply-adds per second (G) of an n x n fp32 matmul on the current threads: the
    machine's practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return n**3 * repeats / (time.perf_counter() - start) / 1e9


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


def operator_macs(kind: str, channels: int, size: int, layers: int = 10) -> float:
    """Multiply-adds of :func:`operator_stack` on one ``channels x size x size`` map."""
    per_position = {'conv': 9 * channels**2, 'gconv': 9 * channels**2 / 16,
                    'dwconv': 9 * channels, 'pconv': 9 * (channels // 4)**2}[kind]
    return per_position * size * size * layers
