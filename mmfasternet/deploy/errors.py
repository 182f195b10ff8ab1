"""The errors of deployment, each a :class:`~mmfasternet.errors.MMFasterNetError` and a
``ValueError``: the message says what is wrong and how to fix it."""
from mmfasternet.errors import MMFasterNetError


class DeployError(MMFasterNetError, ValueError):
    """A deployment input a user can fix (a file, a runtime, a precision, calibration data)."""


class MissingRuntime(DeployError):
    """The runtime asked for is not installed; the message names the extra to install."""


class NotExportable(DeployError):
    """A model with a part that has no ONNX path here; the message names the part."""


class CalibrationError(DeployError):
    """The calibration images cannot be had; nothing was quantised."""
