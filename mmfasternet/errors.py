"""The one base class of every error a user can fix. Each subclass keeps the built-in type
its kind calls for (a bad value is still a ``ValueError``), so code that catches those goes
on working."""


class MMFasterNetError(Exception):
    """Something a user can fix: a checkpoint, the data, a model file, a runtime, an argument
    or a version. The message says what is wrong and how to fix it; the tools print it as
    one line (:func:`mmfasternet.engine.tool_config.stops_with_a_message`), and every other
    exception keeps its traceback."""
