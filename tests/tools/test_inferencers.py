"""Inference on a folder of the user's own images with the task libraries' own inferencers,
this project's configs and toy-trained checkpoints (the README's inference section)."""
import json
import os
import os.path as osp

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint

from conftest import REPO, TRAIN, run_tool
from mmfasternet.testing.toy_scenes import CLASSES, render_object_crops
from toy_configs import write_toy_config


def image_folder(source, out):
    """The validation images of a toy set, copied into a plain folder: 'my images'."""
    os.makedirs(out)
    for name in sorted(os.listdir(source)):
        os.link(osp.join(source, name), osp.join(out, name))
    return str(out)


@pytest.mark.long
def test_det_inferencer_draws_and_writes_json(tmp_path, tiny_toy_coco,
                                              checkpoints_read_weights_only):
    from mmdet.apis import DetInferencer

    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    run_tool(TRAIN, config, '--work-dir', str(tmp_path / 'work'))
    images = image_folder(tiny_toy_coco / 'val', tmp_path / 'my_images')

    inferencer = DetInferencer(model=config, weights=str(tmp_path / 'work' / 'epoch_1.pth'),
                               device='cpu')
    inferencer(images, out_dir=str(tmp_path / 'out'), no_save_pred=False)

    names = sorted(os.listdir(images))
    assert sorted(os.listdir(tmp_path / 'out' / 'vis')) == names
    assert cv2.imread(str(tmp_path / 'out' / 'vis' / names[0])).shape == (128, 128, 3)
    predictions = sorted(os.listdir(tmp_path / 'out' / 'preds'))
    assert predictions == [osp.splitext(name)[0] + '.json' for name in names]
    prediction = json.load(open(tmp_path / 'out' / 'preds' / predictions[0]))
    count = len(prediction['labels'])
    assert count > 0 and all(0 <= label < 4 for label in prediction['labels'])
    assert len(prediction['scores']) == len(prediction['bboxes']) == len(
        prediction['masks']) == count
    assert prediction['masks'][0]['size'] == [128, 128]  # COCO RLE at the image's size


@pytest.mark.long
def test_seg_inferencer_draws_and_writes_label_maps(tmp_path, tiny_toy_ade,
                                                    checkpoints_read_weights_only):
    from mmseg.apis import MMSegInferencer

    config = write_toy_config('seg', tmp_path, tiny_toy_ade)
    run_tool(TRAIN, config, '--work-dir', str(tmp_path / 'work'))
    images = image_folder(tiny_toy_ade / 'images' / 'validation', tmp_path / 'my_images')

    inferencer = MMSegInferencer(model=config, weights=str(tmp_path / 'work' / 'iter_4.pth'),
                                 device='cpu')
    inferencer(images, out_dir=str(tmp_path / 'out'))

    count = len(os.listdir(images))
    assert len(os.listdir(tmp_path / 'out' / 'vis')) == count
    label_maps = sorted(os.listdir(tmp_path / 'out' / 'pred'))
    assert len(label_maps) == count
    label_map = cv2.imread(str(tmp_path / 'out' / 'pred' / label_maps[0]), cv2.IMREAD_UNCHANGED)
    classes = Config.fromfile(config).train_dataloader.dataset.metainfo['classes']
    assert label_map.shape == (128, 128) and label_map.max() < len(classes)


def test_classification_inferencer_draws_and_names_classes(tmp_path, checkpoints_read_weights_only):
    from mmpretrain.apis import ImageClassificationInferencer
    from mmpretrain.registry import MODELS

    config = tmp_path / 'fasternet_t0_toy_objects.py'
    config.write_text(f"_base_ = [{osp.join(REPO, 'configs', 'fasternet_t0_in1k.py')!r}]\n"
                      f"model = dict(head=dict(num_classes={len(CLASSES)}))\n")
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    checkpoint = str(tmp_path / 'toy_objects.pth')
    save_checkpoint(dict(state_dict=model.state_dict(),
                         meta=dict(dataset_meta=dict(classes=list(CLASSES)))), checkpoint)
    images, _ = render_object_crops(3, size=64, seed=1)
    folder = tmp_path / 'my_images'
    folder.mkdir()
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f'{i}.png'), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

    inferencer = ImageClassificationInferencer(model=str(config), pretrained=checkpoint,
                                               device='cpu')
    paths = sorted(str(path) for path in folder.iterdir())
    results = inferencer(paths, show_dir=str(tmp_path / 'vis'))
    with open(tmp_path / 'predictions.json', 'w') as f:
        json.dump([dict(image=osp.basename(path), label=r['pred_label'], score=r['pred_score'],
                        name=r['pred_class']) for path, r in zip(paths, results)], f)

    assert sorted(os.listdir(tmp_path / 'vis')) == ['0.png', '1.png', '2.png']
    predictions = json.load(open(tmp_path / 'predictions.json'))
    assert [p['name'] for p in predictions] == [CLASSES[p['label']] for p in predictions]
    assert all(0 < p['score'] <= 1 for p in predictions)
