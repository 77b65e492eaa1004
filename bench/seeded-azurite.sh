# Sourced by bench/ab and bench/vs-rclone: one Azurite (disk mode) with one container of random files.
# seed_azurite FERRY FILES BYTES CONTAINER starts the emulator on a free port, exports the development
# account's key and Ferry's job folders, writes FILES files of BYTES random bytes and uploads them with
# `--put-md5`; it sets `work` (a temporary folder, removed at exit with the emulator), `port`, `url`
# (the container) and `azurite` (the emulator's process; `azurite_node` is the node doing the work).
seed_azurite() {
  local ferry=$1 files=$2 bytes=$3 container=$4
  work=$(mktemp -d /tmp/ferry-seeded.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  tools/node/node_modules/.bin/azurite-blob --location "$work/azurite" --blobPort "$port" --silent --loose \
    --skipApiVersionCheck --disableTelemetry >"$work/azurite.log" 2>&1 &
  azurite=$!
  trap 'kill $azurite 2>/dev/null; rm -rf "$work"' EXIT
  sleep 3
  azurite_node=$(pgrep -P $azurite node || echo $azurite)  # the npm shim may have a child doing the work
  # Azurite's published development key (not a secret).
  export AZURE_STORAGE_ACCOUNT=devstoreaccount1
  export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
  export FERRY_JOB_PLAN_LOCATION="$work/plans" FERRY_LOG_LOCATION="$work/logs"
  mkdir -p "$work/data"
  python3 -c "
import os, sys
for i in range(int(sys.argv[1])):
    open(os.path.join(sys.argv[3], f'f{i:06}.bin'), 'wb').write(os.urandom(int(sys.argv[2])))
" "$files" "$bytes" "$work/data"
  url="http://127.0.0.1:$port/devstoreaccount1/$container"
  "$ferry" make "$url" >/dev/null
  "$ferry" copy "$work/data/*" "$url" --recursive --put-md5 --output-level quiet
}
