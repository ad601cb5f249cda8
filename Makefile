# A thin shim over meson + ninja. See README.md.
#   make          debug build with ASan+UBSan -> build/kbox
#   make release  optimised build without sanitizers -> build-release/kbox
#   make check    the whole test suite: unit (meson test), guest programs,
#                 integration; ends with "N passed, N failed, N skipped"
#   make demo     a small busybox root, an ext4 image of it, one command run in it
#   make format   clang-format every C file in place
# Each target first makes sure the Debian packages are there (scripts/deps.sh:
# installs them as root, prints the apt-get command otherwise).

BUILD ?= build
RELEASE_BUILD ?= build-release
MESON ?= meson
NINJA ?= ninja
DEMO_ROOT := .cache/roots/busybox

.PHONY: all deps release check unit guest integration demo format clean

all: deps
	@[ -f $(BUILD)/build.ninja ] || $(MESON) setup $(BUILD)
	$(NINJA) -C $(BUILD)

deps:
	@scripts/deps.sh

release: deps
	@[ -f $(RELEASE_BUILD)/build.ninja ] || \
		$(MESON) setup $(RELEASE_BUILD) -Dbuildtype=release -Dsanitize=false
	$(NINJA) -C $(RELEASE_BUILD)

check: all
	@KBOX=$(CURDIR)/$(BUILD)/kbox tests/run-all.sh --build $(BUILD)

# Single suites, for working on one of them.
unit: all
	$(MESON) test -C $(BUILD) --print-errorlogs
guest: all
	tests/guest/run.sh --kbox $(BUILD)/kbox
integration: all
	tests/integration/run.sh --kbox $(BUILD)/kbox

# The demo runs in an ext4 image of the busybox root, made again when the root changed.
demo: all
	@root=$$(scripts/ensure-root.sh busybox) && img=$(BUILD)/busybox.ext4 && \
	{ [ "$$img" -nt "$$root" ] || { rm -f "$$img" && \
	  $(BUILD)/kbox image create --from "$$root" "$$img"; }; } && \
	echo "+ $(BUILD)/kbox -r $$img -- /bin/sh -c 'echo hello from kbox; uname -a; ls /'" && \
	$(BUILD)/kbox -r "$$img" -- /bin/sh -c 'echo hello from kbox; uname -a; ls /'

format:
	git ls-files -co --exclude-standard '*.c' '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(BUILD) $(RELEASE_BUILD) build-tests
