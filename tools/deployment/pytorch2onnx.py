"""Export a FasterNet model to ONNX (BN folded): a Mask R-CNN with its post-processing, a
segmentor (UperNet), a classifier, or a bare backbone.

    python tools/deployment/pytorch2onnx.py configs/mask_rcnn_fasternet_s.py s.onnx \
        --checkpoint C --verify [--masks image]
    python tools/deployment/pytorch2onnx.py configs/upernet_fasternet_s.py s_seg.onnx \
        --checkpoint C --seg-logits
    python tools/deployment/pytorch2onnx.py configs/fasternet_t0_in1k.py t0.onnx [--checkpoint C]
    python tools/deployment/pytorch2onnx.py backbone:t0 t0_backbone.onnx --verify
"""
import argparse
import copy
import itertools
from typing import Optional

import torch
from mmengine.config import Config

from mmfasternet import FasterNet
from mmfasternet.checkpoint import load_backbone_weights, load_model_weights
from mmfasternet.deploy import NotExportable, check_input_size, export_onnx
from mmfasternet.deploy.mask_rcnn_graph import MASK_FORMS
from mmfasternet.deploy.parity import tensor_parity
from mmfasternet.deploy.tasks import task_of
from mmfasternet.engine.tool_config import build_model, check_output_arguments, stops_with_a_message


def test_batches(cfg: Config, images: int):
    """The first ``images`` test batches of one image each, for ``--verify``."""
    from mmengine.runner import Runner

    from mmfasternet.engine.data_check import check_data_exists

    check_data_exists(cfg, ['test_dataloader'])
    loader = Runner.build_dataloader(dict(cfg.test_dataloader, batch_size=1, num_workers=0,
                                          persistent_workers=False))
    return itertools.islice(loader, images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('model', help='a detector, segmentor or classifier config, or '
                        'backbone:<arch>')
    parser.add_argument('out', help='.onnx file to write')
    parser.add_argument('--checkpoint', help='weights to load strictly first: official, '
                        'timm or mmpretrain layout, a file or a URL')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size: classifiers and backbones 224 224 by default; '
                        'segmentors their slide crop, else 512 512; detectors only trace '
                        'with it (800 1344) and take any multiple of 32')
    parser.add_argument('--opset', type=int,
                        help='ONNX opset of classifiers and backbones: 20 on torch >= 2.6 '
                        '(default), 17 before; detectors use 17')
    parser.add_argument('--verify', action='store_true',
                        help='run the file in ONNX Runtime and compare with PyTorch: a '
                        'detector or segmentor on the first --verify-images test images of '
                        'its config, a classifier or backbone on as many random images')
    parser.add_argument('--verify-images', type=int, default=4)
    parser.add_argument('--seg-logits', action='store_true',
                        help='a segmentor also returns its logits (tools/test.py needs them)')
    parser.add_argument('--masks', choices=list(MASK_FORMS), default='box',
                        help='a detector\'s masks: box (default), 28x28 probabilities per '
                        'detection, pasted inside their boxes after the runtime (tools/test.py '
                        'and mmfasternet.deploy.masks.paste_box_masks do it), the fast form; '
                        'image: binary masks pasted at the image\'s size inside the file, '
                        'self-contained')
    args = parser.parse_args()
    if not args.out.endswith('.onnx'):
        parser.error(f'the output must be an .onnx file, got {args.out}')
    check_output_arguments(parser, [args.out], [args.model, args.checkpoint])
    cfg = None
    if args.model.startswith('backbone:'):
        model = FasterNet(args.model.split(':', 1)[1])
    else:
        cfg = Config.fromfile(args.model)
        model = build_model(cfg)
    if args.shape:
        try:
            check_input_size(model, *args.shape)
        except NotExportable as error:
            parser.error(f'--shape: {error}')
    with stops_with_a_message(prefix='pytorch2onnx: '):
        export(args, cfg, model)


def export(args: argparse.Namespace, cfg: Optional[Config], model: torch.nn.Module) -> None:
    """Load the weights, export, and with ``--verify`` compare with PyTorch: a config's
    model as its task says (:mod:`mmfasternet.deploy.tasks`), a bare backbone on random images."""
    if args.checkpoint and isinstance(model, FasterNet):
        load_backbone_weights(model, args.checkpoint)
    elif args.checkpoint:
        load_model_weights(model, args.checkpoint)
    model.eval()
    reference = copy.deepcopy(model)
    task = None if cfg is None else task_of(model)
    try:
        if task is None:
            size = export_onnx(model, args.out, shape=(1, 3, *(args.shape or (224, 224))),
                               opset=args.opset)
        else:
            size = task.export(model, args.out, args.shape, opset=args.opset,
                               with_logits=args.seg_logits, masks=args.masks)
    except NotExportable as error:
        raise SystemExit(f'pytorch2onnx: {error}; nothing was written') from None
    print(f'wrote {args.out}: {size / 2**20:.1f} MiB')
    if not args.verify:
        return
    if task is None:
        parity = tensor_parity(reference, args.out, args.verify_images)
    else:
        parity = task.parity(reference, args.out, args.verify_images,
                             lambda images: test_batches(cfg, images))
    if parity.problems:
        raise SystemExit('ONNX Runtime differs from PyTorch:\n  ' + '\n  '.join(parity.problems))
    print(f'ONNX Runtime vs PyTorch on {parity.agreed}')


if __name__ == '__main__':
    main()
