"""Every error a user can fix derives from :class:`mmfasternet.MMFasterNetError` and still
from the built-in class code caught before; the backbone's argument errors are such errors."""
import importlib
import inspect
import pkgutil

import pytest

import mmfasternet
from mmfasternet import FasterNet, MMFasterNetError
from mmfasternet.errors import ArgumentError, ArgumentTypeError, DeployedModelError


def package_modules():
    for info in pkgutil.walk_packages(mmfasternet.__path__, 'mmfasternet.'):
        yield importlib.import_module(info.name)


def test_every_error_class_of_the_package_derives_from_the_base():
    errors = {cls for module in package_modules() for _, cls in inspect.getmembers(
        module, inspect.isclass) if issubclass(cls, Exception) and not issubclass(cls, Warning)
        and cls.__module__.startswith('mmfasternet')}
    assert len(errors) >= 20  # the walk found the package's modules
    assert sorted(cls.__qualname__ for cls in errors
                  if not issubclass(cls, MMFasterNetError)) == []


@pytest.mark.parametrize('kwargs, error, builtin, says', [
    (dict(arch='t9'), ArgumentError, ValueError, "arch must be one of ['l', 'm', 's'"),
    (dict(arch=3), ArgumentTypeError, TypeError, 'arch must be a str or a dict, got int'),
    (dict(out_indices=(0, 0)), ArgumentError, ValueError, 'names a stage twice'),
    (dict(pretrained=1), ArgumentTypeError, TypeError, 'pretrained must be a checkpoint path'),
    (dict(pconv_forward='x'), ArgumentError, ValueError, 'pconv_forward must be one of'),
])
def test_the_backbones_argument_errors_are_the_packages(kwargs, error, builtin, says):
    with pytest.raises(error) as caught:
        FasterNet(**kwargs)
    assert isinstance(caught.value, builtin) and isinstance(caught.value, MMFasterNetError)
    assert says in str(caught.value)


def test_a_deployed_backbone_refuses_to_train_with_the_packages_error():
    from mmfasternet.deploy import switch_to_deploy
    model = switch_to_deploy(FasterNet(arch='t0').eval())
    with pytest.raises(DeployedModelError, match='cannot train') as caught:
        model.train()
    assert isinstance(caught.value, RuntimeError)
