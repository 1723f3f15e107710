# Sourced by the tests that read YAML: sets $py to a python3 that can
# import yaml (Debian's python3-yaml, which make deps and make check
# install, when the one on PATH lacks it), or skips the test (exit 77).
py=python3
$py -c 'import yaml' 2>/dev/null || py=/usr/bin/python3
$py -c 'import yaml' 2>/dev/null ||
    { echo "skipped: python3 cannot import yaml (apt-get install python3-yaml)"; exit 77; }
