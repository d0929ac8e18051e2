#!/bin/sh
# Installs the eden binary from a GitHub release:
#   curl -fsSL https://github.com/eden-ecs/eden/releases/latest/download/eden-installer.sh | sh
# It picks the archive for this OS and CPU, checks it against the release's SHA-256, and puts
# `eden` in ~/.local/bin and its man pages in ~/.local/share/man. Nothing else is changed.
# EDEN_VERSION (e.g. 0.2.0; default the latest), EDEN_INSTALL_DIR (default ~/.local/bin) and
# EDEN_DOWNLOAD_URL (a mirror of the releases page) tune it.
set -eu

fail() {
    echo "error: $*" >&2
    exit 1
}

releases=${EDEN_DOWNLOAD_URL:-https://github.com/eden-ecs/eden/releases}
case "${EDEN_VERSION:-latest}" in
latest) url="$releases/latest/download" ;;
*) url="$releases/download/v${EDEN_VERSION#v}" ;;
esac
[ -n "${HOME:-}" ] || fail "HOME is not set; set EDEN_INSTALL_DIR to where eden should go"
bin_dir=${EDEN_INSTALL_DIR:-$HOME/.local/bin}
man_dir=${bin_dir%/bin}/share/man/man1

case "$(uname -s)/$(uname -m)" in
Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-gnu ;;
Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu ;;
Darwin/x86_64) target=x86_64-apple-darwin ;;
Darwin/arm64) target=aarch64-apple-darwin ;;
*) fail "no eden build for $(uname -s) $(uname -m); install it with 'cargo install --locked eden-ecs'" ;;
esac

download() {
    if command -v curl >/dev/null 2>&1; then
        curl --proto '=https,http' -fsSL "$1" -o "$2"
    elif command -v wget >/dev/null 2>&1; then
        wget -q "$1" -O "$2"
    else
        fail "neither curl nor wget is installed"
    fi
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

name="eden-$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download "$url/$name.tar.gz" "$work/$name.tar.gz" || fail "could not download $url/$name.tar.gz"
download "$url/$name.tar.gz.sha256" "$work/sha256" || fail "could not download its checksum"
expected=$(cut -d' ' -f1 "$work/sha256")
actual=$(sha256 "$work/$name.tar.gz")
[ "$expected" = "$actual" ] || fail "$name.tar.gz does not match its SHA-256 ($actual, expected $expected); nothing was installed"

tar -xzf "$work/$name.tar.gz" -C "$work"
mkdir -p "$bin_dir" "$man_dir"
cp "$work/$name/eden" "$bin_dir/eden.new" && chmod 755 "$bin_dir/eden.new" && mv "$bin_dir/eden.new" "$bin_dir/eden"
cp "$work/$name"/share/man/man1/*.1 "$man_dir/"
echo "Installed $("$bin_dir/eden" --version) to $bin_dir/eden"
case ":$PATH:" in
*":$bin_dir:"*) ;;
*) echo "Add $bin_dir to your PATH to run it as 'eden'; completions: eden completions bash|zsh|fish" ;;
esac
