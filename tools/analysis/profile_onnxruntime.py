"""Where the time goes: ONNX Runtime's per-operator profile of FasterNet and its peers
(batch 1, one thread, 224x224, BN folded), with the multiply-add rate of each kind of conv.

    python tools/analysis/profile_onnxruntime.py [--out work_dirs/profile_onnxruntime]
"""
import argparse
import os.path as osp
import platform
import tempfile

import torch

from mmfasternet.analysis import build_classifier, inference_path
from mmfasternet.analysis import profile_onnxruntime
from mmfasternet.fileio import prepare_output_folder, write_text_atomically


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+',
                        default=['fasternet_s', 'resnet50_8xb32_in1k', 'fasternet_t0',
                                 'mobilenet-v2_8xb32_in1k'])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--out', default=osp.join('work_dirs', 'profile_onnxruntime'),
                        help='folder for profile_onnxruntime.md (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    x = torch.randn(1, 3, 224, 224)
    lines = ['# ONNX Runtime profile', '',
             f'`python tools/analysis/profile_onnxruntime.py` on '
             f'{platform.processor() or platform.machine()}: time per run by kind of '
             f'operator, mean of {args.runs} profiled runs (1 thread, batch 1, 224x224, BN '
             f'folded, opset 20). Profiling adds some overhead to each operator.']
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            onnx_file = osp.join(workdir, f'{name}.onnx')
            inference_path(build_classifier(name), 'onnxruntime', x, onnx_file)
            kinds = profile_onnxruntime(onnx_file, x, runs=args.runs)
            total_ms = sum(ms for ms, _ in kinds.values())
            total_macs = sum(macs for _, macs in kinds.values())
            lines += ['', f'## {name}: {total_ms:.1f} ms, {total_macs:.2f} GMACs, '
                      f'{total_macs / total_ms * 1e3:.1f} GMAC/s', '',
                      '| operator | ms | share | GMACs | GMAC/s |', '|---|---|---|---|---|']
            for kind, (ms, macs) in sorted(kinds.items(), key=lambda item: -item[1][0]):
                rate = f'{macs / ms * 1e3:.1f}' if macs else ''
                lines.append(f'| {kind} | {ms:.2f} | {100 * ms / total_ms:.1f}% | '
                             f'{macs:.3f} | {rate} |')
            print('\n'.join(lines[-len(kinds) - 4:]), flush=True)
    write_text_atomically('\n'.join(lines) + '\n', osp.join(args.out, 'profile_onnxruntime.md'))
    print(f'wrote {args.out}/profile_onnxruntime.md')


if __name__ == '__main__':
    main()
