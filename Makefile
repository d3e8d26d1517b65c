# memdiag: post-mortem analysis of Linux kernel memory from a crash dump.
#
#   make deps    install the Debian packages the project needs (idempotent)
#   make lab     build (or reuse from the cache) the lab dumps the tests use
#   make check   deps + lab + every test; ends with "N passed, N failed"

SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Lab: QEMU, busybox guest, Kbuild for scenario modules (gcc-12 is what Debian
# builds its kernels with; dwarves' pahole makes 6.12 module BTF), the peers.
DEB_PACKAGES := qemu-system-x86 busybox-static cpio gzip xz-utils zstd python3 python3-jsonschema debootstrap \
	gcc-12 gcc make libc6-dev dwarves crash makedumpfile \
	time libkdumpfile-dev libdw-dev libelf-dev elfutils pkg-config clang libclang-rt-dev jq \
	bash-completion man-db

# memdiag's version, which --version prints and JSON documents will carry.
VERSION := 0.16.0

CC := gcc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -fPIC -MMD -MP
CFLAGS += -DMD_VERSION='"$(VERSION)"'
# `make SANITIZE=1 ...` builds everything with ASan and UBSan into build/asan/.
ifeq ($(SANITIZE),1)
BUILD := build/asan
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD := build
endif

LIB_SRC := $(wildcard lib/*.c)
CLI_SRC := $(wildcard cli/*.c)
EXT_SRC := $(wildcard extension/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The standalone target: the dump, and the sources of its types and symbols.
TARGET_OBJ := $(filter-out $(BUILD)/cli/main.o $(BUILD)/cli/recording.o,$(CLI_OBJ))
EXT_OBJ := $(EXT_SRC:%.c=$(BUILD)/%.o)
# libdw and libelf: the DWARF types of lib/dwarf_types.c, in every program.
LIB_LIBS := -ldw -lelf -pthread
CLI_LIBS := -lkdumpfile -laddrxlat $(LIB_LIBS)
EXT_LIBS := $(LIB_LIBS)

# `make install` puts every file under $(DESTDIR)$(PREFIX).  crash finds a
# bare `extend memdiag.so` in /usr/lib/crash/extensions (so with PREFIX=/usr,
# as the Debian package installs it) or in $CRASH_EXTENSIONS.
PREFIX ?= /usr/local
CRASH_EXTDIR ?= $(PREFIX)/lib/crash/extensions
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/memdiag
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALLED := $(PREFIX)/bin/memdiag $(CRASH_EXTDIR)/memdiag.so $(MANDIR)/man1/memdiag.1 \
	$(COMPLETIONDIR)/memdiag $(DOCDIR)/json.md $(DOCDIR)/memdiag.schema.json

LAB_KERNELS := 5.10 6.1 6.12 7.2 7.3
LAB_SCENARIOS := baseline leak-tracked leak-untracked dentry-flood frag oom oom-panic oom-null-chosen userhog vmalloc-leak
# A kernel line can take other scenarios: LAB_SCENARIOS_<line>.
LAB_SCENARIOS_7.3 := baseline leak-tracked leak-untracked frag oom
# A hole in a node's span (memory sections without memory), on two kernels.
LAB_SCENARIOS_6.1 := $(LAB_SCENARIOS) memory-hole
LAB_SCENARIOS_6.12 := $(LAB_SCENARIOS) memory-hole
# These kernels also boot with 5-level page tables (QEMU's la57): line KERNEL-la57.
# Debian's 5.10 cannot: it is built with CONFIG_PGTABLE_LEVELS=4.
LAB_LA57_KERNELS := 6.1 6.12 7.2 7.3
LAB_LA57_SCENARIOS := baseline leak-tracked
LAB_FORMATS := elf kdump filtered
LAB_LINES := $(LAB_KERNELS) $(addsuffix -la57,$(LAB_LA57_KERNELS))
lab_scenarios = $(if $(findstring -la57,$(1)),$(LAB_LA57_SCENARIOS),$(or $(LAB_SCENARIOS_$(1)),$(LAB_SCENARIOS)))
# scripts/mkvmcore's options for a lab line: its kernel, and --la57 for KERNEL-la57.
lab_args = --kernel $(firstword $(subst -, ,$(1)))$(if $(findstring -la57,$(1)), --la57)
# What `make check` tells the tests: "LINE:SCENARIO,SCENARIO,... LINE:...".
comma := ,
space := $(subst ,, )
LAB_PLAN := $(foreach k,$(LAB_LINES),$(k):$(subst $(space),$(comma),$(strip $(call lab_scenarios,$(k)))))

.PHONY: all asan fuzz deps lab lab-plan check clean install uninstall pkgcheck

all: $(BUILD)/memdiag $(BUILD)/memdiag.so $(BUILD)/memdiag-replay $(BUILD)/memdiag.1

# The man page, from the program's own help pages (scripts/mkman).
$(BUILD)/memdiag.1: $(BUILD)/memdiag scripts/mkman
	scripts/mkman $(BUILD)/memdiag > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ilib -c -o $@ $<

# crash's defs.h wants the target architecture defined.
$(BUILD)/extension/%.o: CFLAGS += -DX86_64

$(BUILD)/libmemdiag.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/memdiag: $(CLI_OBJ) $(BUILD)/libmemdiag.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

$(BUILD)/memdiag.so: $(EXT_OBJ) $(BUILD)/libmemdiag.a
	$(CC) $(LDFLAGS) -shared -Wl,--exclude-libs,ALL -o $@ $^ $(EXT_LIBS)

install: $(BUILD)/memdiag $(BUILD)/memdiag.so $(BUILD)/memdiag.1
	install -D -m 755 $(BUILD)/memdiag $(DESTDIR)$(PREFIX)/bin/memdiag
	install -D -m 644 $(BUILD)/memdiag.so $(DESTDIR)$(CRASH_EXTDIR)/memdiag.so
	install -D -m 644 $(BUILD)/memdiag.1 $(DESTDIR)$(MANDIR)/man1/memdiag.1
	install -D -m 644 doc/memdiag.bash-completion $(DESTDIR)$(COMPLETIONDIR)/memdiag
	install -D -m 644 doc/json.md $(DESTDIR)$(DOCDIR)/json.md
	install -D -m 644 doc/memdiag.schema.json $(DESTDIR)$(DOCDIR)/memdiag.schema.json

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# The Debian packages built, linted, installed and run in a clean bookworm
# chroot (scripts/pkgcheck; minutes, so not part of `make check`).
pkgcheck: deps
	scripts/pkgcheck $(if $(wildcard build/lab/6.1/baseline/elf/vmcore),build/lab/6.1/baseline/elf)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(EXT_OBJ:.o=.d)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ] || ! apt-cache show linux-image-cloud-amd64-dbg >/dev/null 2>&1; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lab: deps
	@set -e; $(foreach k,$(LAB_LINES),for s in $(call lab_scenarios,$(k)); do for f in $(LAB_FORMATS); do \
	  scripts/mkvmcore $(call lab_args,$(k)) --format $$f $$s build/lab/$(k)/$$s/$$f; \
	done; done;)

# The kernel lines and scenarios of the lab, as the tests read them.
lab-plan:
	@echo "$(LAB_PLAN)"

# The same programs built with AddressSanitizer and UBSan; tests run both.
asan:
	@$(MAKE) --no-print-directory SANITIZE=1 build/asan/memdiag build/asan/target_probe \
	  build/asan/memdiag-replay

check: deps lab all asan fuzz $(BUILD)/target_probe
	@MEMDIAG_LAB="$(LAB_PLAN)" tests/run

clean:
	rm -rf build

# A test tool for the standalone target (tests/test_target.py), not installed.
# ($^ without the headers the .d file adds; gcc would take one for a
# precompiled header to write at -o.)
$(BUILD)/target_probe: tests/target_probe.c $(TARGET_OBJ) $(BUILD)/libmemdiag.a
	$(CC) $(CFLAGS) -Ilib -Icli $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(CLI_LIBS)
-include $(BUILD)/target_probe.d

# The dump-free tier (tests/test_replay.py): commands on a recording, with
# faults injected into their reads (tests/replay.c), not installed.
$(BUILD)/memdiag-replay: tests/replay.c $(BUILD)/cli/recording.o $(BUILD)/libmemdiag.a
	$(CC) $(CFLAGS) -Ilib -Icli $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LIB_LIBS)
-include $(BUILD)/memdiag-replay.d

# The fuzzer: libFuzzer (clang) with ASan and UBSan over the replay's reads
# (tests/fuzz_replay.c).  Its own objects: libFuzzer instruments all of them.
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := -O2 -g -std=gnu11 -D_GNU_SOURCE -Ilib -Icli -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SRC := $(LIB_SRC) tests/fuzz_replay.c
fuzz: $(FUZZ_BUILD)/memdiag-fuzz
# The replay itself is sanitized but not a coverage target (its byte checks
# would only slow the fuzzer down).
$(FUZZ_BUILD)/memdiag-fuzz: $(FUZZ_SRC) cli/recording.c $(wildcard lib/*.h cli/*.h)
	@mkdir -p $(dir $@)
	clang $(subst fuzzer$(comma),,$(FUZZ_CFLAGS)) -c -o $(FUZZ_BUILD)/recording.o cli/recording.c
	clang $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRC) $(FUZZ_BUILD)/recording.o $(LIB_LIBS)
