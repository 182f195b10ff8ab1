"""How close FasterNet's deploy form runs to its kernels: each model's latency over that of
its kernel floor (its convs alone, at its own shapes, as chains of plain convs with the same
multiply-adds: benchmarks.lab.kernel_floor), both exported, quantised and timed the same way
in every runtime and precision, side by side in one round-robin per row; and the
per-operator profile of both, which says what fills the gap. Writes kernel_floor.md and
kernel_floor.json into --out (this project's own results are in benchmarks/results/).

    python -m benchmarks.kernel_floor [--models fasternet_t0 fasternet_s]
        [--out work_dirs/kernel_floor]
"""
import argparse
import os
import os.path as osp
import tempfile

from benchmarks.lab.kernel_floor import (deployed_with_floor, floor_note, floor_record, floor_table,
                                         profile_section, time_and_profile)
from benchmarks.lab.low_precision import runnable_rows
from benchmarks.lab.report import header, write_results
from mmfasternet.fileio import prepare_output_folder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['fasternet_t0', 'fasternet_s'],
                        choices=[f'fasternet_{a}' for a in ('t0', 't1', 't2', 's', 'm', 'l')])
    parser.add_argument('--rows', nargs='+', metavar='RUNTIME:PRECISION',
                        choices=[f'{r}:{p}' for r, p in runnable_rows()],
                        help='time only these runtimes and precisions (default: all)')
    parser.add_argument('--rounds', type=int, default=20)
    parser.add_argument('--profile-runs', type=int, default=20)
    parser.add_argument('--calibration-images', type=int, default=8)
    parser.add_argument('--out', default=osp.join('work_dirs', 'kernel_floor'),
                        help='folder for the results (created if needed)')
    args = parser.parse_args()
    args.rows = [tuple(r.split(':')) for r in args.rows] if args.rows else runnable_rows()
    prepare_output_folder(parser, args.out)
    return args


def main() -> None:
    args = parse_args()
    thread_counts = sorted({1, os.cpu_count()})
    with tempfile.TemporaryDirectory() as workdir:
        files = {}
        for name in args.models:
            files.update(deployed_with_floor(name, workdir, args.calibration_images))
        latency, profiles = time_and_profile(files, args.rows, thread_counts, args.rounds,
                                             args.profile_runs)
    lines = header('FasterNet against its kernel floor', 'benchmarks.kernel_floor',
                   floor_note(args.calibration_images, args.rounds))
    lines += floor_table(args.models, args.rows, thread_counts, latency)
    lines += profile_section(args.models, args.rows, profiles, args.profile_runs)
    write_results(lines, osp.join(args.out, 'kernel_floor.md'), floor_record(latency),
                  osp.join(args.out, 'kernel_floor.json'))


if __name__ == '__main__':
    main()
