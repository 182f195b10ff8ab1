"""Official, timm, mmdet-2.x and mmpretrain checkpoints: built here from the documented key
layouts, loaded safely and strictly."""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import timm
import torch
import torchvision
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS as CLS_MODELS

from conftest import REPO, TEST, randomize_norms, run_tool
from mmfasternet import FasterNet
from mmfasternet.checkpoint import (LAYOUTS, CheckpointError, detect_layout, load_backbone_weights,
                                    load_weights_only, loading, official_to_timm, read_checkpoint,
                                    timm_to_official, to_mm_state_dict)
from mmfasternet.checkpoint.layouts import backbone_state_dict
from mmfasternet.checkpoint.reading import code_running_globals
from mmfasternet.compat import torch_at_least
from toy_configs import write_toy_config

# Official classifiers (with head, BN not fused): parameter counts.
OFFICIAL_CLASSIFIER_PARAMS = {
    't0': 3_905_500, 't1': 7_595_368, 't2': 14_982_888, 's': 31_181_032, 'm': 53_521_464,
    'l': 93_465_192,
}


def official_key_names(depths):
    """The key names of an official ImageNet file, written out from the release's layout
    (shared/paper/checkpoint-layout.md), independently of this project's converters."""
    bn = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    keys = ['patch_embed.proj.weight'] + [f'patch_embed.norm.{b}' for b in bn]
    for i, depth in enumerate(depths):
        if i > 0:
            keys += [f'stages.{2 * i - 1}.reduction.weight']
            keys += [f'stages.{2 * i - 1}.norm.{b}' for b in bn]
        for j in range(depth):
            block = f'stages.{2 * i}.blocks.{j}'
            keys += [f'{block}.spatial_mixing.partial_conv3.weight', f'{block}.mlp.0.weight']
            keys += [f'{block}.mlp.1.{b}' for b in bn] + [f'{block}.mlp.3.weight']
    return keys + ['avgpool_pre_head.1.weight', 'head.weight', 'head.bias']


def official_classifier(arch, seed=0):
    """timm's own FasterNet classifier (an implementation independent of this project) with
    random weights, and its weights as timm saves them and in the official layout (whose
    key names are checked against the release's)."""
    torch.manual_seed(seed)
    net = randomize_norms(timm.create_model(f'fasternet_{arch}'), seed).eval()
    official = timm_to_official(net.state_dict())
    assert sorted(official) == sorted(official_key_names(FasterNet.arch_zoo[arch]['depths']))
    return net, {'timm': net.state_dict(), 'official': official}


def build_classifier(arch):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, 'configs', f'fasternet_{arch}_in1k.py'))
    return CLS_MODELS.build(cfg.model)


@pytest.mark.parametrize('arch', list(OFFICIAL_CLASSIFIER_PARAMS))
def test_in1k_classifiers_have_the_official_parameter_counts(arch):
    model = build_classifier(arch)
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_CLASSIFIER_PARAMS[arch]


@pytest.mark.parametrize('arch, layout', [('t0', 'official'), ('t2', 'official'),
                                          ('t0', 'timm')])
def test_official_and_timm_weights_give_timms_logits(tmp_path, arch, layout):
    net, files = official_classifier(arch)
    src, dst = tmp_path / f'{layout}.pth', tmp_path / 'mm.pth'
    torch.save(files[layout], src)
    result = run_tool(osp.join(REPO, 'tools', 'model_converters', 'official2mm.py'),
                      str(src), str(dst))
    assert f'{layout} layout' in result.stdout and 'classifier, 131 tensors' in result.stdout
    model = build_classifier(arch).eval()
    model.load_state_dict(read_checkpoint(str(dst))['state_dict'], strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected = net(x)
        logits = model(x, mode='tensor')
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)


def mmdet2_checkpoint(backbone_state):
    """An official mmdet 2.x Mask R-CNN checkpoint: meta, state_dict with backbone (and its
    output norms), neck and heads, and an optimizer."""
    state = {f'backbone.{k}': v for k, v in backbone_state.items()}
    state['neck.lateral_convs.0.conv.weight'] = torch.zeros(256, 128, 1, 1)
    state['rpn_head.rpn_conv.weight'] = torch.zeros(256, 256, 3, 3)
    return dict(meta=dict(mmdet_version='2.25.0', CLASSES=('person', 'bicycle'),
                          config='model = dict(...)', epoch=12, iter=87960),
                state_dict=state, optimizer=dict(state={}, param_groups=[]))


def mmpretrain_checkpoint(model_state):
    hub = MessageHub.get_instance('ckpt_test')
    hub.update_scalar('train/loss', 1.0)
    return dict(meta=dict(epoch=300, mmengine_version='0.10.7'),
                state_dict={f'backbone.{k}': v for k, v in model_state.items()},
                message_hub=hub.state_dict())


def layouts(arch, with_norms):
    """The backbone weights of one network written in every supported layout."""
    torch.manual_seed(1)
    source = randomize_norms(FasterNet(arch, out_norm=with_norms), 1)
    official = source.state_dict()
    classifier_head = {'avgpool_pre_head.1.weight': torch.zeros(1280, 8 * source.channels[0],
                                                                1, 1),
                       'head.weight': torch.zeros(1000, 1280), 'head.bias': torch.zeros(1000)}
    mmpretrain = mmpretrain_checkpoint(official)
    mmpretrain['state_dict']['head.fc.weight'] = torch.zeros(1000, 1280)
    return official, {
        'official': dict(official, **classifier_head),
        'timm': official_to_timm(dict(official, **classifier_head)),
        'mmpretrain': mmpretrain,
    }


@pytest.mark.parametrize('layout', [layout.name for layout in LAYOUTS])
def test_every_layout_record_recognises_and_converts_its_files(layout):
    """A new record of LAYOUTS needs a file here (the test fails without one)."""
    official, files = layouts('t0', with_norms=True)
    files['mmdet/mmseg'] = mmdet2_checkpoint(official)
    record = detect_layout(files[layout])
    assert record.name == layout
    backbone = backbone_state_dict(files[layout], record)
    assert backbone.keys() == official.keys()
    assert all(torch.equal(backbone[k], official[k]) for k in official)
    model = to_mm_state_dict(files[layout], record)
    assert {k[len('backbone.'):] for k in model if k.startswith('backbone.')} == set(official)
    assert record.lacks_output_norms == (layout != 'mmdet/mmseg')


@pytest.mark.parametrize('layout', ['official', 'timm', 'mmpretrain'])
def test_imagenet_layouts_load_into_the_detection_backbone(tmp_path, layout):
    net, files = official_classifier('t0', seed=3)
    files['mmpretrain'] = dict(mmpretrain_checkpoint({}),
                               state_dict=to_mm_state_dict(files['official']))
    path = tmp_path / f'{layout}.pth'
    torch.save(files[layout], path)
    assert detect_layout(read_checkpoint(str(path))).name == layout
    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path))).eval()
    model.init_weights()
    # The classifier has no output norms: they keep their fresh initialisation.
    assert torch.equal(model.norm6.weight, torch.ones(320))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = net.forward_intermediates(x, intermediates_only=True)
        outs = model(x)
    for i, (out, feat) in enumerate(zip(outs, feats)):
        torch.testing.assert_close(out, getattr(model, f'norm{2 * i}')(feat))


def test_official_mask_rcnn_checkpoint_loads_with_its_output_norms(tmp_path):
    official, _ = layouts('s', with_norms=True)
    path = tmp_path / 'mask_rcnn_fasternet_s_fpn_1x_coco.pth'
    torch.save(mmdet2_checkpoint(official), path)
    assert detect_layout(read_checkpoint(str(path))).name == 'mmdet/mmseg'
    model = FasterNet('s', out_indices=(1, 2, 3),
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    loaded = model.state_dict()
    assert 'norm0.weight' not in loaded  # the unused output norm is ignored
    for key in loaded:
        assert torch.equal(loaded[key], official[key]), key


def test_another_variant_is_an_error_that_lists_the_keys(tmp_path):
    _, files = layouts('t1', with_norms=False)
    path = tmp_path / 't1.pth'
    torch.save(files['official'], path)
    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError) as error:
        model.init_weights()
    message = str(error.value)
    assert 'official layout' in message
    assert 'they differ in embed_dims 64 vs 40 (file vs model)' in message
    assert 'mis-shaped keys: patch_embed.proj.weight: checkpoint (64, 3, 4, 4) vs model ' \
           '(40, 3, 4, 4)' in message
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # nothing half-loaded


@pytest.mark.parametrize('in_channels', [1, 2, 4, 6])
def test_rgb_weights_start_a_backbone_for_other_inputs_by_the_stated_rule(
        tmp_path, monkeypatch, in_channels):
    logged = []
    monkeypatch.setattr(loading, 'print_log', lambda message, **kwargs: logged.append(message))
    official, files = layouts('t0', with_norms=False)
    path = tmp_path / 'official.pth'
    torch.save(files['official'], path)
    model = FasterNet('t0', in_channels=in_channels,
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    loaded = model.state_dict()
    for key, value in official.items():
        if key != 'patch_embed.proj.weight':
            assert torch.equal(loaded[key], value), key
    rgb, adapted = official['patch_embed.proj.weight'], loaded['patch_embed.proj.weight']
    assert adapted.shape == (40, in_channels, 4, 4)
    if in_channels < 3:
        for channel in range(in_channels):
            torch.testing.assert_close(adapted[:, channel], rgb.sum(1) / in_channels)
        # Identical channels answer as the RGB model does to the grey image.
        grey = torch.rand(1, 1, 32, 32)
        torch.testing.assert_close(
            torch.nn.functional.conv2d(grey.repeat(1, in_channels, 1, 1), adapted, stride=4),
            torch.nn.functional.conv2d(grey.repeat(1, 3, 1, 1), rgb, stride=4))
    else:
        assert torch.equal(adapted[:, :3], rgb)
        assert not adapted[:, 3:].any()
    assert any(f'the embedding conv takes {in_channels} input channels, the weights 3' in m
               for m in logged), logged


@pytest.mark.parametrize('other, difference', [
    (dict(arch='t1'), 'embed_dims 64 vs 40'),
    (dict(n_div=2), 'n_div 2 vs 4'),
    (dict(mlp_ratio=3.), 'mlp_ratio 3.0 vs 2.0'),
])
def test_weights_of_another_network_stop_naming_what_differs(tmp_path, other, difference):
    torch.manual_seed(0)
    path = tmp_path / 'other.pth'
    torch.save(FasterNet(**{'arch': 't0', **other}).state_dict(), path)
    model = FasterNet('t0', in_channels=4,
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError, match=rf'they differ in {re.escape(difference)}'):
        model.init_weights()
    resnet = tmp_path / 'resnet.pth'
    torch.save(torchvision.models.resnet18().state_dict(), resnet)
    with pytest.raises(CheckpointError, match='not a FasterNet checkpoint'):
        load_backbone_weights(model, str(resnet))


def test_a_non_strict_load_of_the_same_network_skips_what_does_not_fit_as_mmengine_does(
        tmp_path, capsys):
    from mmengine.runner import load_checkpoint
    torch.manual_seed(0)
    rgb = FasterNet('t0').state_dict()
    path = tmp_path / 'rgb.pth'
    torch.save(rgb, path)
    model = FasterNet('t0', in_channels=4)
    embedding = model.patch_embed.proj.weight.detach().clone()
    load_checkpoint(model, str(path), strict=False)  # mmengine's own loader
    assert 'size mismatch for patch_embed.proj.weight' in capsys.readouterr().out
    assert torch.equal(model.patch_embed.proj.weight, embedding)  # skipped
    for key, value in model.state_dict().items():
        if key != 'patch_embed.proj.weight':
            assert torch.equal(value, rgb[key]), key


def test_a_segmentor_config_that_keeps_pretrained_builds_it_into_init_cfg(tmp_path):
    """mmseg's ResNet configs set ``model.pretrained``, which the segmentor passes on to its
    backbone; a user who swaps the backbone by hand leaves it set."""
    from mmengine.hub import get_config
    from mmseg.registry import MODELS as SEG_MODELS
    init_default_scope('mmseg')

    def segmentor_config():
        cfg = get_config('mmseg::pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py').model
        cfg.backbone = dict(type='FasterNet', arch='t0')
        cfg.decode_head.in_channels, cfg.auxiliary_head.in_channels = 320, 160
        return cfg

    cfg = segmentor_config()
    assert cfg.pretrained == 'open-mmlab://resnet50_v1c'
    with pytest.warns(UserWarning, match=r"pretrained='open-mmlab://resnet50_v1c' is "
                                         r"deprecated: use init_cfg=dict\(type='Pretrained'"):
        model = SEG_MODELS.build(cfg)
    assert model.backbone.init_cfg[-1] == dict(type='Pretrained',
                                               checkpoint='open-mmlab://resnet50_v1c')
    # Pointed at FasterNet weights, it loads them (after the other inits, for the norms).
    official, files = layouts('t0', with_norms=False)
    path = tmp_path / 'official.pth'
    torch.save(files['official'], path)
    cfg = segmentor_config()
    cfg.pretrained = str(path)
    with pytest.warns(UserWarning, match='deprecated'):
        model = SEG_MODELS.build(cfg)
    model.init_weights()
    for key, value in official.items():
        assert torch.equal(model.backbone.state_dict()[key], value), key
    with pytest.raises(ValueError, match='keep one'):
        FasterNet('t0', pretrained=str(path),
                  init_cfg=dict(type='Pretrained', checkpoint=str(path)))


def test_missing_and_unexpected_keys_are_errors(tmp_path):
    official, files = layouts('t0', with_norms=False)
    state = dict(files['official'])
    del state['stages.4.blocks.7.mlp.3.weight']
    state['stages.4.blocks.8.mlp.0.weight'] = torch.zeros(1)
    path = tmp_path / 'broken.pth'
    torch.save(state, path)
    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError) as error:
        model.init_weights()
    assert 'missing keys: stages.4.blocks.7.mlp.3.weight' in str(error.value)
    assert 'unexpected keys: stages.4.blocks.8.mlp.0.weight' in str(error.value)


def test_stages_after_the_last_output_are_not_built_and_their_weights_are_skipped(
        tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(loading, 'print_log', lambda message, **kwargs: logged.append(message))
    official, files = layouts('t0', with_norms=False)
    path = tmp_path / 'official.pth'
    torch.save(files['official'], path)
    model = FasterNet('t0', out_indices=(0, 1, 2),
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert len(model.stages) == 5  # stage, merge, stage, merge, stage
    model.init_weights()
    for key, value in model.state_dict().items():
        if not key.startswith('norm'):
            assert torch.equal(value, official[key]), key
    skipped = sum(1 for k in official if k.startswith(('stages.5.', 'stages.6.')))
    assert skipped == 22
    assert any(f'{skipped} weights of the stages after out_indices=(0, 1, 2) are ignored'
               in message for message in logged)


def test_pretrained_in_a_list_of_init_cfgs_loads_strictly_after_the_others(tmp_path):
    official, files = layouts('t0', with_norms=False)
    path = tmp_path / 'official.pth'
    torch.save(files['official'], path)
    model = FasterNet('t0', init_cfg=[
        dict(type='Constant', layer='Conv2d', val=0.5),
        dict(type='Constant', layer='_BatchNorm', val=2., bias=0.),
        dict(type='Pretrained', checkpoint=str(path))])
    model.init_weights()
    loaded = model.state_dict()
    for key, value in official.items():
        assert torch.equal(loaded[key], value), key
    assert torch.equal(model.norm6.weight, torch.full((320, ), 2.))  # from the Constant init

    broken = dict(files['official'])
    del broken['stages.4.blocks.7.mlp.3.weight']
    torch.save(broken, path)
    model = FasterNet('t0', init_cfg=[dict(type='TruncNormal', layer='Conv2d', std=.02),
                                      dict(type='Pretrained', checkpoint=str(path))])
    with pytest.raises(CheckpointError, match='missing keys: stages.4.blocks.7.mlp.3.weight'):
        model.init_weights()


def test_pretrained_with_a_prefix_loads_the_weights_under_it_strictly(tmp_path):
    official, _ = layouts('t0', with_norms=True)
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': {f'teacher.backbone.{k}': v for k, v in official.items()}},
               path)
    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                          prefix='teacher.backbone'))
    model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, official[key]), key

    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                          prefix='student.'))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"no weights under the prefix 'student.'.*"
                                              r"\['teacher'\]"):
        model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_two_pretrained_init_cfgs_are_refused(tmp_path):
    model = FasterNet('t0', init_cfg=[dict(type='Pretrained', checkpoint='a.pth'),
                                      dict(type='Pretrained', checkpoint='b.pth')])
    with pytest.raises(ValueError, match='2 Pretrained entries'):
        model.init_weights()


class Exploit:
    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_a_pickle_that_runs_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / 'pwned'
    exploit = Exploit()
    exploit.marker = marker
    path = tmp_path / 'evil.pth'
    torch.save({'patch_embed.proj.weight': torch.zeros(1), 'payload': exploit}, path)
    with pytest.raises(CheckpointError, match='nothing in it was run'):
        read_checkpoint(str(path))
    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError):
        model.init_weights()
    assert not marker.exists()


class EvalExploit:
    def __reduce__(self):
        return (eval, (f'open({str(self.marker)!r}, "w")', ))


class PopenExploit:
    def __reduce__(self):
        return (subprocess.Popen, (['touch', str(self.marker)], ))


@pytest.mark.parametrize('exploit, named', [
    (Exploit, r'(posix|os|nt)\.system'), (EvalExploit, r'builtins\.eval'),
    (PopenExploit, r'subprocess\.Popen')])
def test_a_pickle_that_would_run_code_gets_no_advice_to_load_it(tmp_path, exploit, named):
    """The message names the code-running global and says not to load the file, never how
    to load it fully; a harmless data class beside it changes nothing."""
    marker = tmp_path / 'pwned'
    payload = exploit()
    payload.marker = marker
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'args': argparse.Namespace(lr=0.1),
                'payload': payload}, path)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(str(path))
    message = str(error.value)
    assert re.search(named, message), message
    assert 'weights_only=False' not in message and 'torch.load(' not in message
    assert all(words in message for words in ('nothing in it was run', 'run code',
                                              'Do not load this file', 'source you trust'))
    assert not marker.exists()


def test_a_pickle_of_harmless_data_classes_gets_the_resave_advice(tmp_path):
    path = tmp_path / 'old.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'args': argparse.Namespace(lr=0.1)},
               path)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(str(path))
    message = str(error.value)
    assert 'argparse.Namespace' in message and 'nothing in it was run' in message
    assert 'if you trust this file' in message and 'weights_only=False' in message


def test_the_code_running_table_knows_modules_builtins_and_python_2_names():
    assert code_running_globals([
        'posix.system', 'nt.system', 'os.popen', '__builtin__.eval', 'builtins.exec',
        'subprocess.Popen', 'os.path.join', 'builtins.getattr', 'argparse.Namespace',
        'builtins.set', 'collections.OrderedDict', 'pathlib.PosixPath', 'torch.hub.load',
        'torch.FloatStorage']) == [
        'posix.system', 'nt.system', 'os.popen', 'builtins.eval', 'builtins.exec',
        'subprocess.Popen', 'os.path.join', 'builtins.getattr', 'torch.hub.load']
    assert code_running_globals(['commands.Popen']) == ['subprocess.Popen']


def save_mmengine_checkpoint(path):
    """A checkpoint holding what mmengine 0.10 writes besides tensors: a message hub."""
    hub = MessageHub.get_instance('weights_only_test')
    hub.update_scalar('train/loss', 0.5)
    torch.save(dict(state_dict={'w': torch.ones(2)}, message_hub=hub.state_dict(),
                    meta=dict(epoch=1)), path)


class Sneaky:
    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__class__'))


def test_mmengine_checkpoints_load_weights_only_without_a_general_getattr(tmp_path):
    save_mmengine_checkpoint(tmp_path / 'epoch_1.pth')
    loaded = load_weights_only(str(tmp_path / 'epoch_1.pth'))
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    torch.save({'x': Sneaky()}, tmp_path / 'sneaky.pth')
    with pytest.raises(Exception, match='refusing getattr'):
        load_weights_only(str(tmp_path / 'sneaky.pth'))


@pytest.mark.skipif(not torch_at_least(2, 6), reason='torch < 2.6 loads whole pickles by '
                    'default and allow-lists no (object, name) pairs; mmfasternet reads '
                    'through its own allow-list there (tested above)')
def test_plain_torch_load_reads_mmengine_checkpoints_after_the_opt_in(tmp_path):
    """Importing the plugin leaves torch's allow-list alone; the opt-in extends it with
    mmengine's data classes, and no general getattr."""
    save_mmengine_checkpoint(tmp_path / 'epoch_1.pth')
    torch.save({'x': Sneaky()}, tmp_path / 'sneaky.pth')
    assert host_load(tmp_path / 'epoch_1.pth', 'plugin', 'torch.load') == (
        'refused UnpicklingError')
    assert host_load(tmp_path / 'epoch_1.pth', 'plugin', 'opt-in', 'torch.load') == (
        "loaded ['message_hub', 'meta', 'state_dict'] {'epoch': 1}")
    assert host_load(tmp_path / 'sneaky.pth', 'plugin', 'opt-in', 'torch.load') == (
        'refused UnpicklingError')


HOST_LOAD = """
import sys
if 'plugin' in sys.argv:
    import mmfasternet
if 'opt-in' in sys.argv:
    from mmfasternet.checkpoint import read_checkpoints_in_mmengine
    read_checkpoints_in_mmengine()
import torch
from mmengine.runner.checkpoint import _load_checkpoint
load = torch.load if 'torch.load' in sys.argv else _load_checkpoint
try:
    loaded = load(sys.argv[1], map_location='cpu')
    print('loaded', sorted(loaded), repr(loaded.get('meta')))
except Exception as error:
    print('refused', type(error).__name__)
"""


def host_load(path, *how):
    """How mmengine's own checkpoint loading (or plain ``torch.load``: ``'torch.load'``)
    treats ``path`` in a new process: after ``import mmfasternet`` (``'plugin'``) and its one
    opt-in call (``'opt-in'``), or not."""
    result = subprocess.run([sys.executable, '-c', HOST_LOAD, str(path), *how],
                            capture_output=True, text=True, timeout=300, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_importing_the_plugin_leaves_how_the_host_loads_checkpoints(tmp_path):
    """A host project's checkpoint holding non-tensor objects (a Path, a datetime) loads,
    or is refused, in a process that imported mmfasternet exactly as without it."""
    path = tmp_path / 'host.pth'
    torch.save(dict(state_dict={'w': torch.ones(2)},
                    meta=dict(root=Path('/data/coco'), saved=datetime(2026, 12, 3))), path)
    without = host_load(path)
    assert host_load(path, 'plugin') == without
    # torch >= 2.6 loads weights-only by default and knows neither class; older torch
    # runs the whole pickle.
    assert without == ('refused UnpicklingError' if torch_at_least(2, 6) else
                       "loaded ['meta', 'state_dict'] {'root': PosixPath('/data/coco'), "
                       "'saved': datetime.datetime(2026, 12, 3, 0, 0)}")


def test_tools_and_opted_in_hosts_read_checkpoints_weights_only(tmp_path, tiny_toy_coco):
    save_mmengine_checkpoint(tmp_path / 'epoch_1.pth')
    assert host_load(tmp_path / 'epoch_1.pth', 'plugin', 'opt-in') == (
        "loaded ['message_hub', 'meta', 'state_dict'] {'epoch': 1}")
    marker = tmp_path / 'pwned'
    exploit = Exploit()
    exploit.marker = marker
    torch.save({'state_dict': {}, 'payload': exploit}, tmp_path / 'evil.pth')
    assert host_load(tmp_path / 'evil.pth', 'plugin', 'opt-in') == 'refused CheckpointError'
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    result = run_tool(TEST, config, str(tmp_path / 'evil.pth'), '--work-dir',
                      str(tmp_path / 'work'), check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert re.search(r'(posix|os|nt)\.system', result.stderr.strip().splitlines()[-1])
    assert not marker.exists()


def test_converter_turns_an_mmdet2_checkpoint_into_a_detector_checkpoint(tmp_path):
    official, _ = layouts('s', with_norms=True)
    src, dst = tmp_path / 'mask_rcnn.pth', tmp_path / 'mm.pth'
    torch.save(mmdet2_checkpoint(official), src)
    result = run_tool(osp.join(REPO, 'tools', 'model_converters', 'official2mm.py'),
                      str(src), str(dst))
    assert 'mmdet/mmseg layout' in result.stdout and 'detector' in result.stdout
    state = read_checkpoint(str(dst))['state_dict']
    assert state['backbone.norm6.weight'].shape == (1024, )
    assert 'neck.lateral_convs.0.conv.weight' in state


def broken_checkpoint(tmp_path, kind):
    """A checkpoint file broken the way downloads and saves break, and what the error
    must say about it."""
    good = tmp_path / 'good.pth'
    torch.save(FasterNet('t0').state_dict(), good)
    path = tmp_path / f'{kind}.pth'
    if kind == 'truncated':
        path.write_bytes(good.read_bytes()[:good.stat().st_size // 2])
        return path, 'is truncated or damaged: it starts as a PyTorch (zip) checkpoint'
    if kind == 'empty':
        path.write_bytes(b'')
        return path, 'is empty (0 bytes)'
    if kind == 'text':
        path.write_text('<!DOCTYPE html><html>Not Found</html>')
        return path, "is a text file (an HTML page from a failed download?): it starts " \
            "with b'<!DOCTYPE html><'"
    if kind == 'directory':
        path.mkdir()
        (path / 'epoch_1.pth').write_bytes(good.read_bytes())
        return path, 'is a directory, not a checkpoint file: give the path of the file; it ' \
            'holds epoch_1.pth'
    path = tmp_path / f'{kind}.safetensors'
    header = b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}'  # no closing }
    path.write_bytes(len(header).to_bytes(8, 'little') + header + bytes(8))
    return path, 'is a damaged safetensors file: its header is not valid JSON'


BROKEN = ['truncated', 'empty', 'text', 'directory', 'safetensors']


@pytest.mark.parametrize('kind', BROKEN)
def test_broken_checkpoints_are_named_with_what_is_wrong(tmp_path, kind):
    path, message = broken_checkpoint(tmp_path, kind)
    with pytest.raises(CheckpointError, match=f'^{re.escape(f"{path} {message}")}'):
        read_checkpoint(str(path))
    model = FasterNet('t0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError, match=re.escape(message)):
        model.init_weights()


def test_safetensors_files_are_read(tmp_path):
    from safetensors.torch import save_file
    net = timm.create_model('fasternet_t0', pretrained=False)
    save_file(net.state_dict(), str(tmp_path / 'model.safetensors'))
    checkpoint = read_checkpoint(str(tmp_path / 'model.safetensors'))
    assert detect_layout(checkpoint).name == 'timm'
    model = FasterNet('t0', out_indices=(3, ), out_norm=False)
    loading.load_backbone_weights(model, str(tmp_path / 'model.safetensors'))
    assert torch.equal(model.patch_embed.proj.weight, net.patch_embed.proj.weight)
