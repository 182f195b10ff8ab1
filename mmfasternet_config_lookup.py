"""Let mmengine resolve ``mmfasternet::NAME.py`` config paths in any program, before
mmfasternet itself is imported.

A config of another project may start with ``_base_ = ['mmfasternet::mask_rcnn_fasternet_s.py']``
and be run by that project's own tools, which parse ``_base_`` before any ``custom_imports``.
mmengine 0.10's ``package::path`` look-up only knows OpenMMLab's own packages (mmengine issue
#1410), wants a folder in the path, and finds an editable install's package in the wrong
place. Python runs this module at start-up, from ``mmfasternet_config_lookup.pth`` in
site-packages. It imports nothing: once mmengine's config (or hub) module has been imported,
it wraps that module's two look-ups so that ``mmfasternet::`` paths resolve to the configs
packaged in ``mmfasternet/.mim/configs``; every other path goes to mmengine unchanged.
"""
import importlib.abc
import importlib.util
import os.path as osp
import sys

PACKAGE = 'mmfasternet'
PTH_NAME = 'mmfasternet_config_lookup.pth'
PTH_LINE = 'import mmfasternet_config_lookup; mmfasternet_config_lookup.install()\n'
PATCHED_MODULES = ('mmengine.config.config', 'mmengine.hub.hub')


def _package_and_cfg_path(original):

    def package_and_cfg_path(cfg_path: str):
        package, separator, name = cfg_path.partition('::')
        if separator and package == PACKAGE:
            return PACKAGE, name
        return original(cfg_path)

    return package_and_cfg_path


def _installed_path(original):

    def installed_path(package: str) -> str:
        if package == PACKAGE:
            return osp.dirname(importlib.util.find_spec(PACKAGE).origin)
        return original(package)

    return installed_path


def patch(module) -> None:
    """Wrap the look-ups of one of mmengine's config-resolving modules."""
    module._get_package_and_cfg_path = _package_and_cfg_path(module._get_package_and_cfg_path)
    module.get_installed_path = _installed_path(module.get_installed_path)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of the modules to patch, so that they are
    patched right after they execute."""

    def find_spec(self, name, path, target=None):
        if name not in PATCHED_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                exec_module = spec.loader.exec_module

                def exec_and_patch(module, exec_module=exec_module):
                    exec_module(module)
                    patch(module)

                spec.loader.exec_module = exec_and_patch
                return spec
        return None


def install() -> None:
    """Patch the modules already imported; patch the others when they are imported."""
    for name in PATCHED_MODULES:
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def write_pth() -> str:
    """Put ``mmfasternet_config_lookup.pth`` into this interpreter's site-packages, for an
    editable install (setuptools' editable wheels carry no start-up file of a project's;
    ``pip install .`` installs it itself). Returns its path."""
    import sysconfig
    path = osp.join(sysconfig.get_paths()['purelib'], PTH_NAME)
    with open(path, 'w') as f:
        f.write(PTH_LINE)
    return path


if __name__ == '__main__':
    print(f'wrote {write_pth()}')
