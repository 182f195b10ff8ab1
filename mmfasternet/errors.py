"""The one base class of every error a user can fix, and the kinds that belong to no single
layer. Each subclass keeps the built-in type its kind calls for (a bad value is still a
``ValueError``), so code that catches those goes on working."""


class MMFasterNetError(Exception):
    """Something a user can fix: a checkpoint, the data, a model file, a runtime, an argument
    or a version. The message says what is wrong and how to fix it; the tools print it as
    one line (:func:`mmfasternet.engine.tool_config.stops_with_a_message`), and every other
    exception keeps its traceback."""


class ArgumentError(MMFasterNetError, ValueError):
    """An argument or config value that cannot work: a model's, a head's or a tool's."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of a type that cannot work (also a ``TypeError``)."""


class DeployedModelError(MMFasterNetError, RuntimeError):
    """A model switched to deploy mode (BN folded) asked to do what only the model before
    the switch does, such as training."""
