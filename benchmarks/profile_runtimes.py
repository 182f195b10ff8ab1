"""Where the time goes on the deploy path: the per-operator profile of FasterNet and its
peers in every runtime and precision (ONNX Runtime fp32/int8, OpenVINO fp32/int8, and bf16
on a CPU with it), with the multiply-add rate of each kind of conv; batch 1, one thread,
224x224, BN folded, random weights, int8 quantised as the deploy path does.

    python -m benchmarks.profile_runtimes [--out work_dirs/profile]
"""
import argparse
import os.path as osp
import tempfile

from benchmarks.lab.low_precision import runnable_rows
from benchmarks.lab.peers import PATH_PAIRS
from benchmarks.lab.report import header, write_results
from benchmarks.lab.runtime_profile import deployed_profiles, model_sections, summary_table
from mmfasternet.engine.tool_config import stops_with_a_message
from mmfasternet.fileio import prepare_output_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--out', default=osp.join('work_dirs', 'profile'),
                        help='folder for profile.md (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    names = [name for pair in PATH_PAIRS for name in pair]
    rows = runnable_rows()
    with tempfile.TemporaryDirectory() as workdir:
        profiles = deployed_profiles(names, rows, args.runs, workdir)
    lines = header(
        'Profile of the deploy path', 'benchmarks.profile_runtimes',
        f'Ms per run by kind of operator, mean of {args.runs} profiled runs (1 thread, batch '
        f'1, 224x224, BN folded, random weights; int8 calibrated on 8 random images). GMAC/s: '
        f'multiply-adds of convs and fully connected layers over their time. Profiling adds '
        f'some time to each operator, and the models run one after another, not round-robin: '
        f'the benchmark gives the latencies to compare.')
    lines += summary_table(names, rows, profiles) + model_sections(names, rows, profiles)
    with stops_with_a_message():
        write_results(lines, osp.join(args.out, 'profile.md'))


if __name__ == '__main__':
    main()
