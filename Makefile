# speechmill front door. Every target sets itself up: system packages (apt-get when root),
# a virtual environment in .venv, and the project installed into it from pyproject.toml.

PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
SM         := $(VENV)/bin/speechmill
CONFIG     ?= configs/default.toml
OUT        ?= build/corpus
LIMIT      ?=
FRESH      ?=
DASK       ?=
BEAM_ARGS  ?=
BENCH_MINUTES ?= 180
FESTVOX    := /usr/share/festival/voices
SYSTEM_PACKAGES := ffmpeg:ffmpeg espeak-ng:espeak-ng flite:flite festival:festival \
  $(FESTVOX)/english/kal_diphone:festvox-kallpc16k $(FESTVOX)/english/ked_diphone:festvox-kdlpc16k \
  $(FESTVOX)/us/cmu_us_slt_arctic_hts:festvox-us-slt-hts chromium:chromium script:bsdutils g++:g++ \
  python3-config:python3-dev \
  /usr/share/asterisk/sounds/en_US_f_Allison/activated.wav:asterisk-core-sounds-en-wav \
  /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz:asterisk-core-sounds-en

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED := 1

IN         ?= build/corpus
FORMAT     ?= hf
DATA       ?= build/corpus
RUN        ?= build/run
MODEL      ?= build/run
STEPS      ?=
EPOCHS     ?=
MINUTES    ?=
BEAM       ?= 0
LM         ?=
TEXT       ?=
ORDER      ?= 3
TUNE       ?=
BACKEND    ?= auto
INPUT      ?= auto
PRESET     ?= auto
ACCUMULATE ?=
WORKERS    ?=
TASK       ?=
FILE       ?=
RECIPE     ?=
MIN_SCORE  ?=
MAX_REJECT ?=
CALIBRATE_WITH ?=
THRESHOLD_FROM ?=
SKIP_SYNTHETIC ?=
TEACHER    ?=
MAX_CER    ?=
# make verify TEACHER=whisper judges without a run of ours unless MODEL= is given too
VERIFY_MODEL = $(if $(TEACHER),$(if $(filter command line environment,$(origin MODEL)),$(MODEL)),$(MODEL))
VERIFY_OUT  = $(if $(filter command line environment,$(origin OUT)),$(OUT),build/verified)
LM_OUT      = $(if $(filter command line environment,$(origin OUT)),$(OUT),build/lm)
EXPORT_OUT  = $(if $(filter command line environment,$(origin OUT)),$(OUT),build/export-$(FORMAT))
AUGMENT_OUT = $(if $(filter command line environment,$(origin OUT)),$(OUT),build/augmented)
MEASURE_OUT = $(if $(filter command line environment,$(origin OUT)),$(OUT),build/measured)

.PHONY: corpus augment measure export train lm verify eval transcribe listen report test test-fast lint docs bench setup system clean help interop

help:
	@echo "make corpus [CONFIG=configs/default.toml] [OUT=build/corpus] [LIMIT=n] [FRESH=1] [DASK=local:2|tcp://host:8786] [BEAM_ARGS='--runner=...']"
	@echo "make augment [IN=build/corpus] [OUT=build/augmented] [RECIPE='speed=0.9,1.1;noise=5..20dB@0.5'] [FRESH=1] [DASK=...]"
	@echo "make measure [IN=build/corpus] [OUT=build/measured] [MEASURES=snr_db,speech_ratio,dnsmos,clipped,chars_per_second] [FRESH=1] [DASK=...]"
	@echo "make train [DATA=build/corpus] [RUN=build/run] [PRESET=auto|small|base|large|bigru] [STEPS=n|EPOCHS=n|MINUTES=m] [ACCUMULATE=n] [WORKERS=host:port,... TASK=i (or TF_CONFIG)]"
	@echo "make lm [DATA=build/corpus] [TEXT='book.txt more.txt'] [OUT=build/lm] [ORDER=3]"
	@echo "make verify IN=<corpus> [OUT=build/verified] [MODEL=build/run] [TEACHER=whisper|pocketsphinx|run:PATH] [MAX_CER=cer] [MIN_SCORE=score, default the model's calibrated threshold] [CALIBRATE_WITH=corpus] [THRESHOLD_FROM=corpus|dev] [MAX_REJECT=0.25] [SKIP_SYNTHETIC=1] [FRESH=1] [DASK=...]"
	@echo "make eval [MODEL=build/run] [DATA=build/corpus] [BEAM=0|32] [LM=build/lm] [TUNE=1]"
	@echo "make transcribe [MODEL=build/run] FILE=<audio file or folder> [LM=build/lm] [BACKEND=auto|tflite|savedmodel]"
	@echo "arecord -f S16_LE -r 16000 -c 1 | make listen [MODEL=build/run] [LM=build/lm]   (or INPUT=mic)"
	@echo "make export [FORMAT=hf|nemo|lhotse|tfds] [IN=build/corpus] [OUT=build/export-FORMAT] [FRESH=1] [DASK=...]   (tfds: metadata in IN itself)"
	@echo "make report [IN=build/corpus]   an HTML page about a corpus (or a run: IN=build/run)"
	@echo "make test     lint, type check and the whole test suite (offline), the interop group in .venv-interop too; CI runs exactly this"
	@echo "make test-fast  the tests not marked slow (the inner loop, under 90 s)"
	@echo "make docs     regenerate docs/sources.md and docs/rejects.md from the source and reason tables"
	@echo "make bench    print throughput (x-realtime per core) of each stage beside its baseline"

system:
	@bash scripts/system_packages.sh $(SYSTEM_PACKAGES)

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "speechmill: needs Python >= 3.11 (found " + sys.version.split()[0] + ")")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "speechmill: installing the project into $(VENV) (first run takes a few minutes)"
	@$(PY) -m pip install -q --upgrade pip >/dev/null
	@$(PY) -m pip install -q -c constraints.txt -e '.[all,test]'
	@touch $@

setup: system $(VENV)/.installed

corpus: setup
	$(SM) corpus --config $(CONFIG) --output $(OUT) \
	  $(if $(LIMIT),--limit $(LIMIT)) $(if $(FRESH),--fresh) $(if $(DASK),--dask $(DASK)) $(BEAM_ARGS)

augment: setup
	$(SM) augment --input $(IN) --output $(AUGMENT_OUT) \
	  $(if $(RECIPE),--recipe "$(RECIPE)") $(if $(FRESH),--fresh) $(if $(DASK),--dask $(DASK)) $(BEAM_ARGS)

measure: setup
	$(SM) measure --input $(IN) --output $(MEASURE_OUT) \
	  $(if $(MEASURES),--measures "$(MEASURES)") $(if $(FRESH),--fresh) $(if $(DASK),--dask $(DASK)) $(BEAM_ARGS)

verify: setup
	$(SM) verify --input $(IN) --output $(VERIFY_OUT) $(if $(VERIFY_MODEL),--model $(VERIFY_MODEL)) \
	  $(if $(TEACHER),--teacher $(TEACHER)) $(if $(MAX_CER),--max-cer $(MAX_CER)) \
	  $(if $(MIN_SCORE),--min-score $(MIN_SCORE)) $(if $(CALIBRATE_WITH),--calibrate-with $(CALIBRATE_WITH)) \
	  $(if $(THRESHOLD_FROM),--threshold-from $(THRESHOLD_FROM)) \
	  $(if $(MAX_REJECT),--max-reject-fraction $(MAX_REJECT)) $(if $(SKIP_SYNTHETIC),--skip-synthetic) \
	  $(if $(FRESH),--fresh) $(if $(DASK),--dask $(DASK)) $(BEAM_ARGS)

train: setup
	$(SM) train --input $(DATA) --model $(RUN) --preset $(PRESET) $(if $(STEPS),--steps $(STEPS)) \
	  $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(MINUTES),--minutes $(MINUTES)) $(if $(ACCUMULATE),--accumulate $(ACCUMULATE)) \
	  $(if $(WORKERS),--workers $(WORKERS) --task $(TASK))

lm: setup
	$(SM) lm --input $(DATA) --output $(LM_OUT) --order $(ORDER) $(if $(TEXT),--text $(TEXT))

eval: setup
	$(SM) eval --model $(MODEL) --input $(DATA) --beam $(BEAM) $(if $(LM),--lm $(LM)) $(if $(TUNE),--tune)

transcribe: setup
	@test -n "$(FILE)" || { echo "speechmill: make transcribe needs FILE=<audio file or folder>" >&2; exit 2; }
	@$(SM) transcribe --model $(MODEL) --backend $(BACKEND) $(if $(LM),--lm $(LM)) --beam $(BEAM) $(FILE)

listen: setup
	@$(SM) listen --model $(MODEL) --backend $(BACKEND) --input $(INPUT) $(if $(LM),--lm $(LM)) --beam $(BEAM)

export: setup
	$(SM) export --format $(FORMAT) --input $(IN) $(if $(filter tfds,$(FORMAT)),,--output $(EXPORT_OUT)) \
	  $(if $(FRESH),--fresh) $(if $(DASK),--dask $(DASK)) $(BEAM_ARGS)

report: setup
	$(SM) report $(IN)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The interop group's own environment: the real libraries of other stacks that need torch
# (lhotse), kept apart from the project's. A machine where it cannot be installed gets a FAILED
# file naming what is missing, and the interop tests fail with that line.
INTEROP          := .venv-interop
INTEROP_PACKAGES := tests/interop/requirements.txt

$(INTEROP)/.installed: $(INTEROP_PACKAGES)
	@rm -rf $(INTEROP) && $(PYTHON) -m venv $(INTEROP)
	@echo "speechmill: installing the interop environment ($(INTEROP_PACKAGES)) into $(INTEROP)"
	@if $(INTEROP)/bin/pip install -q -r $(INTEROP_PACKAGES) >$(INTEROP)/pip.log 2>&1; then touch $@; \
	else echo "could not install $(INTEROP_PACKAGES) into $(INTEROP): $$(grep -m1 ERROR $(INTEROP)/pip.log)" \
	  | tee $(INTEROP)/FAILED; fi

interop: $(INTEROP)/.installed

test: lint interop
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=15 tests

test-fast: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup -m "not slow and not interop" tests

docs: setup
	$(PY) -c 'from speechmill.corpus.sources import sources_markdown; open("docs/sources.md", "w").write(sources_markdown())'
	$(PY) -c 'from speechmill.corpus.reasons import reasons_markdown; open("docs/rejects.md", "w").write(reasons_markdown())'

# The comparison libraries are optional: a row whose library is missing says so, and the rest runs.
# lhotse (the peer of the corpus row) runs from the interop environment, apart from torch-free .venv.
$(VENV)/.bench: $(VENV)/.installed
	@if $(PY) -m pip install -q -c constraints.txt -e '.[all,test,bench]' > $(VENV)/bench-install.log 2>&1; \
	then touch $@; \
	else echo "speechmill: bench: the comparison libraries of the bench extra did not install (log: $(VENV)/bench-install.log); their rows say so"; fi

bench: setup $(VENV)/.bench interop
	$(PY) -m benchmarks --minutes $(BENCH_MINUTES)

clean:
	rm -rf build
