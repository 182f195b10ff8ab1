"""Where the time goes on the deploy path: the per-operator profile of FasterNet and its
peers in every runtime and precision (ONNX Runtime fp32/int8, OpenVINO fp32/int8, and bf16
on a CPU with it), with the multiply-add rate of each kind of conv; batch 1, one thread,
224x224, BN folded, random weights, int8 quantised as the deploy path does.

    python tools/analysis/profile_runtimes.py [--out work_dirs/profile]
"""
import argparse
import copy
import os.path as osp
import tempfile

import torch

from benchmarks.lab.latency import build_classifier
from benchmarks.lab.low_precision import profile_row, quantized_copies, runnable_rows
from benchmarks.lab.peers import PATH_PAIRS
from mmfasternet.deploy import export_onnx, switch_to_deploy
from mmfasternet.deploy.runtimes import cpu_name_and_flags
from mmfasternet.engine.tool_config import stops_with_a_message
from mmfasternet.fileio import prepare_output_folder, write_text_atomically


def conv_share(kinds: dict) -> tuple:
    """Share of the time in convs and fully connected layers, and their G multiply-adds/s."""
    ms = sum(ms for ms, macs in kinds.values() if macs)
    macs = sum(macs for _, macs in kinds.values())
    return ms / sum(ms for ms, _ in kinds.values()), macs / ms * 1e3


def kinds_table(title: str, kinds: dict) -> list:
    total_ms = sum(ms for ms, _ in kinds.values())
    lines = ['', f'### {title}: {total_ms:.2f} ms', '',
             '| operator | ms | share | GMACs | GMAC/s |', '|---|---|---|---|---|']
    for kind, (ms, macs) in sorted(kinds.items(), key=lambda item: -item[1][0]):
        rate = f'{macs / ms * 1e3:.1f}' if macs else ''
        lines.append(f'| {kind} | {ms:.3f} | {100 * ms / total_ms:.1f}% | '
                     f'{macs:.3f} | {rate} |')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--out', default=osp.join('work_dirs', 'profile'),
                        help='folder for profile.md (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    names = [name for pair in PATH_PAIRS for name in pair]
    rows = runnable_rows()
    feeds = dict(image=torch.randn(1, 3, 224, 224).numpy())
    profiles = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            fp32 = osp.join(workdir, f'{name}.onnx')
            export_onnx(switch_to_deploy(copy.deepcopy(build_classifier(name))), fp32,
                        (1, 3, 224, 224))
            int8 = quantized_copies(fp32, [dict(image=torch.randn(1, 3, 224, 224).numpy())
                                           for _ in range(8)])
            for runtime, precision in rows:
                profiles[name, runtime, precision] = profile_row(fp32, int8, runtime,
                                                                 precision, feeds, args.runs)
                print(name, runtime, precision, flush=True)
    cpu, flags = cpu_name_and_flags()
    lines = ['# Profile of the deploy path', '',
             f'`python tools/analysis/profile_runtimes.py` on {cpu} (int8/bf16 instructions: '
             f'{", ".join(flags) or "none"}): ms per run by kind of operator, mean of '
             f'{args.runs} profiled runs (1 thread, batch 1, 224x224, BN folded, random '
             f'weights; int8 calibrated on 8 random images). GMAC/s: multiply-adds of convs '
             f'and fully connected layers over their time. Profiling adds some time to '
             f'each operator, and the models run one after another, not round-robin: the '
             f'benchmark gives the latencies to compare.', '',
             '| runtime | precision | ' + ' | '.join(names) + ' |',
             '|---|---|' + '---|' * len(names),
             ]
    for runtime, precision in rows:
        cells = []
        for name in names:
            kinds = profiles[name, runtime, precision]
            share, rate = conv_share(kinds)
            cells.append(f'{sum(ms for ms, _ in kinds.values()):.2f} ms, convs {100 * share:.0f}% '
                         f'at {rate:.0f} GMAC/s')
        lines.append(f'| {runtime} | {precision} | ' + ' | '.join(cells) + ' |')
    for name in names:
        lines += ['', f'## {name}']
        for runtime, precision in rows:
            lines += kinds_table(f'{runtime} {precision}', profiles[name, runtime, precision])
    with stops_with_a_message():
        write_text_atomically('\n'.join(lines) + '\n', osp.join(args.out, 'profile.md'))
    print(f'wrote {args.out}/profile.md')


if __name__ == '__main__':
    main()
