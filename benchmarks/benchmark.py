"""Latency of FasterNet and its peers on this machine, the paper's way (batch 1, one thread,
224x224, BN folded, median after warm-up), in PyTorch and in ONNX Runtime; batch-32
throughput; FasterNet-S against ResNet-50 on every inference path and inside Mask R-CNN and
UperNet; with --low-precision, every runtime and precision of the deploy path (ONNX Runtime
fp32/int8, OpenVINO fp32/bf16/int8), at batch 1 and in batch-32 throughput. Writes
benchmarks.md, benchmarks.json and a latency-vs-accuracy plot like the paper's Figure 1 into
--out (this project's own results are in benchmarks/results/).

    python -m benchmarks.benchmark [--out work_dirs/benchmark] [--low-precision]
        [--no-detectors]
"""
import argparse
import os.path as osp
import tempfile

import torch

from benchmarks.lab.cpu_benchmark import (PAPER, classifier_section, dense_section,
                                          low_precision_section, paths_section,
                                          plot_latency_vs_accuracy)
from benchmarks.lab.report import header, write_results
from mmfasternet.fileio import prepare_output_folder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+', default=list(PAPER), choices=list(PAPER),
                        metavar='MODEL', help=f'any of: {", ".join(PAPER)}')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=20,
                        help='round-robin rounds of one run per model: this machine\'s speed '
                        'drifts, and fine interleaving keeps the ratios fair')
    parser.add_argument('--throughput-batch', type=int, default=32,
                        help='batch for the throughput column (all cores); 0 skips it')
    parser.add_argument('--paths', action='store_true',
                        help='also time every inference path of S, T0 and their peers')
    parser.add_argument('--dense', action='store_true',
                        help='also time Mask R-CNN and UperNet, FasterNet-S vs ResNet-50')
    parser.add_argument('--dense-rounds', type=int, default=5)
    parser.add_argument('--low-precision', action='store_true',
                        help='also time every runtime and precision of the deploy path: T0, '
                        'S and their peers, and the whole Mask R-CNN S and R50 at 1333x800 '
                        '(--dense-rounds), at batch 1 on --threads, and the classifiers at '
                        '--low-precision-batch on 1 thread and on every core; writes '
                        'benchmarks.json')
    parser.add_argument('--low-precision-batch', type=int, default=32,
                        help='batch of the low-precision throughput rows; 0 skips them')
    parser.add_argument('--batch-rounds', type=int, default=5,
                        help='round-robin rounds of the low-precision throughput rows (a '
                        'batch of 32 of ResNet-50 fp32 on one thread takes seconds)')
    parser.add_argument('--no-detectors', dest='detectors', action='store_false',
                        help='--low-precision without the whole Mask R-CNN')
    parser.add_argument('--out', default=osp.join('work_dirs', 'benchmark'),
                        help='folder for benchmarks.md and the plot (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    record = None
    with tempfile.TemporaryDirectory() as workdir:
        note, table, points = classifier_section(args.models, args.threads, args.rounds,
                                                 args.throughput_batch, workdir)
        lines = header('CPU benchmark', 'benchmarks.benchmark', note) + table
        if args.paths:
            lines += paths_section(args.threads, args.rounds, workdir)
        if args.dense:
            lines += dense_section(args.threads, args.dense_rounds, workdir)
        if args.low_precision:
            section, record = low_precision_section(
                args.threads, args.rounds, args.low_precision_batch, args.batch_rounds,
                args.dense_rounds if args.detectors else 0, workdir)
            lines += section
    plot_latency_vs_accuracy(points, args.threads, osp.join(args.out, 'latency_vs_accuracy.png'))
    write_results(lines + ['', '![latency vs accuracy](latency_vs_accuracy.png)'],
                  osp.join(args.out, 'benchmarks.md'), record,
                  osp.join(args.out, 'benchmarks.json'))


if __name__ == '__main__':
    main()
