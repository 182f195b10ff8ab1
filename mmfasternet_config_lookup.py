"""Let mmengine resolve ``mmfasternet::NAME.py`` config paths in any program, before
mmfasternet itself is imported.

A config of another project may start with ``_base_ = ['mmfasternet::mask_rcnn_fasternet_s.py']``
and be run by that project's own tools, which parse ``_base_`` before any ``custom_imports``.
mmengine 0.10's ``package::path`` look-up only knows OpenMMLab's own packages (mmengine issue
#1410), wants a folder in the path, and finds an editable install's package in the wrong
place; it has no hook for other packages, so two of its look-ups are wrapped. Exactly:

- ``mmfasternet_config_lookup.pth`` in site-packages (:data:`PTH_LINE`) runs at every
  interpreter start. If this module can be found (``importlib.util.find_spec``) it imports it
  and calls :func:`install`; if not (the package uninstalled, the checkout moved) it does
  nothing and prints nothing.
- :func:`install` (also run by ``import mmfasternet``) adds one finder at the front of
  ``sys.meta_path``. It finds nothing itself: when ``mmengine.config.config`` or
  ``mmengine.hub.hub`` is imported (or reloaded), it lets the usual finder load the module,
  then replaces two names in that module's namespace only, ``_get_package_and_cfg_path`` and
  ``get_installed_path``, by wrappers (a module already imported is wrapped at once). A
  program that imports neither module is left as it was. ``mmengine.config.utils``,
  ``mmengine.utils``, ``Config`` and every other library keep their functions.
- A wrapper calls mmengine's function with the same argument, and returns its result or
  raises its error, for every path but ``mmfasternet::NAME`` and every package but
  ``mmfasternet``: those resolve to ``('mmfasternet', NAME)`` and to the folder of the package
  ``import mmfasternet`` would load (mmengine's function, if that is not found).
- Each wrapper keeps mmengine's function as ``__wrapped__``. The ``.pth`` line, ``import
  mmfasternet`` and reloads of either module wrap each module once at most.
"""
import functools
import importlib.machinery
import importlib.util
import os.path as osp
import sys

PACKAGE = 'mmfasternet'
MODULE = 'mmfasternet_config_lookup'
PTH_NAME = f'{MODULE}.pth'
# One line, run by site.py at start-up; silent when this module is gone.
PTH_LINE = (f"import importlib.util; importlib.util.find_spec('{MODULE}') is None or "
            f"__import__('{MODULE}').install()\n")
PATCHED_MODULES = ('mmengine.config.config', 'mmengine.hub.hub')
#: Set on the wrappers and the finder, so that no reload or second call wraps again.
MARK = '__mmfasternet_config_lookup__'


def _marked(function):
    setattr(function, MARK, True)
    return function


def _is_ours(obj) -> bool:
    # Read from __dict__: a finder's __getattr__ might answer any name.
    return getattr(obj, '__dict__', {}).get(MARK) is True


def _package_and_cfg_path(original):

    @functools.wraps(original)
    def package_and_cfg_path(cfg_path):
        if isinstance(cfg_path, str) and cfg_path.startswith(f'{PACKAGE}::'):
            name = cfg_path[len(PACKAGE) + 2:]
            if name and '::' not in name:
                return PACKAGE, name
        return original(cfg_path)

    return _marked(package_and_cfg_path)


def _installed_path(original):

    @functools.wraps(original)
    def installed_path(package):
        if package == PACKAGE:
            spec = importlib.util.find_spec(PACKAGE)
            if spec is not None and spec.origin:
                return osp.dirname(spec.origin)
        return original(package)

    return _marked(installed_path)


WRAPPERS = {'_get_package_and_cfg_path': _package_and_cfg_path,
            'get_installed_path': _installed_path}


def patch(module) -> None:
    """Wrap the two look-ups of one of mmengine's config-resolving modules, unless they are
    wrapped already."""
    for name, wrap in WRAPPERS.items():
        function = getattr(module, name, None)
        if function is not None and not _is_ours(function):
            setattr(module, name, wrap(function))


class _PatchOnImport:
    """A meta-path finder that finds nothing itself: it has the usual finder find the
    modules of :data:`PATCHED_MODULES` and wraps their look-ups right after they run."""

    def __init__(self):
        setattr(self, MARK, True)
        self._finding = set()

    def find_spec(self, name, path=None, target=None):
        if name not in PATCHED_MODULES or name in self._finding:
            return None
        self._finding.add(name)
        try:
            spec = self._others_spec(name, path, target)
        finally:
            self._finding.discard(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module'):
            return spec
        if isinstance(spec.loader, (importlib.machinery.SourceFileLoader,
                                    importlib.machinery.SourcelessFileLoader)):
            # A loader of this one file: its own exec_module is wrapped, its type kept.
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                patch(module)

            spec.loader.exec_module = exec_and_patch
        else:  # a loader that may serve other modules too (a zip file's) is not changed
            spec.loader = _PatchingLoader(spec.loader)
        return spec

    def _others_spec(self, name, path, target):
        for finder in sys.meta_path:
            if _is_ours(finder) or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                return spec
        return None


class _PatchingLoader:
    """Loads a module with ``loader``, then wraps its look-ups."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        create = getattr(self._loader, 'create_module', None)
        return create(spec) if create else None

    def exec_module(self, module):
        self._loader.exec_module(module)
        patch(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


def install() -> None:
    """Wrap the look-ups of the modules already imported, and add the finder that wraps
    the others when they are imported; both at most once."""
    for name in PATCHED_MODULES:
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(_is_ours(finder) for finder in sys.meta_path):
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
