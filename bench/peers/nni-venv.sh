# Sourced by the NNI peer harnesses: makes sure NNI 3.0 and its PyTorch stack are in the
# throw-away virtual environment "$venv" (from PyPI; minutes and ~6 GB the first time).
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import nni" 2>/dev/null; then
    echo "[peers] installing NNI 3.0 and its PyTorch stack into $venv (PyPI; minutes, ~6 GB)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet nni==3.0 torch==2.15.0 pytorch-lightning==2.6.6 \
        torchmetrics==1.9.0 'filelock<3.12' 'typeguard<4.1.3'
fi
