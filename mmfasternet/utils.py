"""Small helpers shared across the package."""
import json
import os


def write_text_atomically(text: str, path: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then replace ``path`` in one
    step: a failure leaves no half-written file behind."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def write_json_atomically(obj, path: str, **kwargs) -> None:
    """Serialise ``obj`` fully, then replace ``path`` in one step."""
    write_text_atomically(json.dumps(obj, **kwargs), path)
