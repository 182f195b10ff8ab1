"""How far :func:`~mmfasternet.models.backbone_swap.swap_in_fasternet` reaches in the model
zoos of the installed libraries: every config of mmdet, mmseg, mmpose and mmyolo (their
``.mim/configs``, ``_base_`` folders left out) is built and run once as it is (the control)
and once with FasterNet-T0 swapped in, on a small synthetic batch on the CPU (mmdet, mmyolo and
mmpose predict, mmseg computes its losses, which runs its auxiliary heads too). A config
whose control fails cannot run on this machine and does not count against the swap. Each
config runs in a forked process of its own with a time limit (benchmarks.lab.swap_zoo).
Writes swap_zoo.json (a record per config) and swap_zoo.md (tables by library and family,
the refusals by reason, every failure) into --out.

    python -m benchmarks.swap_zoo [--libraries mmdet mmseg mmpose mmyolo] [--workers 2]
        [--timeout 300] [--sample 40 | --every 10] [--out work_dirs/swap_zoo]
    python -m benchmarks.swap_zoo --configs 'mmdet::retinanet/*' 'mmseg::segformer/*'
"""
import argparse
import os.path as osp
import time

from benchmarks.lab import report
from benchmarks.lab.swap_zoo import (LIBRARIES, library_counts, markdown, run_all, run_summary,
                                     select)
from mmfasternet.fileio import prepare_output_folder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--libraries', nargs='+', choices=LIBRARIES, default=list(LIBRARIES))
    parser.add_argument('--configs', nargs='+', metavar='PATTERN',
                        help="fnmatch patterns of 'library::path', e.g. 'mmdet::yolox/*'")
    picks = parser.add_mutually_exclusive_group()
    picks.add_argument('--sample', type=int, help='N configs per library, evenly spread')
    picks.add_argument('--every', type=int, default=1, help='every K-th config')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--timeout', type=float, default=300, help='seconds per config')
    parser.add_argument('--out', default=osp.join('work_dirs', 'swap_zoo'),
                        help='folder for swap_zoo.md and swap_zoo.json (created if needed)')
    args = parser.parse_args()
    if args.every < 1 or args.workers < 1 or (args.sample is not None and args.sample < 1):
        parser.error('--every, --workers and --sample take positive numbers')
    prepare_output_folder(parser, args.out)
    return args


def main() -> None:
    args = parse_args()
    jobs = select(args.libraries, args.configs, args.sample, args.every)
    if not jobs:
        raise SystemExit(f'no config of {", ".join(args.libraries)} matches {args.configs}')
    start = time.monotonic()
    records = run_all(jobs, args.workers, args.timeout)
    summary = run_summary(report.command('benchmarks.swap_zoo'), args.libraries,
                          time.monotonic() - start)
    print('\n'.join(library_counts(records, args.libraries)))
    print(f'{len(records)} configs in {summary["seconds"]:.0f} s')
    report.write_results(markdown(summary, records), osp.join(args.out, 'swap_zoo.md'),
                         dict(summary, configs=records), osp.join(args.out, 'swap_zoo.json'))


if __name__ == '__main__':
    main()
