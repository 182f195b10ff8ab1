"""GPU throughput of FasterNet and its peers, the paper's way (batch 32, 224x224, BN folded,
warm-up, CUDA events, round-robin), in fp32, fp16 and bf16 autocast, contiguous and
channels_last; FasterNet-S against ResNet-50 as detection backbones (batch 1, 800x1333) and
as classifiers in AMP training. Writes gpu_benchmarks.md (the tables) and gpu_benchmarks.json
(every number, with the device and versions) into --out (benchmarks/gpu_benchmark.md).

    python -m benchmarks.gpu_benchmark [--out work_dirs/gpu_benchmark]
"""
import argparse
import os.path as osp
from typing import Tuple

import torch

from benchmarks.lab import report
from benchmarks.lab.gpu_report import MEMORY_FORMATS, PAPER_GPU, TIER_MODELS, GpuRun, gpu_benchmark
from benchmarks.lab.throughput import DETECTION_SHAPE, PRECISIONS, autocast_context
from mmfasternet.fileio import prepare_output_folder


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be positive, got {value}')
    return value


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'must be 0 or more, got {value}')
    return value


def parse_args() -> Tuple[GpuRun, str]:
    """The run that the command line asks for, and the output folder (created)."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cuda',
                        help='cuda (or cuda:N) for the measurement; cpu for a smoke run')
    parser.add_argument('--models', nargs='+', default=list(PAPER_GPU),
                        choices=list(dict.fromkeys([*PAPER_GPU, *TIER_MODELS])),
                        metavar='MODEL', help=f'any of: {", ".join(PAPER_GPU)}, or a model of '
                        f'benchmarks/peers.yml: {", ".join(TIER_MODELS)}')
    parser.add_argument('--peers', action='store_true',
                        help='also time every model of benchmarks/peers.yml\'s tiers (today\'s '
                        'peers, from timm) and say where each FasterNet stands on the '
                        'latency-accuracy front')
    parser.add_argument('--batch', type=positive, default=32)
    parser.add_argument('--shape', type=positive, nargs=2, default=[224, 224],
                        metavar=('H', 'W'))
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS,
                        help='autocast precisions; default fp32 fp16 bf16 on CUDA, fp32 bf16 '
                        'on the CPU')
    parser.add_argument('--memory-formats', nargs='+', choices=MEMORY_FORMATS,
                        default=list(MEMORY_FORMATS))
    parser.add_argument('--rounds', type=positive, default=20,
                        help='timed round-robin rounds, one run of every model each')
    parser.add_argument('--warmup', type=non_negative, default=5,
                        help='untimed runs of every model first')
    parser.add_argument('--detection-shape', type=non_negative, nargs='+',
                        default=list(DETECTION_SHAPE), metavar='N',
                        help='H W of the backbone latency rows (batch 1); 0 skips them')
    parser.add_argument('--train-batch', type=non_negative, default=64,
                        help='batch of the AMP training row; 0 skips it')
    parser.add_argument('--profile-runs', type=non_negative, default=5,
                        help='runs profiled of each compared model in its fastest setting, '
                        'for where the time goes by kind of kernel; 0 skips it')
    parser.add_argument('--out', default=osp.join('work_dirs', 'gpu_benchmark'),
                        help='folder for gpu_benchmarks.md (created if needed)')
    args = parser.parse_args()

    try:
        device = torch.device(args.device)
    except RuntimeError:
        parser.error(f'--device {args.device}: not a device; give cuda, cuda:N or cpu')
    if device.type not in ('cpu', 'cuda'):
        parser.error(f'--device {device}: give cuda, cuda:N or cpu')
    if device.type == 'cuda' and not torch.cuda.is_available():
        parser.error(f'--device {device}: CUDA is not available on this machine '
                     f'(torch {torch.__version__}, built for CUDA '
                     f'{torch.version.cuda or "none"}); run on a machine with an NVIDIA GPU '
                     f'and a CUDA build of torch, or give --device cpu for a smoke run')
    if device.type == 'cuda' and (device.index or 0) >= torch.cuda.device_count():
        parser.error(f'--device {device}: this machine has {torch.cuda.device_count()} GPU(s)')
    precisions = args.precisions or (list(PRECISIONS) if device.type == 'cuda'
                                     else ['fp32', 'bf16'])
    if args.detection_shape == [0]:
        detection_shape = None
    elif len(args.detection_shape) != 2 or 0 in args.detection_shape:
        parser.error(f'--detection-shape: give H W (both positive) or 0 to skip, got '
                     f'{" ".join(map(str, args.detection_shape))}')
    else:
        detection_shape = tuple(args.detection_shape)
    models = args.models + (TIER_MODELS if args.peers else [])
    run = GpuRun(device=device, models=list(dict.fromkeys(models)), batch=args.batch,
                 shape=tuple(args.shape), precisions=list(dict.fromkeys(precisions)),
                 memory_formats=list(dict.fromkeys(args.memory_formats)), rounds=args.rounds,
                 warmup=args.warmup, detection_shape=detection_shape,
                 train_batch=args.train_batch, profile_runs=args.profile_runs)
    for precision in [*run.precisions, run.train_precision]:
        try:
            autocast_context(precision, device)
        except ValueError as error:
            parser.error(f'--precisions {precision}: {error}')
    prepare_output_folder(parser, args.out)
    return run, args.out


def main() -> None:
    run, out = parse_args()
    lines, record = gpu_benchmark(run)
    report.write_results(lines, osp.join(out, 'gpu_benchmarks.md'), record,
                         osp.join(out, 'gpu_benchmarks.json'))


if __name__ == '__main__':
    main()
