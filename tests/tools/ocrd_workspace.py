"""Make an OCR-D workspace (METS) of one archocr page folder, with OCR-D's own library.

Run with the Python of a virtual environment holding `ocrd`. Arguments: the page folder, then
for each page: its number, the original image's path (relative to the folder), the PAGE-XML's
pcGtsId. The files stay where archocr wrote them; the METS lists them in OCR-D's file groups.
"""

import sys
from pathlib import Path

from ocrd import Resolver

folder = Path(sys.argv[1])
workspace = Resolver().workspace_from_nothing(directory=str(folder))
workspace.mets.unique_identifier = f"archocr-{folder.name}"
args = sys.argv[2:]
for number, original, pc_gts_id in zip(args[0::3], args[1::3], args[2::3], strict=True):
    page_id = f"PHYS_{number}"
    mime = "image/jpeg" if original.endswith(".jpg") else "image/png"
    workspace.add_file(
        "OCR-D-IMG", file_id=f"OCR-D-IMG_{number}", page_id=page_id, mimetype=mime, local_filename=original
    )
    workspace.add_file(
        "OCR-D-BIN",
        file_id=f"OCR-D-BIN_{number}",
        page_id=page_id,
        mimetype="image/png",
        local_filename=f"{number}.png",
    )
    workspace.add_file(
        "OCR-D-OCR",
        file_id=pc_gts_id,
        page_id=page_id,
        mimetype="application/vnd.prima.page+xml",
        local_filename=f"{number}.page.xml",
    )
workspace.save_mets()
