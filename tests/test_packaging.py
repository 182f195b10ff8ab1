"""mmfasternet as a plugin of an existing environment: the built wheel installs beside the
user's stack without touching it, and its configs and mim metadata travel with it."""
import glob
import json
import os
import os.path as osp
import shutil
import site
import subprocess
import sys
import textwrap

import pytest

import mmfasternet_config_lookup as lookup
from conftest import REPO

USER_CONFIGS = {
    'mask_rcnn_fasternet_t0.py': ('mmdet', 'MaskRCNN'),
    'upernet_fasternet_t0.py': ('mmseg', 'EncoderDecoder'),
    'fasternet_t0_in1k.py': ('mmpretrain', 'ImageClassifier'),
}
OFFICIAL = 'https://github.com/JierunChen/FasterNet/releases/download/v1.0/'

# Run by the interpreter under test, from a folder outside the checkout: another project's
# config inherits each family's config by `mmfasternet::NAME.py` and builds its model.
USE_THE_PLUGIN = textwrap.dedent("""
    import json, sys
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope

    built = {}
    for name, (scope, model_type) in json.loads(sys.argv[1]).items():
        with open('my_config.py', 'w') as f:
            f.write(f"_base_ = ['mmfasternet::{name}']\\n"
                    "model = dict(backbone=dict(init_cfg=None))\\n")
        cfg = Config.fromfile('my_config.py')  # parses _base_ before importing mmfasternet
        init_default_scope(scope)
        registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
        model = registry.build(cfg.model)
        built[name] = [type(model).__name__, type(model.backbone).__name__]
    s = get_config('mmfasternet::mask_rcnn_fasternet_s.py', pretrained=True)
    import mmfasternet
    print(json.dumps(dict(built=built, weights=s.model_path, arch=s.model.backbone.arch,
                          package=mmfasternet.__file__)))
""")


def use_the_plugin(python, cwd):
    result = subprocess.run([python, '-c', USE_THE_PLUGIN, json.dumps(USER_CONFIGS)], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_used(report):
    for name, (_, model_type) in USER_CONFIGS.items():
        assert report['built'][name] == [model_type, 'FasterNet'], name
    assert report['weights'] == OFFICIAL + 'mask_rcnn_fasternet_s_fpn_1x_coco_20221111_063419.pth'
    assert report['arch'] == 's'


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """The wheel `pip wheel` builds from a copy of the checkout (the copy keeps build
    output out of the working tree)."""
    source = tmp_path_factory.mktemp('source') / 'mmfasternet'
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv*', 'work_dirs', 'data', 'build', '*.egg-info', '__pycache__'))
    out = tmp_path_factory.mktemp('dist')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
                    '--no-build-isolation', str(source), '-w', str(out)], check=True,
                   capture_output=True, timeout=600)
    return glob.glob(str(out / 'mmfasternet-*.whl'))[0]


@pytest.fixture(scope='module')
def user_venv(tmp_path_factory, wheel):
    """A new venv that sees this stack (torch, mmcv, mmdet, ...) but not this checkout, with
    the wheel installed by plain `pip install`, offline."""
    venv = tmp_path_factory.mktemp('user') / 'venv'
    # No pip or setuptools of its own: the stack's (torch >= 2.14 needs setuptools >= 77) serve.
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    own_site = subprocess.run([python, '-c', 'import site; print(site.getsitepackages()[0])'],
                              capture_output=True, text=True, check=True).stdout.strip()
    # A plain path entry: the stack's packages, without running its .pth files (which would
    # bring this checkout's editable install along).
    with open(osp.join(own_site, 'existing_stack.pth'), 'w') as f:
        f.write('\n'.join(site.getsitepackages()) + '\n')
    before = set(os.listdir(own_site))
    # A plain pip: this machine's pip settings (a site-wide cap on torch, local wheel folders)
    # would otherwise "fix" the stack's torch by installing another one beside it.
    env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_')}
    env['PIP_CONFIG_FILE'] = os.devnull
    install = subprocess.run([python, '-m', 'pip', 'install', '--no-index', wheel],
                             capture_output=True, text=True, timeout=600, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    return python, own_site, sorted(set(os.listdir(own_site)) - before - {'__pycache__'})


@pytest.mark.long
def test_pip_install_adds_only_the_plugin(user_venv):
    _, _, added = user_venv
    assert all(name.startswith('mmfasternet') for name in added), added
    assert 'mmfasternet_config_lookup.pth' in added and 'mmfasternet' in added


@pytest.mark.long
def test_installed_wheel_carries_configs_and_metadata(user_venv):
    _, own_site, _ = user_venv
    mim = osp.join(own_site, 'mmfasternet', '.mim')
    configs = sorted(set(os.listdir(osp.join(REPO, 'configs'))) - {'__pycache__'})
    assert sorted(set(os.listdir(osp.join(mim, 'configs'))) - {'__pycache__'}) == configs
    assert osp.isfile(osp.join(mim, 'model-index.yml'))
    assert not osp.islink(osp.join(mim, 'configs'))
    # mmengine's config look-up needs pkg_resources, which torch's setuptools on Python 3.12
    # no longer has: the wheel asks for one that does.
    metadata = glob.glob(osp.join(own_site, 'mmfasternet-*.dist-info', 'METADATA'))[0]
    assert 'Requires-Dist: setuptools<81' in open(metadata).read().splitlines()


@pytest.mark.long
def test_installed_plugin_serves_mmfasternet_configs_outside_the_checkout(user_venv, tmp_path):
    python, own_site, _ = user_venv
    report = use_the_plugin(python, tmp_path)
    assert report['package'] == osp.join(own_site, 'mmfasternet', '__init__.py')
    check_used(report)


@pytest.mark.long
def test_editable_install_serves_mmfasternet_configs_outside_the_checkout(tmp_path):
    report = use_the_plugin(sys.executable, tmp_path)
    assert report['package'] == osp.join(REPO, 'mmfasternet', '__init__.py')
    check_used(report)


# The start-up hook (mmfasternet_config_lookup), seen from new interpreters. SEE_THE_HOOK
# is put before each of the scripts below: `start_up(dir)` runs the .pth files of `dir` as
# site.py does at start-up, `state()` reports what the hook changed.
SEE_THE_HOOK = textwrap.dedent("""
    import importlib, json, site, sys

    def start_up(site_dir):
        site.addsitedir(site_dir)

    def depth(function):
        n = 0
        while hasattr(function, '__wrapped__'):
            function, n = function.__wrapped__, n + 1
        return n

    def state():
        import mmengine.config.config as config, mmengine.config.utils as utils
        import mmengine.hub.hub as hub, mmengine.utils as mmengine_utils
        from mmengine.config import Config
        originals = dict(_get_package_and_cfg_path=utils._get_package_and_cfg_path,
                         get_installed_path=mmengine_utils.get_installed_path)
        return dict(
            depths=sorted({depth(getattr(module, name)) for module in (config, hub)
                           for name in originals}),
            wrap_the_originals=all(getattr(module, name).__wrapped__ is original
                                   for module in (config, hub)
                                   for name, original in originals.items()),
            originals_untouched=all(depth(f) == 0 and f.__module__.startswith('mmengine.')
                                    for f in [*originals.values(), Config._get_cfg_path,
                                              Config.fromfile, Config._file2dict]),
            finders=sum(getattr(f, '__dict__', {}).get('__mmfasternet_config_lookup__') is True
                        for f in sys.meta_path))
""")

# For every path and package but mmfasternet's, each wrapper returns what mmengine's own
# function returns, or raises the same error.
SAME_AS_MMENGINE = textwrap.dedent("""
    def outcome(function, argument):
        try:
            return repr(function(argument))
        except BaseException as error:
            return f'{type(error).__name__}: {error}'

    def same_as_mmengine():
        import mmengine.config.config as config, mmengine.hub.hub as hub
        paths = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', 'mmseg::a/b.py',
                 'mmdet::flat.py', 'other::a/b.py', 'mmdet::a::b/c.py', 'mmfasternet::',
                 'mmfasternet::a::b.py', 'mmfasternet', '', 'x' * 300, None, 3]
        packages = ['mmdet', 'mmengine', 'mmsegmentation', 'not_a_package_xyz', '', None]
        return all(outcome(getattr(module, name), argument)
                   == outcome(getattr(module, name).__wrapped__, argument)
                   for module in (config, hub)
                   for name, arguments in (('_get_package_and_cfg_path', paths),
                                           ('get_installed_path', packages))
                   for argument in arguments)
""")


def run_python(script, *args, cwd, flags=()):
    """Run ``script`` (after the helpers above) in a new interpreter; its last line of
    output, as JSON, and its stderr."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    # mmengine's own look-ups warn that pkg_resources is deprecated.
    quiet = ['-W', 'ignore:pkg_resources is deprecated:UserWarning']
    result = subprocess.run(
        [sys.executable, *quiet, *flags, '-c',
         SEE_THE_HOOK + SAME_AS_MMENGINE + textwrap.dedent(script), *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.fixture
def pth_dir(tmp_path):
    """A folder holding the start-up file, as the install writes it."""
    folder = tmp_path / 'site'
    folder.mkdir()
    (folder / lookup.PTH_NAME).write_text(lookup.PTH_LINE)
    return folder


def test_the_hook_changes_only_two_names_in_two_mmengine_modules_and_keeps_their_results(
        pth_dir, tmp_path):
    """A program that reads no mmfasternet config: before mmengine's config module is
    imported nothing is wrapped; after, only the two look-ups that config and hub modules
    imported, each once, and each gives mmengine's own answer for every other path."""
    report, stderr = run_python("""
        start_up(sys.argv[1])
        before = [name for name in sys.modules if name.startswith('mmengine')]
        import mmengine.config
        import mmengine.hub
        print(json.dumps(dict(before=before, same=same_as_mmengine(), **state())))
    """, pth_dir, cwd=tmp_path)
    assert stderr == ''
    assert report == dict(before=[], same=True, depths=[1], wrap_the_originals=True,
                          originals_untouched=True, finders=1)


def test_the_hook_wraps_once_through_the_pth_import_and_reloads_and_serves_configs(
        pth_dir, tmp_path):
    """The .pth (twice), ``import mmfasternet``, reloads of the hook's module, of mmfasternet
    and of mmengine's modules: each look-up stays wrapped once, and ``mmfasternet::`` and
    ``mmdet::`` bases still resolve."""
    (tmp_path / 'mine.py').write_text("_base_ = ['mmfasternet::mask_rcnn_fasternet_t0.py']\n"
                                      "model = dict(backbone=dict(init_cfg=None))\n")
    (tmp_path / 'theirs.py').write_text(
        "_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py']\n")
    report, _ = run_python("""
        from mmengine.config import Config
        start_up(sys.argv[1])
        seen = [state()]
        import mmfasternet, mmfasternet_config_lookup
        seen.append(state())
        importlib.reload(importlib.import_module('mmfasternet_config_lookup')).install()
        importlib.reload(mmfasternet)
        start_up(sys.argv[1])
        seen.append(state())
        importlib.reload(sys.modules['mmengine.config.config'])
        importlib.reload(sys.modules['mmengine.hub.hub'])
        seen.append(state())
        mine, theirs = Config.fromfile('mine.py'), Config.fromfile('theirs.py')
        print(json.dumps(dict(seen=seen, same=same_as_mmengine(), mine=[
            mine.model.type, mine.model.backbone.type, mine.model.backbone.arch,
            mine.model.backbone.init_cfg], theirs=theirs.model.backbone.type)))
    """, pth_dir, cwd=tmp_path)
    once = dict(depths=[1], wrap_the_originals=True, originals_untouched=True, finders=1)
    assert report == dict(seen=[once] * 4, same=True, mine=['MaskRCNN', 'FasterNet', 't0', None],
                          theirs='ResNet')


def test_a_pth_left_behind_starts_python_silently(pth_dir, tmp_path):
    """The .pth without the hook's module (the package uninstalled, the checkout moved)
    prints nothing; with the module but no package, other paths still go to mmengine
    unchanged."""
    report, stderr = run_python("""
        start_up(sys.argv[1])
        print(json.dumps('mmfasternet_config_lookup' in sys.modules))
    """, pth_dir, cwd=tmp_path, flags=['-S'])  # no site-packages: neither module is found
    assert (report, stderr) == (False, '')

    module_only = tmp_path / 'module_only'
    module_only.mkdir()
    shutil.copy(osp.join(REPO, 'mmfasternet_config_lookup.py'), module_only)
    report, stderr = run_python("""
        sys.path[1:1] = sys.argv[2:]  # this environment's packages, without its .pth files
        start_up(sys.argv[1])
        import mmengine.config, mmengine.hub
        from importlib.util import find_spec
        import mmengine.config.config as config
        own = [outcome(f, 'mmfasternet') for f in (config.get_installed_path,
                                                    config.get_installed_path.__wrapped__)]
        print(json.dumps(dict(package=find_spec('mmfasternet') is not None,
                              same=same_as_mmengine() and own[0] == own[1], **state())))
    """, pth_dir, module_only, *site.getsitepackages(), cwd=tmp_path, flags=['-S'])
    assert stderr == ''
    assert report == dict(package=False, same=True, depths=[1], wrap_the_originals=True,
                          originals_untouched=True, finders=1)


@pytest.mark.long
def test_mim_search_lists_every_config_with_paper_numbers(user_venv, tmp_path):
    python, _, _ = user_venv
    result = subprocess.run(
        [python, '-m', 'mim', 'search', 'mmfasternet', '--json', str(tmp_path / 'zoo.json')],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    zoo = json.load(open(tmp_path / 'zoo.json'))  # {field: {model name: value}}
    expected = {f'configs/{name}' for name in os.listdir(osp.join(REPO, 'configs'))
                if name.endswith('.py')}
    assert set(zoo['config'].values()) == expected
    s = 'mask-rcnn_fasternet-s_fpn_1x_coco'
    assert (zoo['coco/box_ap'][s], zoo['coco/mask_ap'][s], zoo['parameters'][s]) == \
        (39.9, 36.9, 49000000)
    assert zoo['imagenet-1k/top_1_accuracy']['fasternet-l_in1k'] == 83.5
    assert zoo['weight']['fasternet-t0_in1k'] == \
        OFFICIAL + 'fasternet_t0-epoch.281-val_acc1.71.9180.pth'
    assert all(zoo['paper'].values())


@pytest.mark.long
def test_the_suite_collects_without_the_deploy_extras(tmp_path):
    """Without onnx, ONNX Runtime, OpenVINO and NNCF the tests that need none of them are
    collected, and the header names what is missing and how to install it."""
    (tmp_path / 'sitecustomize.py').write_text(
        'import sys\n'
        'for name in ("onnx", "onnxruntime", "onnxscript", "openvino", "nncf"):\n'
        '    sys.modules[name] = None  # imports of it fail, as if not installed\n')
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, '-m', 'pytest', 'tests', '--collect-only', '-q',
                             '-m', 'not deploy'], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    collected = [line for line in result.stdout.splitlines() if '::' in line]
    assert len(collected) > 150
    assert not any(line.startswith('tests/deploy/') for line in collected)
    assert any('test_every_path_matches_eval_mode[folded]' in line for line in collected)
    header = subprocess.run([sys.executable, '-m', 'pytest', 'tests/test_fileio.py'],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert ('tests/deploy/ not collected: onnx, onnxruntime, onnxscript, openvino, nncf '
            'missing') in header.stdout
