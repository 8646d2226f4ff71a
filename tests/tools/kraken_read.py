"""Read archocr's PAGE / ALTO files with kraken's own XML parser; print its lines as JSON.

Run with the Python of a virtual environment holding `kraken --no-deps` and the few packages its
parser imports (scipy, scikit-image, shapely, iso639-lang). kraken.lib.segmentation imports torch at
module level although the XML parser never calls it; a stand-in module takes torch's place so that
the multi-gigabyte model stack is not needed to read a file.
"""

import json
import sys
import types
from importlib.machinery import ModuleSpec


class _Absent(types.ModuleType):
    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {})  # a class, so that isinstance/issubclass checks on it just say no


for _name in ("torch", "torch.nn", "torch.nn.functional"):
    _module = _Absent(_name)
    _module.__spec__ = ModuleSpec(_name, None)
    _module.__path__ = []
    sys.modules[_name] = _module
    if "." in _name:
        _parent, _, _child = _name.rpartition(".")
        setattr(sys.modules[_parent], _child, _module)

from kraken.lib.xml import XMLPage  # noqa: E402

pages = []
for path in sys.argv[1:]:
    page = XMLPage(path)
    segmentation = page.to_container()
    pages.append(
        {
            "file": path,
            "type": segmentation.type,
            "image": str(page.imagename),
            "lines": [
                {
                    "text": line.text,
                    "baseline": [list(p) for p in line.baseline],
                    "boundary": [list(p) for p in (line.boundary or [])],
                }
                for line in segmentation.lines
            ],
        }
    )
print(json.dumps(pages))
