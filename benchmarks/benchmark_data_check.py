"""Time the tools' pre-flight data check on a COCO-sized training set.

Generates, in a temporary folder, an annotation file with as many images and annotations as
COCO 2017 train (118,287 and 860,001 by default; polygons of 16 points, like COCO's
average) and an empty file for every image (the default check lists the folders; it does
not open the images), then times :func:`mmfasternet.engine.check_data` on the Mask R-CNN
config pointed at it.

    python -m benchmarks.benchmark_data_check [--out work_dirs/data_check]
"""
import argparse
import os.path as osp

from benchmarks.lab.data_check import time_data_check
from benchmarks.lab.report import header, markdown_table, write_results
from mmfasternet.engine.tool_config import stops_with_a_message
from mmfasternet.fileio import prepare_output_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--images', type=int, default=118_287)
    parser.add_argument('--annotations', type=int, default=860_001)
    parser.add_argument('--out', default=osp.join('work_dirs', 'data_check'),
                        help='folder for data_check.md (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    with stops_with_a_message():  # a full disk: one line
        size, seconds = time_data_check(args.images, args.annotations)
        table = markdown_table(['images', 'annotations', 'annotation file', 'check'], [
            [f'{args.images:,}', f'{args.annotations:,}', f'{size / 2**20:.0f} MiB',
             f'{seconds:.1f} s']])
        print(table[-1])
        write_results(header('Pre-flight data check: cost on a COCO-sized set',
                             'benchmarks.benchmark_data_check',
                             'The default check of `tools/train.py` (annotation file parsed, '
                             'every image looked up, classes compared with the heads) on a '
                             'generated COCO-2017-sized training set.') + table,
                      osp.join(args.out, 'data_check.md'))


if __name__ == '__main__':
    main()
