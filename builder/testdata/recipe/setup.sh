#!/bin/sh
# Runs as root through execute_command.
set -eu
mkdir -p /opt/clawimg-test
echo "setup ran as $(id -un) for $PACKER_BUILD_NAME" > /opt/clawimg-test/setup.txt
