"""Train a detector, segmentor or classifier from an mmdet, mmseg or mmpretrain config.

    python tools/train.py configs/mask_rcnn_fasternet_s.py [--work-dir DIR] [--resume]
"""
import argparse

from mmfasternet.engine.tool_config import (add_launch_arguments, build_runner, load_tool_config,
                                            parse_tool_args, resume_checkpoint,
                                            stops_with_a_message)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in the work dir '
        'when no path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the lr by the actual batch size over auto_scale_lr.base_batch_size')
    add_launch_arguments(parser, 'train_dataloader.batch_size=4')
    return parse_tool_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args)
    if args.amp:
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise SystemExit(f'--amp turns the plain OptimWrapper into an AmpOptimWrapper; '
                             f'this config uses {wrapper_type}: enable mixed precision in '
                             f'its optim_wrapper instead')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise SystemExit('--auto-scale-lr needs auto_scale_lr.base_batch_size '
                             'in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        with stops_with_a_message():
            cfg.resume, cfg.load_from = True, resume_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume

    loaders = ['train_dataloader'] + (['val_dataloader'] if cfg.get('val_cfg') is not None
                                      else [])
    runner = build_runner(cfg, loaders, args)
    with stops_with_a_message(cfg, resumable=True):
        runner.train()


if __name__ == '__main__':
    main()
