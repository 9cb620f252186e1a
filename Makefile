# The two commands of the quick start are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
CARGO_LAMBDA := $(VENV)/bin/cargo-lambda
# SAM CLI and cfn-lint, pinned to the versions the template is checked with.
DEPLOY_VENV := .venv-deploy
SAM         := $(DEPLOY_VENV)/bin/sam
CFN_LINT    := $(DEPLOY_VENV)/bin/cfn-lint
EVENT       ?= events/flow-voice-open-case.json
FUZZ_CASES  ?= 20000
CARGO_DENY  := $(HOME)/.cargo/bin/cargo-deny
# moto's server mode: the DynamoDB- and SQS-compatible server of the tests and the demo.
MOTO_VENV   := .venv-moto
MOTO        := $(MOTO_VENV)/bin/moto_server

.PHONY: help test lint demo demo-tools plan check invoke watch emulator moto build deploy bench fuzz reliability load-designs advisories fmt

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

test: lint $(CARGO_DENY) $(MOTO) ## Run every check and test: format, lints, template, licences, unit, handler, end-to-end, reliability
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo deny --locked check licenses bans sources
	cargo test --workspace --locked

lint: $(SAM) ## Check the SAM template offline: cfn-lint and sam validate --lint
	$(CFN_LINT) template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM) validate --lint --template template.yaml

demo: ## Run the function against the local Cases service with every sample event
	scripts/demo.sh

# The demo's tools (cargo-lambda; moto's server), which scripts/demo.sh installs while it builds.
demo-tools: $(CARGO_LAMBDA) $(MOTO)

plan: ## Show the Cases requests for EVENT=file (no AWS calls)
	cargo run --quiet --locked -- plan --event $(EVENT)

check: ## Check RULES=file (default: the default rules), and against DOMAIN=id when given (AWS credentials)
	cargo run --quiet --locked -- check $(if $(RULES),--rules $(RULES)) $(if $(DOMAIN),--domain $(DOMAIN))

emulator: ## Start the local Cases service on 127.0.0.1:4566 with the demo seed
	cargo run --quiet --locked -p cases-emulator -- --listen 127.0.0.1:4566 --search-lag-ms 1000

moto: $(MOTO) ## Start the local DynamoDB/SQS server (moto) on 127.0.0.1:4567 with the claims table and the work queue, for `make watch`
	cargo build --quiet --locked --bin cases-automation
	( sleep 2; AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4567 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	  target/debug/cases-automation claims init --table cases-automation-claims; \
	  $(MOTO_VENV)/bin/python scripts/work_queue.py --endpoint http://127.0.0.1:4567 create ) &
	$(MOTO_VENV)/bin/python scripts/moto_server.py --port 4567

watch: $(CARGO_LAMBDA) ## Run the function under `cargo lambda watch`, pointed at the local Cases service
	$(CARGO_LAMBDA) lambda watch --invoke-address 127.0.0.1 --invoke-port 9000 --env-file scripts/local.env --bin cases-automation

invoke: $(CARGO_LAMBDA) ## Invoke the function running under `make watch` with EVENT=file
	$(CARGO_LAMBDA) lambda invoke cases-automation --invoke-address 127.0.0.1 --invoke-port 9000 --data-file $(EVENT)

build: $(CARGO_LAMBDA) ## Build the arm64 release binary for Lambda (target/lambda/cases-automation/bootstrap)
	rustup target add aarch64-unknown-linux-gnu
	# The zig that cargo-lambda cross-links with is installed beside it in $(VENV)/bin.
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO_LAMBDA) lambda build --release --arm64 --locked --bin cases-automation

deploy: $(SAM) $(CARGO_LAMBDA) ## Build for Lambda (arm64) and deploy with SAM; asks for the parameters once (samconfig.toml)
	SAM_CLI_TELEMETRY=0 $(SAM) build
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided

bench: $(MOTO) ## Benchmarks: per-event CPU (criterion), cold start, memory, size, API calls per event, throughput
	cargo build --release --locked --bin cases-automation --example hello_lambda --example bare_lambda --example sdk_floor
	cargo bench --locked --bench pipeline
	cargo bench --locked --bench system

fuzz: ## Property tests of hostile input and privacy, FUZZ_CASES cases each (about 3 min at 20000)
	PROPTEST_CASES=$(FUZZ_CASES) cargo test --locked --test hostile_input --test privacy

reliability: $(MOTO) ## A 2,000-record backlog and a 2,000-case sweep through SQS at the real quotas (about 36 min); ends with the `sweep:` line, then the `drain:` line
	set -o pipefail; cargo test --locked --test peak_load -- --ignored --nocapture --test-threads 1 a_backlog a_sweep 2>&1 | tee target/reliability.log
	@grep '^sweep: ' target/reliability.log | tail -n 1
	@grep '^drain: ' target/reliability.log | tail -n 1

load-designs: $(MOTO) ## Measure pacing, the SDK's adaptive retries and standard retries on both paths (LOAD_BURST events, 200 by default)
	cargo test --locked --test peak_load measure_the_designs -- --ignored --nocapture --test-threads 1

advisories: $(CARGO_DENY) ## RustSec advisories (needs access to the advisory database on github.com)
	cargo deny --locked check advisories

fmt: ## Format the code
	cargo fmt --all

$(CARGO_LAMBDA):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet cargo-lambda

$(CARGO_DENY):
	cargo install --locked cargo-deny@0.20.2

$(MOTO):
	python3 -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install --quiet "moto[server]==5.2.5"

$(SAM):
	python3 -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet cfn-lint==1.58.0 aws-sam-cli==1.170.0
