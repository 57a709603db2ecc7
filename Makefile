# The README's two commands are `make run` and `make test`; both install what they need first.
CARGO ?= cargo
ARGS ?=

.PHONY: run test setup datasets bench lint

run: setup
	$(CARGO) run --release --bin icicle -- $(ARGS)

# Tests keep their decoded folders and features out of the user's cache folder.
test: export ICICLE_CACHE_DIR ?= $(CURDIR)/target/test-cache
test: setup
	$(CARGO) test --all-targets

setup:
	@scripts/setup.sh

# Optional full datasets (70k images each): Debian's Fashion-MNIST and npm's MNIST.
datasets:
	@scripts/install-datasets.sh

bench: setup
	$(CARGO) run --release --bin icicle -- bench knn --n 60000 --dim 512 --k 10

lint: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
