"""Evaluate a checkpoint with the metrics of an mmdet, mmseg or mmpretrain config.

    python tools/test.py configs/mask_rcnn_fasternet_s.py work_dirs/.../epoch_12.pth
    python tools/test.py configs/mask_rcnn_fasternet_s.py s.onnx   # exported, in ONNX Runtime
    python tools/test.py configs/mask_rcnn_fasternet_s.py s_int8.onnx --backend openvino
    python tools/test.py configs/mask_rcnn_fasternet_s.py s.onnx --backend openvino --precision bf16
"""
import argparse

from mmfasternet.checkpoint import load_model_weights
from mmfasternet.deploy import switch_to_deploy
from mmfasternet.deploy.runtimes import RUNTIMES, all_precisions
from mmfasternet.deploy.tasks import task_of
from mmfasternet.engine.dump_results import AtomicDumpResults
from mmfasternet.engine.tool_config import (add_launch_arguments, build_runner,
                                            check_output_arguments, load_tool_config,
                                            parse_tool_args, stops_with_a_message)
from mmfasternet.visualization import enable_prediction_drawing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file, or a model exported to .onnx by '
                        'tools/deployment/pytorch2onnx.py, or quantised by quantize.py (.onnx, '
                        'or .xml: OpenVINO IR)')
    parser.add_argument('--work-dir', help='where the metrics and logs go')
    parser.add_argument('--out', help='dump the raw predictions to this .pkl file')
    parser.add_argument('--show-dir', help='draw predictions into this folder')
    parser.add_argument(
        '--fuse-conv-bn', action='store_true',
        help='fold BatchNorms into convs (mmfasternet.deploy.switch_to_deploy) for faster '
        'inference')
    parser.add_argument('--backend', choices=list(RUNTIMES), default='onnxruntime',
                        help='runtime of an exported model (default onnxruntime)')
    parser.add_argument('--precision', choices=all_precisions(), default='fp32',
                        help='OpenVINO\'s inference precision for the fp32 ops (bf16 needs '
                        'a CPU with bf16; int8 is a quantised file)')
    parser.add_argument('--threads', type=int, default=1,
                        help='intra-op threads of the runtime (default 1)')
    add_launch_arguments(parser, 'test_dataloader.batch_size=4')
    return parse_tool_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args)
    cfg.load_from = None  # loaded strictly below: a checkpoint that does not fit is an error
    if args.show_dir:
        enable_prediction_drawing(cfg, args.show_dir)
    if args.out and not args.out.endswith(('.pkl', '.pickle')):
        args.parser.error(f'--out must be a .pkl file, got {args.out}')
    if args.out:
        check_output_arguments(args.parser, [args.out], [args.config, args.checkpoint])
    exported = args.checkpoint.endswith(('.onnx', '.xml'))
    if not exported and (args.backend != 'onnxruntime' or args.precision != 'fp32'):
        args.parser.error('--backend and --precision apply to .onnx files; a checkpoint runs '
                          'in PyTorch')
    runner = build_runner(cfg, ['test_dataloader'], args,
                          checkpoints=[] if exported else [args.checkpoint])
    with stops_with_a_message(cfg):
        if exported:
            runner.model = task_of(runner.model).runtime_model(
                args.checkpoint, runner.model, backend=args.backend, precision=args.precision,
                threads=args.threads)
        else:
            load_model_weights(runner.model, args.checkpoint)
        if args.fuse_conv_bn and not exported:
            switch_to_deploy(runner.model)
        if args.out:
            runner.test_evaluator.metrics.append(AtomicDumpResults(out_file_path=args.out))
        runner.test()


if __name__ == '__main__':
    main()
