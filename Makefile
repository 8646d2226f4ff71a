# archocr: make setup | demo | test | bench | lint
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
OUT ?= out/demo
.PHONY: setup system-packages python-packages demo test bench lint clean

setup: system-packages python-packages

# apt-get only when something is missing, so repeated runs stay fast and offline.
system-packages:
	@missing=""; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr"; \
	tesseract --list-langs 2>/dev/null | grep -qx rus || missing="$$missing tesseract-ocr-rus"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	[ -d /usr/share/fonts/truetype/paratype ] || missing="$$missing fonts-paratype"; \
	[ -d /usr/share/fonts/truetype/fonts-oldstandard ] || missing="$$missing fonts-oldstandard"; \
	[ -d /usr/share/fonts/truetype/liberation ] || missing="$$missing fonts-liberation"; \
	[ -d /usr/share/fonts/truetype/dejavu ] || missing="$$missing fonts-dejavu-core"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-ExtraLight.ttf ] || missing="$$missing fonts-dejavu-extra"; \
	[ -d /usr/share/fonts/truetype/freefont ] || missing="$$missing fonts-freefont-ttf"; \
	[ -d /usr/share/fonts/opentype/urw-base35 ] || missing="$$missing fonts-urw-base35"; \
	[ -d /usr/share/fonts/truetype/sjfonts ] || missing="$$missing fonts-sjfonts"; \
	[ -d /usr/share/fonts/truetype/gnutypewriter ] || missing="$$missing fonts-gnutypewriter"; \
	[ -d /usr/share/fonts/truetype/anonymous-pro ] || missing="$$missing fonts-anonymous-pro"; \
	[ -d /usr/share/fonts/truetype/charis ] || missing="$$missing fonts-sil-charis"; \
	[ -d /usr/share/fonts/truetype/cmu ] || missing="$$missing fonts-cmu"; \
	[ -d /usr/share/fonts/truetype/jetbrains-mono ] || missing="$$missing fonts-jetbrains-mono"; \
	[ -d /usr/share/fonts/truetype/hack ] || missing="$$missing fonts-hack"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -f /usr/share/dict/american-english ] || missing="$$missing wamerican"; \
	[ -f /usr/share/color/icc/sRGB.icc ] || missing="$$missing icc-profiles-free"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

python-packages:
	$(PIP) install -q -e '.[dev]'

# The samples' transcripts, joined into one "edition", stand for the existing transcript to align with.
demo: setup
	@mkdir -p $(OUT)
	cat scans/transcripts/* > $(OUT)/transcripts.txt
	archocr run scans --out $(OUT) --transcript $(OUT)/transcripts.txt
	@echo "results: $(OUT)/ (manifest.json lists every page; open $(OUT)/report.html for the discrepancies)"

test: setup
	$(PYTHON) -m pytest -q -ra

bench: setup
	$(PYTHON) -m benchmarks.run_all

lint: setup
	ruff check pipeline tests benchmarks scans
	ruff format --check pipeline tests benchmarks scans

clean:
	rm -rf out bench-out .pytest_cache
