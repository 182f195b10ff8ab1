"""Params and FLOPs (multiply-adds) of detector, segmentor or classifier configs.

    python tools/analysis/get_flops.py configs/mask_rcnn_fasternet_s.py --shape 800 1333
    python tools/analysis/get_flops.py mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py
"""
import argparse

from mmfasternet.analysis import complexity
from mmfasternet.engine.tool_config import ConfigOverrides, load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('configs', nargs='+',
                        help='config files, or package configs such as mmdet::...')
    parser.add_argument('--shape', type=int, nargs=2, default=[800, 1333],
                        metavar=('H', 'W'), help='input height and width')
    parser.add_argument('--fuse-conv-bn', action='store_true',
                        help='fold BNs into convs first (the paper counts this way)')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOverrides)
    args = parser.parse_args()
    print('| config | input | params (M) | FLOPs (G) |\n|---|---|---|---|')
    for path in args.configs:
        cfg = load_config(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        result = complexity(cfg, tuple(args.shape), deploy=args.fuse_conv_bn)
        print(f'| {path} | {args.shape[0]}x{args.shape[1]} | {result["params_m"]:.3f} | '
              f'{result["gflops"]:.3f} |', flush=True)


if __name__ == '__main__':
    main()
