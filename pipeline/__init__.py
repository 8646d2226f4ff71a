"""archocr: OCR and text restoration for Russian archival documents of 1910-1940."""

__version__ = "0.1.0"
