"""Quantise an exported fp32 model to int8, calibrated on the config's own images, for the
runtime that will run it (OpenVINO: NNCF; ONNX Runtime: its own quantize_static).

    python tools/deployment/quantize.py configs/mask_rcnn_fasternet_s.py s.onnx s_int8.xml \
        --backend openvino   # OpenVINO IR
    python tools/deployment/quantize.py configs/upernet_fasternet_s.py seg.onnx seg_int8.onnx
    python tools/deployment/quantize.py configs/fasternet_s_in1k.py cls.onnx cls_int8.onnx \
        --calib-images 300

The int8 model is evaluated like a checkpoint: ``tools/test.py CONFIG s_int8.xml --backend
openvino`` or ``tools/test.py CONFIG seg_int8.onnx``; OpenVINO runs the ONNX Runtime file too.
"""
import argparse

from mmengine.config import Config

from mmfasternet.deploy import RUNTIMES, open_runtime
from mmfasternet.deploy.quantization import (DEFAULT_CALIBRATION_IMAGES, calibration_loader,
                                             check_quantizable, config_feeds, quantize_model)
from mmfasternet.deploy.tasks import task_of
from mmfasternet.engine.data_check import check_data
from mmfasternet.engine.tool_config import build_model, check_output_arguments, stops_with_a_message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='the config the model was exported from')
    parser.add_argument('model', help='fp32 .onnx file from tools/deployment/pytorch2onnx.py')
    parser.add_argument('out', help='int8 model to write: .onnx for ONNX Runtime, .xml '
                        '(OpenVINO IR, with its .bin) for OpenVINO')
    parser.add_argument('--calib-images', type=int, default=DEFAULT_CALIBRATION_IMAGES,
                        help='images of the config\'s val_dataloader (or test_dataloader) to '
                        f'calibrate on, in order (default {DEFAULT_CALIBRATION_IMAGES})')
    parser.add_argument('--backend', choices=list(RUNTIMES), default='onnxruntime',
                        help='the runtime that will run the file, which picks the quantiser '
                        '(default onnxruntime)')
    parser.add_argument('--verify-images', type=int, default=4,
                        help='test images to compare the int8 file with the fp32 one on '
                        '(0 skips)')
    parser.add_argument('--skip-data-check', action='store_true',
                        help='start without checking the calibration and test data first')
    args = parser.parse_args()
    check_output_arguments(parser, RUNTIMES[args.backend].files_of(args.out),
                           [args.config, args.model])
    cfg = Config.fromfile(args.config)
    model = build_model(cfg).eval()
    with stops_with_a_message(prefix='quantize: '):
        task = task_of(model)
        fp32 = open_runtime(args.model, args.backend)
        task.check_file(fp32, args.model, model)
        check_quantizable(args.model, args.out, args.backend)
        loader = calibration_loader(cfg)
        if not args.skip_data_check:
            check_data(cfg, [loader, *(['test_dataloader'] if args.verify_images else [])])
        feeds = config_feeds(cfg, model, fp32.input_shapes, loader, args.calib_images)
        for feed in feeds:  # the file takes the config's images
            fp32.check_feeds(feed)
        print(f'calibrating on {len(feeds)} images of {loader}', flush=True)
        size = quantize_model(args.model, args.out, feeds, args.backend)
        int8 = open_runtime(args.out, args.backend)
        print(f'wrote {args.out}: {size / 2**20:.1f} MiB, calibrated on '
              f'{int8.metadata["calibration_images"]} images')
        if args.verify_images:
            test = config_feeds(cfg, model, fp32.input_shapes, 'test_dataloader',
                                args.verify_images)
            print(f'int8 vs fp32 in {args.backend}: {task.agreement_of(fp32, int8, test)}')


if __name__ == '__main__':
    main()
