#!/usr/bin/env bash
# The main job: validate the example guest with the example config.
# (Grows into a real QEMU guest launch with the launcher.)
set -euo pipefail
seclabel=${1:-seclabel}
here=$(cd "$(dirname "$0")" && pwd)
echo "\$ seclabel --config examples/seclabel.toml validate examples/guest.xml"
"$seclabel" --config "$here/seclabel.toml" validate "$here/guest.xml"
