"""The tools stop on bad input with one clear message (exit code 1 or 2), no traceback, and
nothing written: missing or broken data (the pre-flight data check, and files that break
during a run), broken checkpoints at every entry point, malformed command lines."""
import os.path as osp
import shutil
import textwrap

import cv2
import pytest
import torch

from conftest import REPO, TEST, TRAIN, assert_says, run_tool, stops
from mmfasternet import FasterNet
from toy_configs import write_toy_config


def train_in_empty_folder(tmp_path, config, *args):
    result = run_tool(TRAIN, config, *args, cwd=tmp_path, timeout=300, check=False)
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert not (tmp_path / 'work_dirs').exists()
    return result


@pytest.mark.parametrize('options, missing', [
    ([], 'train_dataloader (ImageNet): data/imagenet/train does not exist'),
    (['--cfg-options', 'train_dataloader.dataset.data_prefix=images/train'],
     'train_dataloader (ImageNet): data/imagenet/images/train does not exist'),
])
def test_train_without_imagenet_names_the_split_folder(tmp_path, options, missing):
    result = train_in_empty_folder(tmp_path, osp.join(REPO, 'configs', 'fasternet_t0_in1k.py'),
                                   *options)
    assert result.returncode == 1
    assert missing in result.stderr
    assert 'val_dataloader (ImageNet): data/imagenet/val does not exist' in result.stderr
    assert 'ImageNet expects ILSVRC2012' in result.stderr


def test_train_without_the_data_of_a_wrapped_dataset_names_it(tmp_path):
    config = tmp_path / 'repeated.py'
    config.write_text(textwrap.dedent(f"""\
        _base_ = [{osp.join(REPO, 'configs', 'mask_rcnn_fasternet_t0.py')!r}]
        train_dataloader = dict(dataset=dict(_delete_=True, type='RepeatDataset', times=2,
                                             dataset={{{{_base_.train_dataloader.dataset}}}}))
        """).replace('{{{{', '{{').replace('}}}}', '}}'))
    result = train_in_empty_folder(tmp_path, str(config))
    assert result.returncode == 1
    assert ('train_dataloader (CocoDataset): data/coco/annotations/instances_train2017.json '
            'does not exist') in result.stderr


def test_amp_refuses_an_optimizer_wrapper_it_would_replace(tmp_path):
    result = train_in_empty_folder(
        tmp_path, osp.join(REPO, 'configs', 'mask_rcnn_fasternet_t0.py'), '--amp',
        '--cfg-options', 'optim_wrapper.type=ApexOptimWrapper')
    assert result.returncode == 1
    assert ('--amp turns the plain OptimWrapper into an AmpOptimWrapper; this config uses '
            'ApexOptimWrapper') in result.stderr


def test_cpu_training_refuses_a_launcher_other_than_torchrun(tmp_path):
    result = train_in_empty_folder(
        tmp_path, osp.join(REPO, 'configs', 'mask_rcnn_fasternet_t0.py'),
        '--launcher', 'slurm')
    assert result.returncode == 1
    assert ('on a machine without CUDA only --launcher pytorch (torchrun) is supported, '
            'got --launcher slurm') in result.stderr


def toy_coco_copy(tmp_path, tiny_toy_coco):
    data = tmp_path / 'data'
    shutil.copytree(tiny_toy_coco, data)
    return data


def train_toy_detector(tmp_path, data, *args, max_epochs=1, check=False):
    config = write_toy_config('det', tmp_path, data, max_epochs=max_epochs)
    work = tmp_path / 'work'
    return run_tool(TRAIN, config, '--work-dir', str(work), *args, check=check), work


def test_data_check_lists_missing_images_before_anything_is_written(tmp_path, tiny_toy_coco):
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    (data / 'train' / '00002.jpg').unlink()
    (data / 'val' / '00001.jpg').unlink()
    result, work = train_toy_detector(tmp_path, data)
    message = stops(result)
    assert (f'train_dataloader (CocoDataset): 1 of 8 images are missing:\n'
            f'      {data}/train/00002.jpg') in message
    assert f'val_dataloader (CocoDataset): 1 of 4 images are missing:\n      ' \
        f'{data}/val/00001.jpg' in message
    assert '--skip-data-check skips this check' in message
    assert not work.exists()


def test_a_cut_short_annotation_file_is_named_with_line_and_column(tmp_path, tiny_toy_coco):
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    annotations = data / 'annotations' / 'instances_train.json'
    text = annotations.read_text()
    annotations.write_text(text[:len(text) // 2])
    result, work = train_toy_detector(tmp_path, data)
    message = stops(result)
    assert f'{annotations} is not valid JSON: ' in message
    assert 'at line 1, column ' in message and 'cut-short' in message
    assert not work.exists()


def test_classes_that_disagree_with_the_heads_or_the_file_are_named(tmp_path, tiny_toy_coco):
    result, work = train_toy_detector(
        tmp_path, tiny_toy_coco, '--cfg-options', 'model.roi_head.bbox_head.num_classes=3',
        "train_dataloader.dataset.metainfo.classes=('sun','tile','leaf','opal')")
    message = stops(result)
    assert ("train_dataloader (CocoDataset): model.roi_head.bbox_head.num_classes is 3, but "
            "the dataset has 4 classes ('sun', 'tile', 'leaf', 'opal'): make them agree"
            ) in message
    assert "has no category named ['opal']; its categories are ['gem', 'leaf', 'sun', " \
        "'tile']" in message
    assert 'model.roi_head.mask_head.num_classes' not in message  # it is 4, as it must be
    assert not work.exists()


@pytest.mark.long
def test_a_corrupt_image_is_found_by_check_images_or_named_when_the_run_reaches_it(
        tmp_path, tiny_toy_coco):
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    broken = data / 'train' / '00003.jpg'
    broken.write_text('not a jpeg')
    result, work = train_toy_detector(tmp_path, data, '--check-images')
    message = stops(result)
    assert f'train_dataloader (CocoDataset): 1 of 8 images do not decode:\n      {broken}' \
        in message
    assert not work.exists()

    result, work = train_toy_detector(tmp_path, data)  # the default check does not decode
    message = stops(result)
    assert message.strip().splitlines()[-2:] == [
        f'The run stopped: {broken} does not decode as an image (changed after the data '
        f'check?).', 'No checkpoint was saved yet: fix the file (--check-images finds every '
        'broken image), then start again.']


@pytest.mark.long
def test_a_file_deleted_during_training_names_the_checkpoint_to_resume(
        tmp_path, tiny_toy_coco):
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    result, work = train_toy_detector(tmp_path, data, check=True)
    (data / 'train' / '00005.jpg').unlink()
    result, work = train_toy_detector(tmp_path, data, '--resume', '--skip-data-check',
                                      max_epochs=2)
    message = stops(result)
    assert message.strip().splitlines()[-2:] == [
        f'The run stopped: {data}/train/00005.jpg is missing (changed after the data '
        f'check?).', f'Fix the file (--check-images finds every broken image), then continue '
        f'from the last checkpoint with --resume {work}/epoch_1.pth']


@pytest.mark.long
def test_an_annotation_that_breaks_a_dataloader_worker_names_its_image(tmp_path,
                                                                       tiny_toy_coco):
    import json
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    ann_file = data / 'annotations' / 'instances_train.json'
    coco = json.loads(ann_file.read_text())
    coco['annotations'][0]['segmentation'] = []  # mmdet: KeyError: 'mask' in a worker
    ann_file.write_text(json.dumps(coco))
    image = next(image for image in coco['images']
                 if image['id'] == coco['annotations'][0]['image_id'])
    count = sum(ann['image_id'] == image['id'] for ann in coco['annotations'])
    result, work = train_toy_detector(tmp_path, data, '--skip-data-check')
    assert_says(stops(result).strip().splitlines()[-1], f"{data}/train/{image['file_name']}",
                f"image id {image['id']}", f'{count} annotations', "KeyError: 'mask'",
                'Fix or remove its annotations')
    assert not list(work.glob('*.pth'))


def test_segmentation_labels_outside_the_classes_are_named(tmp_path, tiny_toy_ade):
    data = tmp_path / 'ade'
    shutil.copytree(tiny_toy_ade, data)
    label_file = data / 'annotations' / 'training' / '00004.png'
    labels = cv2.imread(str(label_file), cv2.IMREAD_UNCHANGED)
    labels[:4, :4] = 9
    cv2.imwrite(str(label_file), labels)
    config = write_toy_config('seg', tmp_path, data)
    result = run_tool(TRAIN, config, '--work-dir', str(tmp_path / 'work'), check=False)
    message = stops(result)
    assert ('train_dataloader (BaseSegDataset): 1 segmentation maps hold labels outside 0..6 '
            'and the ignore index 255 (6 classes, label 0 is ignored):\n'
            f'      {label_file} has labels [9]') in message
    assert 'val_dataloader' not in message
    assert not (tmp_path / 'work').exists()


def test_a_classifier_head_that_does_not_fit_the_class_folders_is_named(tmp_path,
                                                                        tiny_image_folder):
    config = write_toy_config('cls', tmp_path, tiny_image_folder, max_epochs=1,
                              extra='model = dict(head=dict(num_classes=5))\n')
    result = run_tool(TRAIN, config, '--work-dir', str(tmp_path / 'work'), check=False)
    message = stops(result)
    assert ("train_dataloader (ImageNet): model.head.num_classes is 5, but the dataset has 4 "
            "classes ('gem', 'leaf', 'sun', 'tile')") in message
    assert not (tmp_path / 'work').exists()


@pytest.mark.long
def test_class_names_that_are_not_the_class_folders_are_named(tmp_path, tiny_image_folder):
    config = write_toy_config('cls', tmp_path, tiny_image_folder, max_epochs=1)
    result = run_tool(TRAIN, config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                      'train_dataloader.dataset.metainfo.classes=[disc,square,triangle,ring]',
                      check=False)
    message = stops(result)
    assert (f"train_dataloader (ImageNet): the config names the classes ('disc', 'square', "
            f"'triangle', 'ring'), but the class folders under {tiny_image_folder}/train are "
            f"('gem', 'leaf', 'sun', 'tile') (label i is the i-th folder in sorted order): "
            f"name the classes as the folders, in that order") in message
    assert 'val_dataloader' not in message  # its classes are the folders
    assert not (tmp_path / 'work').exists()


def broken_files(tmp_path):
    """A truncated, an empty and a text file where checkpoints are expected."""
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=FasterNet('t0').state_dict()), good)
    truncated, empty, text = (tmp_path / f'{n}.pth' for n in ('truncated', 'empty', 'text'))
    truncated.write_bytes(good.read_bytes()[:1000])
    empty.write_bytes(b'')
    text.write_text('Not Found')
    return truncated, empty, text


@pytest.mark.long
def test_broken_checkpoints_stop_every_tool_before_it_writes(tmp_path, tiny_toy_coco):
    truncated, empty, text = broken_files(tmp_path)
    work = tmp_path / 'work'
    init = write_toy_config(
        'det', tmp_path, tiny_toy_coco, max_epochs=1,
        extra=f"model = dict(backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', "
              f"checkpoint={str(truncated)!r})))\n")
    message = stops(run_tool(TRAIN, init, '--work-dir', str(work), check=False))
    assert message.strip() == (f'{truncated} is truncated or damaged: it starts as a PyTorch '
                               f'(zip) checkpoint but its 1000 bytes end before the archive '
                               f'does; fetch or save it again')
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    message = stops(run_tool(TRAIN, config, '--work-dir', str(work), '--resume', str(empty),
                             check=False))
    assert message.startswith(f'{empty} is empty (0 bytes)')
    message = stops(run_tool(TEST, config, str(text), '--work-dir', str(work), check=False))
    assert message.startswith(f"{text} is a text file (an HTML page from a failed download?)")
    assert not work.exists()

    out = tmp_path / 'converted.pth'
    message = stops(run_tool(osp.join(REPO, 'tools', 'model_converters', 'official2mm.py'),
                             str(truncated), str(out), check=False))
    assert message.startswith(f'{truncated} is truncated or damaged')
    onnx = tmp_path / 'model.onnx'
    message = stops(run_tool(osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py'),
                             'backbone:t0', str(onnx), '--checkpoint', str(tmp_path),
                             check=False))
    assert message.startswith(f'pytorch2onnx: {tmp_path} is a directory, not a checkpoint '
                              f'file')
    assert not out.exists() and not onnx.exists()


@pytest.mark.parametrize('options, facts', [
    (['missing'], ('--cfg-options', "'missing'", 'KEY=VALUE', 'train_dataloader.batch_size=4')),
    (['train_dataloder.batch_size=2'],
     ('--cfg-options', 'train_dataloder is not in the config', "did you mean 'train_dataloader'")),
    (['train_dataloader.batchsize=2'],
     ('--cfg-options', 'train_dataloader.batchsize is not in the config', "'batch_size'")),
    (['model.backbone.init_cfg.checkpoint=x.pth'],
     ('--cfg-options', 'model.backbone.init_cfg is None', 'model.backbone.init_cfg.checkpoint')),
    (['model.backbone.arch=x9'],
     ('FasterNet backbone cannot be built', 'arch must be one of', "'x9'")),
    (['model.backbone.out_indices=(1,4)'],
     ('FasterNet backbone cannot be built', 'out_indices', '[-4, 3]', 'got 4')),
])
def test_malformed_overrides_are_usage_errors(tmp_path, tiny_toy_coco, options, facts):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    result = run_tool(TRAIN, config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                      *options, check=False)
    lines = stops(result, code=2).strip().splitlines()
    assert any(line.startswith('usage: train.py') for line in lines)
    assert_says(lines[-1], 'train.py: error: ', *facts)
    assert not (tmp_path / 'work').exists()


def test_config_and_work_dir_problems_are_usage_errors(tmp_path, tiny_toy_coco, capsys):
    import argparse

    from mmfasternet.engine.tool_config import add_launch_arguments, load_tool_config
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    broken_base = tmp_path / 'broken_base.py'
    broken_base.write_text('model = dict(\n    type="MaskRCNN",\n    backbone=dict(\n')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./broken_base.py']\nwork_dir = 'x'\n")
    a_file = tmp_path / 'taken'
    a_file.write_text('not a folder')
    syntax = (f'config {broken_base}', 'line 3', "'(' was never closed")
    for args, facts in (
            ([str(tmp_path / 'nope.py')], (f'{tmp_path}/nope.py', 'does not exist')),
            ([str(child)], syntax),
            ([config, '--work-dir', str(a_file)], (str(a_file), 'is a file', '--work-dir'))):
        parser = argparse.ArgumentParser(prog='train.py')
        parser.add_argument('config')
        parser.add_argument('--work-dir')
        add_launch_arguments(parser, 'a=1')
        parsed = parser.parse_args(args)
        parsed.parser = parser
        with pytest.raises(SystemExit) as stopped:
            load_tool_config(parsed)
        assert stopped.value.code == 2
        assert_says(capsys.readouterr().err.strip().splitlines()[-1], 'train.py: error: ', *facts)
    # The tools load their config with it: one run of tools/test.py stands for them.
    result = run_tool(TEST, str(child), str(tmp_path / 'any.pth'), cwd=tmp_path, check=False)
    assert_says(stops(result, code=2).strip().splitlines()[-1], 'test.py: error: ', *syntax)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ['broken_base.py', 'child.py', 'taken', osp.basename(config)])


def test_an_export_shape_the_backbone_cannot_take_is_a_usage_error(tmp_path):
    onnx = tmp_path / 'model.onnx'
    result = run_tool(osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py'), 'backbone:t0',
                      str(onnx), '--shape', '20', '40', check=False)
    assert_says(stops(result, code=2).strip().splitlines()[-1], 'pytorch2onnx.py: error: --shape',
                '20x40', 'at least 32x32', '--shape 32 32')
    assert not onnx.exists()


def test_every_user_error_has_one_base_and_keeps_its_builtin_type():
    from mmfasternet import MMFasterNetError
    from mmfasternet.checkpoint import CheckpointError
    from mmfasternet.checkpoint.reading import CheckpointNotFound
    from mmfasternet.compat import NeedsNewerTorch, UnsupportedVersionError
    from mmfasternet.deploy import CalibrationError, DeployError, MissingRuntime, NotExportable
    from mmfasternet.engine.data_check import DataCheckError, DataNotFound
    from mmfasternet.engine.launch import LaunchError
    from mmfasternet.fileio import NoSpaceLeft
    for error, builtin in ((NoSpaceLeft, OSError), (CheckpointError, ValueError),
                           (CheckpointNotFound, FileNotFoundError),
                           (DataCheckError, ValueError), (DataNotFound, FileNotFoundError),
                           (DeployError, ValueError), (MissingRuntime, ValueError),
                           (NotExportable, ValueError), (CalibrationError, ValueError),
                           (LaunchError, ValueError), (NeedsNewerTorch, RuntimeError),
                           (UnsupportedVersionError, ImportError)):
        assert issubclass(error, MMFasterNetError) and issubclass(error, builtin), error


def test_tools_print_user_errors_in_one_line_and_keep_other_tracebacks():
    from mmfasternet.deploy import DeployError
    from mmfasternet.engine.tool_config import stops_with_a_message
    with pytest.raises(SystemExit, match=r'^quantize: no such file$'):
        with stops_with_a_message(prefix='quantize: '):
            raise DeployError('no such file')
    with pytest.raises(ValueError, match=r'^a bug deep in mmdet$'):  # not turned into a line
        with stops_with_a_message():
            raise ValueError('a bug deep in mmdet')


def toy_detector_state(tiny_toy_coco, tmp_path, **backbone):
    from mmengine.config import Config

    from mmfasternet.engine.tool_config import build_model
    cfg = Config.fromfile(write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1))
    cfg.model.backbone.update(backbone)
    return build_model(cfg), cfg


def test_a_checkpoint_of_another_model_is_one_message_naming_both(tmp_path, tiny_toy_coco):
    from mmfasternet.checkpoint import CheckpointError
    from mmfasternet.checkpoint.loading import check_model_checkpoint
    t0, _ = toy_detector_state(tiny_toy_coco, tmp_path)
    t1, _ = toy_detector_state(tiny_toy_coco, tmp_path, arch='t1')
    t1_file = tmp_path / 't1_detector.pth'
    torch.save({'state_dict': t1.state_dict()}, t1_file)
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    message = stops(run_tool(TEST, config, str(t1_file), '--work-dir', str(tmp_path / 'w'),
                             check=False))
    assert_says(message.strip().splitlines()[-1], str(t1_file), 'file holds FasterNet-T1',
                'config builds FasterNet-T0', 'give the checkpoint trained with this config')
    # A head for another number of classes: the backbones agree, the rest does not.
    state = dict(t0.state_dict())
    state['roi_head.bbox_head.fc_cls.weight'] = torch.zeros(81, 256)
    with pytest.raises(CheckpointError) as error:
        check_model_checkpoint(t0, state, 'c.pth')
    assert_says(str(error.value), 'c.pth', 'outside the backbone', 'FasterNet-T0',
                'roi_head.bbox_head.fc_cls.weight', 'file (81, 256) vs config (5, 256)',
                'another head or number of classes')
    check_model_checkpoint(t0, state, 'c.pth', backbone_only=True)  # fine-tuning may
    resnet = {'conv1.weight': torch.zeros(64, 3, 7, 7),
              'layer1.0.conv1.weight': torch.zeros(64, 64, 3, 3)}
    with pytest.raises(CheckpointError, match=r'the file holds no FasterNet backbone \(keys '
                                              r'such as conv1.weight, layer1.0.conv1.weight\)'):
        check_model_checkpoint(t0, resnet, 'r.pth')


def test_annotations_mmdet_would_crash_on_or_drop_are_named_or_counted(tmp_path,
                                                                       tiny_toy_coco):
    import json
    import logging

    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmfasternet.engine.data_check import DataCheckError, check_data
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    ann_file = data / 'annotations' / 'instances_train.json'
    coco = json.loads(ann_file.read_text())
    anns = coco['annotations']
    images = {image['id']: image for image in coco['images']}
    rle, no_area = anns[0], anns[1]
    rle['segmentation'] = dict(size=[64, 100], counts='PPYo1')
    del no_area['area']
    anns[2]['bbox'] = [500, 500, 10, 10]  # outside its 128 px image
    anns[3]['bbox'][2] = 0.5
    anns[4]['category_id'] = 99
    anns[5]['image_id'] = 12345
    ann_file.write_text(json.dumps(coco))
    cfg = Config.fromfile(write_toy_config('det', tmp_path, data, max_epochs=1))

    class Records(logging.Handler):
        messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    logger.addHandler(handler := Records(logging.WARNING))
    try:
        with pytest.raises(DataCheckError) as error:
            check_data(cfg, ['train_dataloader'])
    finally:
        logger.removeHandler(handler)
    image = images[rle['image_id']]
    assert (f'annotation {rle["id"]} of image {rle["image_id"]} ({image["file_name"]}) has an '
            f'RLE mask of 64x100 (height x width) on an image of 128x128') in str(error.value)
    assert (f'1 annotations in {ann_file} lack what mmdet reads of each: a bbox of 4 numbers '
            f'[x, y, width, height], an area and a category_id:\n      annotation '
            f'{no_area["id"]} of image {no_area["image_id"]}') in str(error.value)
    # (Other warnings may come first, e.g. mmengine's on the default scope.)
    assert [m for m in handler.messages if str(ann_file) in m] == [
        f'mmdet will leave out 4 of the {len(anns)} annotations in {ann_file}: 1 boxes '
        f'outside their image, 1 boxes under 1 pixel wide or high, or of area 0, 1 of a '
        f'category id the file does not list, 1 of an image the file does not list']
    del coco['images'][0]['width']  # mmdet reads both of every image
    ann_file.write_text(json.dumps(coco))
    with pytest.raises(DataCheckError, match=rf'1 images in {ann_file} have no width and '
                                             rf'height, which mmdet reads for every image'):
        check_data(cfg, ['train_dataloader'])


def test_fine_tuning_from_rgb_weights_adapts_the_embedding_and_another_network_stops(
        tmp_path, tiny_toy_coco, monkeypatch):
    """``load_from`` in the tools: RGB weights start a 4-channel FasterNet (logged); weights
    of another network stop before training, naming both."""
    import argparse

    from mmengine.config import Config

    from mmfasternet.engine import input_channels_hook
    from mmfasternet.engine.tool_config import build_runner
    logged = []
    monkeypatch.setattr(input_channels_hook, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    rgb, _ = toy_detector_state(tiny_toy_coco, tmp_path)
    t1, _ = toy_detector_state(tiny_toy_coco, tmp_path, arch='t1')
    for name, model in (('rgb', rgb), ('t1', t1)):
        torch.save({'state_dict': model.state_dict()}, tmp_path / f'{name}.pth')
    cfg = Config.fromfile(write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1))
    cfg.model.backbone.in_channels = 4
    cfg.load_from, cfg.launcher, cfg.work_dir = str(tmp_path / 'rgb.pth'), 'none', str(tmp_path)
    args = argparse.Namespace(check_images=False, skip_data_check=True)
    runner = build_runner(cfg, ['train_dataloader'], args)
    runner.load_or_resume()
    loaded, source = runner.model.state_dict(), rgb.state_dict()
    embedding = loaded['backbone.patch_embed.proj.weight']
    assert torch.equal(embedding[:, :3], source['backbone.patch_embed.proj.weight'])
    assert not embedding[:, 3].any()
    for key, value in source.items():
        if key != 'backbone.patch_embed.proj.weight':
            assert torch.equal(loaded[key], value), key
    assert logged == [f'{tmp_path / "rgb.pth"}: the embedding conv takes 4 input channels, '
                      f'the weights 3: channels 0-2 keep the RGB filters, channels 3-3 start '
                      f'at zero']

    cfg.load_from = str(tmp_path / 't1.pth')
    with pytest.raises(SystemExit, match='the file holds FasterNet-T1 .*, the config builds '
                                         'FasterNet-T0 .*in_channels 4'):
        build_runner(cfg, ['train_dataloader'], args)


def test_resume_from_another_models_checkpoint_stops_before_training(tmp_path, tiny_toy_coco):
    t1, _ = toy_detector_state(tiny_toy_coco, tmp_path, arch='t1')
    t1_file = tmp_path / 't1_detector.pth'
    torch.save({'state_dict': t1.state_dict()}, t1_file)
    result, work = train_toy_detector(tmp_path, tiny_toy_coco, '--resume', str(t1_file))
    assert stops(result).strip().splitlines()[-1].startswith(
        f'{t1_file} does not fit the config: the file holds FasterNet-T1')
    assert not list(work.glob('*.pth'))


def test_instances_without_a_trainable_mask_are_named_before_training(tmp_path, tiny_toy_coco):
    import json

    from mmengine.config import Config

    from mmfasternet.engine.data_check import DataCheckError, check_data
    data = toy_coco_copy(tmp_path, tiny_toy_coco)
    ann_file = data / 'annotations' / 'instances_train.json'
    coco = json.loads(ann_file.read_text())
    first, second = coco['annotations'][:2]
    first['segmentation'] = []
    second['segmentation'] = [[10, 10, 20, 20]]
    ann_file.write_text(json.dumps(coco))
    files = {image['id']: image['file_name'] for image in coco['images']}
    cfg = Config.fromfile(write_toy_config('det', tmp_path, data, max_epochs=1))
    with pytest.raises(DataCheckError) as error:
        check_data(cfg, ['train_dataloader'])
    assert (f'2 instances in {ann_file} have no mask mmdet can train on (give them a polygon '
            f'of at least 3 points, or an RLE mask of their image\'s size, or remove them):\n'
            f'      annotation {first["id"]} of image {first["image_id"]} '
            f'({files[first["image_id"]]}) has an empty segmentation\n'
            f'      annotation {second["id"]} of image {second["image_id"]} '
            f'({files[second["image_id"]]}) has a polygon of fewer than 3 points'
            ) in str(error.value)
    # A pipeline without masks trains on the boxes alone: nothing to say.
    cfg.train_dataloader.dataset.pipeline[1].with_mask = False
    check_data(cfg, ['train_dataloader'])
