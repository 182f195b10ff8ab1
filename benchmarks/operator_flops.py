"""The paper's Tab. 1 on this machine: FLOPs, latency and achieved FLOPS of 10 stacked 3x3
Conv, GConv (16 groups), DWConv and PConv (r = 1/4) layers, plus the machine's matmul rate.

    python tools/analysis/operator_flops.py [--out work_dirs/operator_flops]
"""
import argparse
import os.path as osp
import platform
import statistics

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from benchmarks.lab.latency import MATMUL_MACS, interleaved_latency_ms, matmul_call  # noqa: E402
from benchmarks.lab.operators import OPERATOR_KINDS, operator_stack  # noqa: E402
from mmfasternet.analysis import count_model  # noqa: E402
from mmfasternet.engine.tool_config import stops_with_a_message  # noqa: E402
from mmfasternet.fileio import (prepare_output_folder, save_figure_atomically,  # noqa: E402
                                write_text_atomically)

KINDS = OPERATOR_KINDS
# Paper Tab. 1: feature maps (channels, height = width) of the operator comparison.
OPERATOR_FEATURE_MAPS = ((96, 56), (192, 28), (384, 14), (768, 7))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=5,
                        help='round-robin rounds of 4 runs per operator')
    parser.add_argument('--out', default=osp.join('work_dirs', 'operator_flops'),
                        help='folder for operator_flops.md and the chart (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    torch.set_num_threads(args.threads)
    matmul_rates = []
    rates = {kind: [] for kind in KINDS}
    rows = {kind: [] for kind in KINDS}
    for channels, size in OPERATOR_FEATURE_MAPS:
        x = torch.randn(1, channels, size, size)
        calls = {kind: (operator_stack(kind, channels), x) for kind in KINDS}
        # FLOPs counted on the very modules that are timed (multiply-adds, mmengine's counter).
        macs = {kind: count_model(calls[kind][0], (x, ))['gflops'] * 1e9 for kind in KINDS}
        calls['matmul'] = matmul_call()
        latency = interleaved_latency_ms(calls, rounds=args.rounds)
        matmul_rates.append(MATMUL_MACS / latency['matmul'] / 1e6)
        for kind in KINDS:
            rates[kind].append(macs[kind] / latency[kind] / 1e6)
            rows[kind].append(f'| {kind} | {channels}x{size}x{size} | {macs[kind] / 1e6:.1f} | '
                              f'{latency[kind]:.2f} | {rates[kind][-1]:.1f} |')
            print(rows[kind][-1], flush=True)
    peak = statistics.median(matmul_rates)
    lines = [
        '# Operator FLOPS (paper Tab. 1) on this machine', '',
        f'`python tools/analysis/operator_flops.py`: {platform.processor() or platform.machine()}'
        f', torch {torch.__version__}, {args.threads} thread(s), batch 1, 10 stacked layers, '
        f'median of {4 * args.rounds} runs taken round-robin over the operators. FLOPs are '
        f'multiply-adds. A 1024x1024 fp32 matmul, timed in the same round-robins, reaches '
        f'{peak:.1f} GFLOPS here (median over the four).', '',
        '| operator | feature map | FLOPs (M) | latency (ms) | FLOPS (G/s) |',
        '|---|---|---|---|---|']
    for kind in KINDS:
        lines += rows[kind]
        lines.append(f'| {kind} | average | | | {sum(rates[kind]) / len(rates[kind]):.1f} |')
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.2
    for k, kind in enumerate(KINDS):
        ax.bar([i + (k - 1.5) * width for i in range(len(OPERATOR_FEATURE_MAPS))], rates[kind],
               width, label=kind)
    ax.axhline(peak, color='black', linestyle='--', linewidth=1, label='matmul 1024^2')
    ax.set_xticks(range(len(OPERATOR_FEATURE_MAPS)))
    ax.set_xticklabels([f'{c}x{s}x{s}' for c, s in OPERATOR_FEATURE_MAPS])
    ax.set_ylabel('achieved GFLOPS (multiply-adds / s)')
    ax.set_title(f'10 stacked 3x3 layers, batch 1, {args.threads} thread(s)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    lines.append('\n![operator FLOPS](operator_flops.png)\n')
    with stops_with_a_message():  # the chart first: the table shows it
        save_figure_atomically(fig, osp.join(args.out, 'operator_flops.png'))
        write_text_atomically('\n'.join(lines), osp.join(args.out, 'operator_flops.md'))
    print(f'wrote {args.out}/operator_flops.md and {args.out}/operator_flops.png')


if __name__ == '__main__':
    main()
