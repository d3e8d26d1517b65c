# memdiag: post-mortem analysis of Linux kernel memory from a crash dump.
#
#   make deps    install the Debian packages the project needs (idempotent)
#   make lab     build (or reuse from the cache) the lab dumps the tests use
#   make check   deps + lab + every test; ends with "N passed, N failed"

SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Lab: QEMU, busybox guest, Kbuild for scenario modules (gcc-12 is what Debian
# builds its kernels with; dwarves' pahole makes 6.12 module BTF), the peers.
DEB_PACKAGES := qemu-system-x86 busybox-static cpio gzip xz-utils zstd python3 \
	gcc-12 gcc make libc6-dev dwarves crash makedumpfile \
	libkdumpfile-dev libdw-dev libelf-dev elfutils libjson-c-dev pkg-config

LAB_KERNELS := 6.1 6.12
LAB_SCENARIOS := baseline leak-tracked
LAB_FORMATS := elf kdump filtered

.PHONY: all deps lab check clean

all:

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
	@for k in $(LAB_KERNELS); do for s in $(LAB_SCENARIOS); do for f in $(LAB_FORMATS); do \
	  scripts/mkvmcore --kernel $$k --format $$f $$s build/lab/$$k/$$s/$$f || exit 1; \
	done; done; done

check: deps lab all
	@tests/run

clean:
	rm -rf build
