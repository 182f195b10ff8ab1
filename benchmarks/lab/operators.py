"""The operators of the paper's Tab. 1, as stacks to time and count, their achieved rate on
this machine beside its matmul's, and its table and chart
(``python -m benchmarks.operator_flops``)."""
import statistics
from typing import Dict, List, Tuple

import torch
import torch.nn as nn

from mmfasternet.analysis import count_model
from mmfasternet.models.backbones.fasternet import PartialConv
from .latency import MATMUL_MACS, interleaved_latency_ms, matmul_call
from .report import figure, markdown_table, save_plot

OPERATOR_KINDS = ('conv', 'gconv', 'dwconv', 'pconv')
# Paper Tab. 1: feature maps (channels, height = width) of the operator comparison.
OPERATOR_FEATURE_MAPS = ((96, 56), (192, 28), (384, 14), (768, 7))


def operator_stack(kind: str, channels: int, layers: int = 10) -> nn.Module:
    """Ten stacked 3x3 layers of one operator kind, as in the paper's Tab. 1:
    ``conv``, ``gconv`` (16 groups), ``dwconv`` or ``pconv`` (r = 1/4).

    Args:
        kind (str): One of :data:`OPERATOR_KINDS`.
        channels (int): Input and output channels of every layer.
        layers (int): How many layers to stack. Defaults to 10.
    """
    if kind not in OPERATOR_KINDS:
        raise ValueError(f'kind must be one of {OPERATOR_KINDS}, got {kind!r}')

    def layer():
        if kind == 'pconv':
            return PartialConv(channels, 4)
        groups = dict(conv=1, gconv=16, dwconv=channels)[kind]
        return nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=False)

    return nn.Sequential(*[layer() for _ in range(layers)]).eval()


def operator_rates(rounds: int) -> Tuple[Dict[str, List[list]], Dict[str, List[float]], float]:
    """Time every kind's stack at each of :data:`OPERATOR_FEATURE_MAPS`, round-robin with
    the matmul (``rounds`` rounds of 4 runs), on PyTorch's threads.

    Returns:
        tuple: Each kind's table rows (feature map, M multiply-adds, ms, G multiply-adds/s)
        and rates (G multiply-adds/s), one per feature map, and the matmul's median rate.
    """
    cells = {kind: [] for kind in OPERATOR_KINDS}
    rates = {kind: [] for kind in OPERATOR_KINDS}
    matmul_rates = []
    for channels, size in OPERATOR_FEATURE_MAPS:
        x = torch.randn(1, channels, size, size)
        calls = {kind: (operator_stack(kind, channels), x) for kind in OPERATOR_KINDS}
        # FLOPs counted on the very modules that are timed (multiply-adds, mmengine's counter).
        macs = {kind: count_model(calls[kind][0], (x, ))['gflops'] * 1e9
                for kind in OPERATOR_KINDS}
        calls['matmul'] = matmul_call()
        latency = interleaved_latency_ms(calls, rounds=rounds)
        matmul_rates.append(MATMUL_MACS / latency['matmul'] / 1e6)
        for kind in OPERATOR_KINDS:
            rates[kind].append(macs[kind] / latency[kind] / 1e6)
            cells[kind].append([kind, f'{channels}x{size}x{size}', f'{macs[kind] / 1e6:.1f}',
                                f'{latency[kind]:.2f}', f'{rates[kind][-1]:.1f}'])
            print(' | '.join(cells[kind][-1]), flush=True)
    return cells, rates, statistics.median(matmul_rates)


def operator_table(cells: Dict[str, List[list]], rates: Dict[str, List[float]]) -> List[str]:
    """The rows of :func:`operator_rates`, and each kind's average rate after its rows."""
    rows = []
    for kind in OPERATOR_KINDS:
        rows += cells[kind] + [[kind, 'average', '', '', f'{statistics.mean(rates[kind]):.1f}']]
    return markdown_table(
        ['operator', 'feature map', 'FLOPs (M)', 'latency (ms)', 'FLOPS (G/s)'], rows)


def plot_operator_rates(rates: Dict[str, List[float]], peak: float, threads: int,
                        path: str) -> None:
    """Bars of each kind's rate at each feature map, under the matmul's ``peak``; saved to
    ``path``."""
    width = 0.2
    with figure(figsize=(8, 4.5), dpi=100) as (fig, ax):
        for k, kind in enumerate(OPERATOR_KINDS):
            ax.bar([i + (k - 1.5) * width for i in range(len(OPERATOR_FEATURE_MAPS))],
                   rates[kind], width, label=kind)
        ax.axhline(peak, color='black', linestyle='--', linewidth=1, label='matmul 1024^2')
        ax.set_xticks(range(len(OPERATOR_FEATURE_MAPS)))
        ax.set_xticklabels([f'{c}x{s}x{s}' for c, s in OPERATOR_FEATURE_MAPS])
        ax.set_ylabel('achieved GFLOPS (multiply-adds / s)')
        ax.set_title(f'10 stacked 3x3 layers, batch 1, {threads} thread(s)')
        ax.legend(fontsize=8)
        save_plot(fig, path)
