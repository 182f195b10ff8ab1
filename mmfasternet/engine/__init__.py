"""What the tools share (config loading and overrides, data pre-flight checks, launchers,
checkpoints written in one step) and the hooks the configs use (:mod:`.hooks`)."""
from .checkpoint_storage import AtomicLocalBackend, NoSpaceLeft
from .data_check import DataCheckError, check_data, check_data_exists
from .hooks import RandomStateHook
from .launch import setup_cpu_distributed

__all__ = [
    'AtomicLocalBackend', 'DataCheckError', 'NoSpaceLeft', 'RandomStateHook', 'check_data',
    'check_data_exists', 'setup_cpu_distributed'
]
