"""``draw_predictions`` (the demos' predictions.png): a few test images spread over the test
set, each drawn by the task library's visualizer with the ground truth beside the
prediction."""
import cv2
import pytest
from mmengine.config import Config

from mmfasternet.engine.tool_config import runner_of
from mmfasternet.visualization import draw_predictions
from toy_configs import write_toy_config


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_a_few_test_images_are_drawn_with_ground_truth_beside_prediction(
        task, tmp_path, tiny_toy_coco, tiny_toy_ade):
    cfg = Config.fromfile(write_toy_config(task, tmp_path,
                                           tiny_toy_coco if task == 'det' else tiny_toy_ade))
    cfg.work_dir = str(tmp_path / 'work')
    runner = runner_of(cfg)
    dataset = runner.test_loop.dataloader.dataset
    assert len(dataset) == 4
    paths = draw_predictions(runner, 2, str(tmp_path / 'drawn'))
    names = [dataset.get_data_info(i)['img_path'].rsplit('/', 1)[1].rsplit('.', 1)[0]
             for i in (0, 2)]  # every second image of four
    assert paths == [str(tmp_path / 'drawn' / f'{i:05d}_{name}.png')
                     for i, name in zip((0, 2), names)]
    for path in paths:
        drawn = cv2.imread(path)
        assert drawn.shape == (128, 256, 3)  # two 128 px pictures side by side
        ground_truth, prediction = drawn[:, :128], drawn[:, 128:]
        assert (ground_truth != prediction).any()
