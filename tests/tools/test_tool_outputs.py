"""Every tool that writes checks its output path and its input files before any work: an
output that is one of its inputs by another name, a missing or read-only folder, a folder
where a file must go, an int8 file to quantise again, a file of another task or class count
than the config's. Each stops with one line (exit 2 for a path, 1 for a file), no
traceback, the inputs' bytes unchanged and nothing written."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO, TEST, assert_says, run_tool, stops
from toy_configs import write_toy_config

EXPORT = osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py')
QUANTIZE = osp.join(REPO, 'tools', 'deployment', 'quantize.py')
CONVERT = osp.join(REPO, 'tools', 'model_converters', 'official2mm.py')

pytestmark = pytest.mark.deploy


def said(result, code=1):
    """The line a tool stopped with: exit ``code``, no traceback (a usage error's line comes
    after the usage)."""
    return stops(result, code).strip().splitlines()[-1]


def listing(folder):
    """Every file under ``folder`` with its bytes."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            with open(osp.join(root, name), 'rb') as f:
                found[osp.relpath(osp.join(root, name), folder)] = f.read()
    return found


@pytest.fixture(scope='module')
def classifier_files(tmp_path_factory, tiny_image_folder):
    """The toy classifier's config (4 classes), its exported fp32 file and an int8 file of
    it quantised for ONNX Runtime."""
    from mmengine.config import Config

    from mmfasternet.deploy.quantization import quantize_model
    from mmfasternet.deploy.tasks import CLASSIFIER
    from mmfasternet.engine.tool_config import build_model
    folder = tmp_path_factory.mktemp('classifier')
    config = write_toy_config('cls', folder, tiny_image_folder)
    fp32, int8 = str(folder / 'cls.onnx'), str(folder / 'cls_int8.onnx')
    CLASSIFIER.export(build_model(Config.fromfile(config)).eval(), fp32)
    feeds = [dict(image=np.random.default_rng(i).standard_normal((1, 3, 224, 224),
                                                                 dtype=np.float32))
             for i in range(2)]
    quantize_model(fp32, int8, feeds)
    return config, fp32, int8


@pytest.mark.long
@pytest.mark.parametrize('spelling', ['./cls.onnx', 'linked/cls.onnx', 'absolute'])
def test_an_output_that_is_the_input_by_another_name_is_refused(tmp_path, classifier_files,
                                                                spelling):
    config, fp32, _ = classifier_files
    work = tmp_path / 'work'
    work.mkdir()
    with open(fp32, 'rb') as f:
        (work / 'cls.onnx').write_bytes(f.read())
    os.symlink(work, work / 'linked')
    out = str(work / 'cls.onnx') if spelling == 'absolute' else spelling
    before = listing(work)
    result = run_tool(QUANTIZE, config, 'cls.onnx', out, cwd=work, check=False)
    assert_says(said(result, 2), out, 'is the input cls.onnx', 'another name')
    assert listing(work) == before

    source = work / 'weights.pth'
    source.write_bytes(b'user weights')
    result = run_tool(CONVERT, 'weights.pth', 'linked/weights.pth', cwd=work, check=False)
    assert_says(said(result, 2), 'linked/weights.pth', 'is the input weights.pth')
    assert source.read_bytes() == b'user weights'


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder no file can be created in: a read-only tmpfs where root can mount one
    (root writes into a folder without write permission), else one without permission."""
    folder = tmp_path / 'read_only'
    folder.mkdir()
    root = os.geteuid() == 0
    if root and subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs',
                                str(folder)], capture_output=True).returncode != 0:
        pytest.skip('root without mount cannot make a read-only folder')
    if not root:
        folder.chmod(0o555)
    yield folder
    if root:
        subprocess.run(['umount', str(folder)], check=True)
    else:
        folder.chmod(0o755)


@pytest.mark.parametrize('case', ['missing folder', 'a folder', 'a file for a folder',
                                  'read-only', 'not .onnx'])
def test_an_output_path_that_cannot_be_written_stops_before_the_export(tmp_path, case,
                                                                       request):
    (tmp_path / 'model.onnx').mkdir()
    (tmp_path / 'notes.txt').write_text('mine')
    out, says = {
        'missing folder': ('no/such/dir/t0.onnx', ['no/such/dir', 'does not exist',
                                                   'mkdir -p']),
        'a folder': ('model.onnx', ['model.onnx is a folder', 'give a file name']),
        'a file for a folder': ('notes.txt/t0.onnx', ['notes.txt is a file, not a folder']),
        'read-only': (None, ['read-only', 'a folder you can write to']),
        'not .onnx': ('t0.xml', ['must be an .onnx file', 't0.xml']),
    }[case]
    if case == 'read-only':
        out = str(request.getfixturevalue('read_only_folder') / 't0.onnx')
    before = listing(tmp_path)
    result = run_tool(EXPORT, 'backbone:t0', out, cwd=tmp_path, check=False)
    message = said(result, 2)
    assert_says(message, *says)
    assert 'wrote' not in result.stdout
    assert listing(tmp_path) == before and not osp.exists(osp.join(tmp_path, 'no'))


@pytest.mark.long
def test_quantize_refuses_an_int8_file_in_seconds(tmp_path, classifier_files):
    config, _, int8 = classifier_files
    with open(int8, 'rb') as f:
        before = f.read()
    result = run_tool(QUANTIZE, config, int8, str(tmp_path / 'again.onnx'), check=False)
    assert_says(said(result), int8, 'int8 file already', 'QuantizeLinear',
                'the fp32 .onnx file it was made from')
    assert 'calibrating' not in result.stdout and os.listdir(tmp_path) == []
    with open(int8, 'rb') as f:
        assert f.read() == before


@pytest.mark.long
def test_quantize_refuses_a_file_of_another_task_naming_both(tmp_path, classifier_files,
                                                             tiny_toy_coco):
    _, fp32, _ = classifier_files
    detector = write_toy_config('det', tmp_path, tiny_toy_coco)
    result = run_tool(QUANTIZE, detector, fp32, str(tmp_path / 'det_int8.onnx'), check=False)
    assert_says(said(result), fp32, 'is not an exported detector',
                "takes ['image']", "takes and returns one of [(['image', 'img_shape'")
    assert 'calibrating' not in result.stdout
    assert not (tmp_path / 'det_int8.onnx').exists()


@pytest.mark.long
def test_a_classifier_file_of_another_class_count_stops_before_the_test(tmp_path,
                                                                        classifier_files):
    from mmengine.config import Config

    from mmfasternet.deploy.tasks import CLASSIFIER
    from mmfasternet.engine.tool_config import build_model
    config, _, _ = classifier_files
    imagenet = str(tmp_path / 't0_in1k.onnx')
    CLASSIFIER.export(build_model(Config.fromfile(osp.join(REPO, 'configs',
                                                           'fasternet_t0_in1k.py'))).eval(),
                      imagenet, (64, 64))
    result = run_tool(TEST, config, imagenet, '--work-dir', str(tmp_path / 'work'),
                      check=False)
    assert_says(said(result), imagenet, 'exported for 1000 classes', 'the config has 4')
    result = run_tool(QUANTIZE, config, imagenet, str(tmp_path / 'int8.xml'), '--backend',
                      'openvino', check=False)
    assert_says(said(result), 'exported for 1000 classes', 'the config has 4')
    assert sorted(os.listdir(tmp_path)) == ['t0_in1k.onnx', 'work']


@pytest.mark.long
def test_a_killed_quantisation_leaves_nothing_the_next_run_keeps(tmp_path, classifier_files):
    config, fp32, _ = classifier_files
    temporary, out = tmp_path / 'tmp', tmp_path / 'int8.onnx'
    temporary.mkdir()
    env = dict(os.environ, TMPDIR=str(temporary))
    command = [sys.executable, QUANTIZE, config, fp32, str(out), '--calib-images', '2',
               '--verify-images', '0']
    killed = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    prefix, deadline = f'mmfasternet-{killed.pid}-', time.monotonic() + 300
    while not [p for p in os.listdir(temporary) if p.startswith(prefix)]:
        assert killed.poll() is None and time.monotonic() < deadline, 'never quantised'
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)  # while ONNX Runtime's quantiser runs
    killed.wait()
    assert not out.exists() and os.listdir(tmp_path) == ['tmp']
    left = [p for p in os.listdir(temporary) if p.startswith(prefix)]
    assert left, 'the killed run left no folder of its own to find'

    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.exists() and sorted(os.listdir(tmp_path)) == ['int8.onnx', 'tmp']
    assert not [p for p in os.listdir(temporary) if p.startswith('mmfasternet-')]


@pytest.mark.long
def test_calibration_images_the_file_does_not_take_stop_before_calibrating(
        tmp_path, classifier_files):
    from mmengine.config import Config

    from mmfasternet.deploy.tasks import CLASSIFIER
    from mmfasternet.engine.tool_config import build_model
    config, _, _ = classifier_files
    small = str(tmp_path / 'cls_64.onnx')
    CLASSIFIER.export(build_model(Config.fromfile(config)).eval(), small, (64, 64))
    result = run_tool(QUANTIZE, config, small, str(tmp_path / 'int8.onnx'), check=False)
    assert_says(said(result), small, "input 'image'", '(?, 3, 64, 64)', '(1, 3, 224, 224)')
    assert 'calibrating' not in result.stdout and os.listdir(tmp_path) == ['cls_64.onnx']
