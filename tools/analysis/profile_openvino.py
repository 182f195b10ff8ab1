"""Where the time goes in OpenVINO: per-operator time of FasterNet and its peers in fp32,
int8 (the deploy path's NNCF model) and, on a CPU with bf16, bf16 (batch 1, one thread,
224x224, BN folded, random weights), side by side.

    python tools/analysis/profile_openvino.py [--out work_dirs/profile_openvino]
"""
import argparse
import copy
import os.path as osp
import tempfile

import torch

from mmfasternet.analysis import build_classifier, profile_openvino
from mmfasternet.analysis.low_precision import has_bf16
from mmfasternet.deploy import export_onnx, switch_to_deploy
from mmfasternet.deploy.quantization import quantize_model
from mmfasternet.deploy.runtimes import cpu_name_and_flags
from mmfasternet.fileio import prepare_output_folder, write_text_atomically


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+',
                        default=['fasternet_s', 'resnet50_8xb32_in1k', 'fasternet_t0',
                                 'mobilenet-v2_8xb32_in1k'])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--out', default=osp.join('work_dirs', 'profile_openvino'),
                        help='folder for profile_openvino.md (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    feeds = dict(image=torch.randn(1, 3, 224, 224).numpy())
    cpu, flags = cpu_name_and_flags()
    lines = ['# OpenVINO profile', '',
             f'`python tools/analysis/profile_openvino.py` on {cpu} (int8/bf16 instructions: '
             f'{", ".join(flags) or "none"}): ms per run by operator and kernel, mean of '
             f'{args.runs} profiled runs (1 thread, batch 1, 224x224, BN folded, random '
             f'weights; int8 calibrated on 8 random images).']
    precisions = ['fp32', 'int8'] + (['bf16'] if has_bf16() else [])
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            fp32 = osp.join(workdir, f'{name}.onnx')
            export_onnx(switch_to_deploy(copy.deepcopy(build_classifier(name))), fp32,
                        (1, 3, 224, 224))
            int8 = osp.join(workdir, f'{name}_int8.xml')
            quantize_model(fp32, int8, [dict(image=torch.randn(1, 3, 224, 224).numpy())
                                        for _ in range(8)], 'openvino')
            for precision in precisions:
                kinds = profile_openvino(int8 if precision == 'int8' else fp32, feeds,
                                         args.runs, precision='bf16' if precision == 'bf16'
                                         else 'fp32')
                total = sum(kinds.values())
                lines += ['', f'## {name}, {precision}: {total:.2f} ms', '',
                          '| operator and kernel | ms | share |', '|---|---|---|']
                for kind, ms in sorted(kinds.items(), key=lambda item: -item[1]):
                    lines.append(f'| {kind} | {ms:.3f} | {100 * ms / total:.1f}% |')
                print('\n'.join(lines[-len(kinds) - 4:]), flush=True)
    write_text_atomically('\n'.join(lines) + '\n', osp.join(args.out, 'profile_openvino.md'))
    print(f'wrote {args.out}/profile_openvino.md')


if __name__ == '__main__':
    main()
