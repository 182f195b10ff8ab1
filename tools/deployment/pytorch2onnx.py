"""Export a FasterNet model to ONNX (BN folded): a Mask R-CNN with its post-processing, a
segmentor (UperNet), a classifier, or a bare backbone.

    python tools/deployment/pytorch2onnx.py configs/mask_rcnn_fasternet_s.py s.onnx --checkpoint C --verify
    python tools/deployment/pytorch2onnx.py configs/upernet_fasternet_s.py s_seg.onnx --checkpoint C --seg-logits
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
from mmfasternet.analysis import build_model
from mmfasternet.checkpoint import load_backbone_weights, load_model_weights
from mmfasternet.deploy import (NotExportable, OnnxRuntimeModel, check_input_size,
                                export_onnx)
from mmfasternet.deploy.evaluation import deploy_task
from mmfasternet.engine.tool_config import stops_with_a_message


def test_batches(cfg: Config, images: int):
    """The first ``images`` test batches of one image each, for ``--verify``."""
    from mmengine.runner import Runner

    from mmfasternet.engine.data_check import check_data_exists

    check_data_exists(cfg, ['test_dataloader'])
    loader = Runner.build_dataloader(dict(cfg.test_dataloader, batch_size=1, num_workers=0,
                                          persistent_workers=False))
    return itertools.islice(loader, images)


def verify(cfg: Config, reference: torch.nn.Module, path: str, images: int) -> None:
    """Compare ONNX Runtime with PyTorch on the first ``images`` test images of ``cfg``;
    exit with status 1 when they differ."""
    if deploy_task(reference) == 'detector':
        from mmfasternet.deploy.detector import OnnxDetector, detector_parity
        onnx_model = OnnxDetector(path, reference.data_preprocessor,
                                  reference.roi_head.bbox_head.num_classes)
        count, problems = detector_parity(reference, onnx_model, test_batches(cfg, images))
        agreed = (f'all {count} instances agree (boxes within 1e-2 px, scores within 1e-4, '
                  f'same labels, mask IoU >= 0.99)')
    else:
        from mmfasternet.deploy.segmentor import segmentor_parity
        count, problems = segmentor_parity(reference, path, test_batches(cfg, images))
        agreed = f'the class maps agree on at least 99.9% of every image ({count} pixels)'
    if problems:
        raise SystemExit('ONNX Runtime differs from PyTorch:\n  ' + '\n  '.join(problems))
    print(f'ONNX Runtime vs PyTorch on {images} test images: {agreed}')


def export_dense(cfg: Config, model: torch.nn.Module, args: argparse.Namespace) -> int:
    """Export a detector or segmentor; the size exported with."""
    from mmfasternet.deploy import NotExportable
    try:
        if deploy_task(model) == 'detector':
            from mmfasternet.deploy.detector import export_detector_onnx
            return export_detector_onnx(model, args.out, shape=tuple(args.shape or (800, 1344)))
        from mmfasternet.deploy.segmentor import export_segmentor_onnx, export_shape
        shape = export_shape(cfg.model.test_cfg, args.shape or (512, 512))
        return export_segmentor_onnx(model, args.out, shape, with_logits=args.seg_logits)
    except NotExportable as error:
        raise SystemExit(f'pytorch2onnx: {error}; nothing was written') from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('model', help='a detector or classifier config, or backbone:<arch>')
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
                        help='run the file in ONNX Runtime and compare with PyTorch (a '
                        'detector on the first --verify-images test images of its config)')
    parser.add_argument('--verify-images', type=int, default=4)
    parser.add_argument('--seg-logits', action='store_true',
                        help='a segmentor also returns its logits (tools/test.py needs them)')
    args = parser.parse_args()
    cfg = None
    if args.model.startswith('backbone:'):
        model, kwargs = FasterNet(args.model.split(':', 1)[1]), {}
    else:
        cfg = Config.fromfile(args.model)
        model, kwargs = build_model(cfg), dict(mode='tensor')
    if args.shape:
        try:
            check_input_size(model, *args.shape)
        except NotExportable as error:
            parser.error(f'--shape: {error}')
    with stops_with_a_message(prefix='pytorch2onnx: '):
        export(args, cfg, model, kwargs)


def export(args: argparse.Namespace, cfg: Optional[Config], model: torch.nn.Module,
           kwargs: dict) -> None:
    """Load the weights, export, and with ``--verify`` compare with PyTorch."""
    if args.checkpoint and isinstance(model, FasterNet):
        load_backbone_weights(model, args.checkpoint)
    elif args.checkpoint:
        load_model_weights(model, args.checkpoint)
    model.eval()
    reference = copy.deepcopy(model)
    if cfg is not None and deploy_task(model) in ('detector', 'segmentor'):
        size = export_dense(cfg, model, args)
        print(f'wrote {args.out}: {size / 2**20:.1f} MiB')
        if args.verify:
            verify(cfg, reference, args.out, args.verify_images)
        return
    size = export_onnx(model, args.out, shape=(1, 3, *(args.shape or (224, 224))),
                       opset=args.opset, **kwargs)
    print(f'wrote {args.out}: {size / 2**20:.1f} MiB')
    if args.verify:
        x = torch.randn(1, 3, *(args.shape or (224, 224)))
        with torch.no_grad():
            expected = reference(x, **kwargs)
        got = OnnxRuntimeModel(args.out)(x)
        pairs = zip(got, expected) if isinstance(got, tuple) else [(got, expected)]
        diff = max((a - b).abs().max().item() for a, b in pairs)
        print(f'ONNX Runtime vs PyTorch (eval mode, BN not folded): max abs diff {diff:.2e}')


if __name__ == '__main__':
    main()
