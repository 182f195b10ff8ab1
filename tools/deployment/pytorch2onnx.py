"""Export a FasterNet classifier, or a bare FasterNet backbone, to ONNX (BN folded).

    python tools/deployment/pytorch2onnx.py configs/fasternet_t0_in1k.py t0.onnx [--checkpoint C]
    python tools/deployment/pytorch2onnx.py backbone:t0 t0_backbone.onnx --verify
"""
import argparse
import copy

import torch
from mmengine.config import Config

from mmfasternet import FasterNet
from mmfasternet.analysis import build_model
from mmfasternet.checkpoint import load_backbone_weights, read_checkpoint, to_mm_state_dict
from mmfasternet.compat import NeedsNewerTorch
from mmfasternet.deploy import export_onnx
from mmfasternet.engine.tool_config import stops_with_a_message
from mmfasternet.runtime import OnnxRuntimeModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('model', help='a classifier config, or backbone:<arch>')
    parser.add_argument('out', help='.onnx file to write')
    parser.add_argument('--checkpoint', help='weights to load strictly first: official, '
                        'timm or mmpretrain layout, a file or a URL')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--opset', type=int,
                        help='ONNX opset: 20 on torch >= 2.6 (default), 17 before')
    parser.add_argument('--verify', action='store_true',
                        help='run the file in ONNX Runtime and compare with PyTorch')
    args = parser.parse_args()
    if args.model.startswith('backbone:'):
        model, kwargs = FasterNet(args.model.split(':', 1)[1]), {}
    else:
        model, kwargs = build_model(Config.fromfile(args.model)), dict(mode='tensor')
    with stops_with_a_message():
        if args.checkpoint and isinstance(model, FasterNet):
            load_backbone_weights(model, args.checkpoint)
        elif args.checkpoint:
            model.load_state_dict(to_mm_state_dict(read_checkpoint(args.checkpoint)),
                                  strict=True)
    model.eval()
    reference = copy.deepcopy(model)
    try:
        size = export_onnx(model, args.out, shape=(1, 3, *args.shape), opset=args.opset,
                           **kwargs)
    except NeedsNewerTorch as error:
        raise SystemExit(f'pytorch2onnx: {error}') from None
    print(f'wrote {args.out}: {size / 2**20:.1f} MiB')
    if args.verify:
        x = torch.randn(1, 3, *args.shape)
        with torch.no_grad():
            expected = reference(x, **kwargs)
        got = OnnxRuntimeModel(args.out)(x)
        pairs = zip(got, expected) if isinstance(got, tuple) else [(got, expected)]
        diff = max((a - b).abs().max().item() for a, b in pairs)
        print(f'ONNX Runtime vs PyTorch (eval mode, BN not folded): max abs diff {diff:.2e}')


if __name__ == '__main__':
    main()
