"""The paper's Tab. 1 on this machine: FLOPs, latency and achieved FLOPS of 10 stacked 3x3
Conv, GConv (16 groups), DWConv and PConv (r = 1/4) layers, plus the machine's matmul rate.

    python -m benchmarks.operator_flops [--out work_dirs/operator_flops]
"""
import argparse
import os.path as osp

import torch

from benchmarks.lab.operators import operator_rates, operator_table, plot_operator_rates
from benchmarks.lab.report import header, write_results
from mmfasternet.engine.tool_config import stops_with_a_message
from mmfasternet.fileio import prepare_output_folder


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
    cells, rates, peak = operator_rates(args.rounds)
    lines = header(
        'Operator FLOPS (paper Tab. 1) on this machine', 'benchmarks.operator_flops',
        f'{args.threads} thread(s), batch 1, 10 stacked layers, median of {4 * args.rounds} '
        f'runs taken round-robin over the operators. FLOPs are multiply-adds. A 1024x1024 '
        f'fp32 matmul, timed in the same round-robins, reaches {peak:.1f} GFLOPS here (median '
        f'over the four).')
    lines += operator_table(cells, rates) + ['', '![operator FLOPS](operator_flops.png)']
    with stops_with_a_message():  # the chart first: the table shows it
        plot_operator_rates(rates, peak, args.threads, osp.join(args.out, 'operator_flops.png'))
        write_results(lines, osp.join(args.out, 'operator_flops.md'))


if __name__ == '__main__':
    main()
