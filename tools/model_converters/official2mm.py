"""Convert FasterNet weights to a checkpoint for this project's models.

    python tools/model_converters/official2mm.py SRC DST

SRC may be an official ImageNet file (-> an mmpretrain classifier checkpoint for
configs/fasternet_*_in1k.py), a timm ``fasternet_*`` checkpoint (likewise), or an official
mmdet 2.x Mask R-CNN checkpoint (-> a detector checkpoint for configs/mask_rcnn_fasternet_*).
SRC is read with weights-only loading; DST loads with ``strict=True``.
"""
import argparse
import io
import os.path as osp

import torch

from mmfasternet.checkpoint import detect_layout, read_checkpoint, to_mm_state_dict
from mmfasternet.engine.tool_config import check_output_arguments, stops_with_a_message
from mmfasternet.fileio import write_bytes_atomically


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('src', help='official, timm, mmdet 2.x or mmpretrain checkpoint')
    parser.add_argument('dst', help='output .pth')
    args = parser.parse_args()
    check_output_arguments(parser, [args.dst], [args.src])
    with stops_with_a_message():
        checkpoint = read_checkpoint(args.src)
        layout = detect_layout(checkpoint)
        state_dict = to_mm_state_dict(checkpoint, layout)
        converted = io.BytesIO()
        torch.save(dict(meta=dict(converted_from=osp.basename(args.src), layout=layout.name),
                        state_dict=state_dict), converted)
        write_bytes_atomically(converted.getvalue(), args.dst)
    kind = 'classifier' if any(k.startswith('head.') for k in state_dict) else 'detector'
    print(f'{args.src} ({layout.name} layout) -> {args.dst}: {kind}, {len(state_dict)} tensors')


if __name__ == '__main__':
    main()
