# shellcheck shell=bash
# scripts/lib/installed_build.sh: how the binary that scripts/install installs is built (also
# measured by scripts/bench as hnagent-installed).
#
# One static executable: the Swift runtime, Foundation and glibc linked in, nothing loaded at
# run time. It runs on a machine without a Swift toolchain, and maps only the code it links:
# the shared libraries of a dynamic build are 3 MiB of resident memory more (docs/BENCHMARKS.md,
# Footprint). The agent uses no glibc function that loads shared modules (NSS, dlopen, iconv).
INSTALLED_BUILD_ARGS=(-c release -Xswiftc -static-executable --build-path .build-static)

# installed_build_path: where the binary of that build is (it need not exist yet).
installed_build_path() {
    echo "$(swift build "${INSTALLED_BUILD_ARGS[@]}" --show-bin-path)/hnagent"
}
