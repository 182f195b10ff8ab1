from .data_check import DataCheckError, check_data, check_data_exists
from .launch import setup_cpu_distributed
from .random_state_hook import RandomStateHook

__all__ = [
    'DataCheckError', 'check_data', 'check_data_exists', 'setup_cpu_distributed',
    'RandomStateHook'
]
