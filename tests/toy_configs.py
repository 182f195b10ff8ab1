"""The one writer of the configs the tests train and evaluate: the toy Mask R-CNN, UperNet
and FasterNet-T0 classifier on the generated sets, batch 2, with the schedule a test asks
for."""
import os.path as osp
import textwrap

from conftest import REPO


def _task_lines(task: str, data_root: str, max_epochs: int, max_iters: int,
                val_interval) -> str:
    """The lines that differ between the toy tasks: data, evaluator, schedule, hooks."""
    if task == 'det':
        return f"""\
            data_root = '{data_root}/'
            train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
            val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
            val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
            test_evaluator = val_evaluator
            train_cfg = dict(max_epochs={max_epochs}, val_interval={val_interval or 1})
            default_hooks = dict(logger=dict(interval=1), checkpoint=dict(max_keep_ckpts=-1))
            """
    if task == 'seg':
        return f"""\
            data_root = '{data_root}/'
            train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
            val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
            train_cfg = dict(max_iters={max_iters}, val_interval={val_interval or max_iters})
            default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={max_iters}))
            """
    from mmfasternet.testing.toy_scenes import CLASSES

    # mmpretrain numbers class folders in sorted order: the generator's names, sorted.
    classes = tuple(sorted(CLASSES))
    return f"""\
        classes = {classes!r}
        model = dict(head=dict(num_classes={len(classes)}), train_cfg=None)
        data_preprocessor = dict(num_classes={len(classes)})
        dataset = dict(data_root='{data_root}', metainfo=dict(classes=classes))
        train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                                dataset=dict(split='train', **dataset))
        val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                              dataset=dict(split='val', **dataset))
        val_evaluator = dict(topk=(1, ))
        test_evaluator = val_evaluator
        train_cfg = dict(max_epochs={max_epochs})
        default_hooks = dict(logger=dict(interval=1))
        """


# The config each toy task starts from, the written config's file name, and the iteration
# at which its learning-rate warm-up ends (None: at the end of the run).
TOY_TASKS = {
    'det': ('toy/mask_rcnn_fasternet_t0_toy.py', 'tiny_toy.py', 4),
    'seg': ('toy/upernet_fasternet_t0_toy.py', 'tiny_seg.py', None),
    'cls': ('fasternet_t0_in1k.py', 'tiny_cls.py', 2),
}


def write_toy_config(task: str, tmp_path, data_root, max_epochs: int = 1, max_iters: int = 4,
                     val_interval=None, extra: str = '') -> str:
    """Write the toy config of ``task`` (a key of :data:`TOY_TASKS`) into ``tmp_path`` and
    return its path.

    Args:
        task (str): ``'det'`` (Mask R-CNN on a toy COCO set), ``'seg'`` (UperNet on a toy
            ADE20K set) or ``'cls'`` (the ImageNet classifier on a toy image folder).
        tmp_path: The folder to write to.
        data_root: The generated set.
        max_epochs (int): Epochs of the detector and the classifier. Defaults to 1.
        max_iters (int): Iterations of the segmentor. Defaults to 4.
        val_interval (int, optional): Validation interval; by default every epoch for the
            detector and at the end for the segmentor.
        extra (str): Config lines appended as they are.
    """
    base, name, warmup_end = TOY_TASKS[task]
    lines = textwrap.dedent(f"""\
        _base_ = [{osp.join(REPO, 'configs', base)!r}]
        """) + textwrap.dedent(_task_lines(task, data_root, max_epochs, max_iters,
                                           val_interval)) + textwrap.dedent(f"""\
        test_dataloader = val_dataloader
        param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                                end={warmup_end or max_iters})]
        """)
    config = tmp_path / name
    config.write_text(lines + extra)
    return str(config)
