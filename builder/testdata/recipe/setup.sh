#!/bin/sh
# Runs as root through execute_command.
set -eu
mkdir -p /opt/clawimg-test
echo "setup ran as $(id -un) for $PACKER_BUILD_NAME" > /opt/clawimg-test/setup.txt
# Data deleted during the build must not stay in the image's free blocks.
for i in $(seq 1 2000); do echo "scratch-$i-deleted-during-build"; done >/var/tmp/scratch.txt
sync
rm /var/tmp/scratch.txt
