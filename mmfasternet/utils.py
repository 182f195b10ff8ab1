"""Small helpers shared across the package."""
import json
import os


def write_json_atomically(obj, path: str, **kwargs) -> None:
    """Serialise ``obj`` fully, then replace ``path`` in one step: a failure leaves no
    half-written file behind."""
    text = json.dumps(obj, **kwargs)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
