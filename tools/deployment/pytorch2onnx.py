"""Export a FasterNet classifier, or a bare FasterNet backbone, to ONNX (BN folded).

    python tools/deployment/pytorch2onnx.py configs/fasternet_t0_in1k.py t0.onnx [--checkpoint C]
    python tools/deployment/pytorch2onnx.py backbone:t0 t0_backbone.onnx
"""
import argparse

import torch
from mmengine.config import Config

from mmfasternet import FasterNet
from mmfasternet.analysis import build_model
from mmfasternet.deploy import export_onnx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('model', help='a classifier config, or backbone:<arch>')
    parser.add_argument('out', help='.onnx file to write')
    parser.add_argument('--checkpoint', help='weights to load strictly first')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--pconv-forward', default='split_cat', choices=['split_cat', 'slicing'])
    args = parser.parse_args()
    if args.model.startswith('backbone:'):
        model, kwargs = FasterNet(args.model.split(':', 1)[1],
                                  pconv_forward=args.pconv_forward), {}
    else:
        cfg = Config.fromfile(args.model)
        cfg.model.backbone.pconv_forward = args.pconv_forward
        model, kwargs = build_model(cfg), dict(mode='tensor')
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location='cpu')
        model.load_state_dict(state.get('state_dict', state), strict=True)
    size = export_onnx(model.eval(), args.out, shape=(1, 3, *args.shape), **kwargs)
    print(f'wrote {args.out}: {size / 2**20:.1f} MiB')


if __name__ == '__main__':
    main()
