# softlan-vpn front door. Each target installs missing Debian packages first.
#   make          build (gcc, build/)
#   make check    every test suite, ends with "check: N passed, M failed"
#   make demo     a whole LAN party in network namespaces
#   make fuzz     each fuzz target for FUZZ_SECONDS (default 600)
#   make bench    benchmarks (see bench/)
#   make windows  lanparty-client-win.exe with mingw-w64
#   make windows-dist  build-win/softlan-vpn-windows-VERSION.zip (the .exe, README.txt, licences)
#   make install  meson install of build/ (honours DESTDIR; prefix: meson configure build -Dprefix=)
#   make deb      Debian packages into build-deb/ (dpkg-buildpackage -us -uc -b)
#   make format   reformat the sources with clang-format
FUZZ_SECONDS ?= 600
BENCH_SECONDS ?= 10

.PHONY: all build check demo fuzz bench windows windows-dist install deb format clean

all: build

build:
	@scripts/deps.sh base
	@[ -f build/build.ninja ] || meson setup build
	@ninja -C build

check:
	@scripts/check.sh

demo: build
	@scripts/demo.sh

fuzz:
	@scripts/deps.sh base
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all'
	@ninja -C build-fuzz
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@bench/run.sh build $(BENCH_SECONDS)

windows:
	@scripts/windows.sh build

windows-dist:
	@scripts/windows-dist.sh build

install: build
	@meson install -C build --no-rebuild

deb:
	@scripts/deb.sh

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan build-fuzz build-win build-logs build-deb
