"""The CPU runtimes an exported model runs in, one module each (ONNX Runtime, the default,
and OpenVINO), registered in :data:`RUNTIMES` (see :mod:`.base`). Every module of this
package is imported here, so a new runtime is one new module (and its tests); the runtimes'
own packages are imported when a file is opened."""
import importlib
import pkgutil

from .base import (RUNTIMES, Runtime, all_precisions, cpu_name_and_flags, isa_flags, open_runtime,
                   register_runtime)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f'{__name__}.{_module.name}')

__all__ = [
    'RUNTIMES', 'Runtime', 'all_precisions', 'cpu_name_and_flags', 'isa_flags', 'open_runtime',
    'register_runtime'
]
