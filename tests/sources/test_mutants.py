"""The package tests can fail: each mutant below breaks one behaviour of the exported
package, and the matching test folder must catch it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

MUTANTS = {
    "tensor: reflected subtraction reversed": (
        "tensor.py", "        return self._result(self._operand(other) - self.data, other)",
        "        return self._result(self.data - self._operand(other), other)", "01_tensor"),
    "tensor: copies float32 arrays": (
        "tensor.py", "            self.data = data  # already float32: share it, no copy",
        "            self.data = data.copy()", "01_tensor"),
    "tensor: vague matmul error": (
        "tensor.py", "            raise ValueError(_matmul_error(self.shape, other_array.shape)) from error",
        "            raise", "01_tensor"),
    "activations: naive softmax": (
        "activations.py", "        exps = np.exp(data - data.max(axis=self.dim, keepdims=True))",
        "        exps = np.exp(data)", "02_activations"),
    "activations: overflowing sigmoid": (
        "activations.py", "        return Tensor(np.where(data >= 0, one / (one + z), z / (one + z)))",
        "        return Tensor(one / (one + np.exp(-data)))", "02_activations"),
    "layers: dropout scales by 1/p": (
        "layers.py", "        output = x.data * np.float32(1.0 / keep)",
        "        output = x.data * np.float32(1.0 / self.p)", "03_layers"),
    "layers: no bias": (
        "layers.py", "            output += bias.data", "            pass", "03_layers"),
    "layers: parameters counted twice": (
        "layers.py", "                if id(tensor) not in seen:", "                if True:", "03_layers"),
    "layers: eval does not reach children": (
        "layers.py", "        for layer in _reachable_layers(self):", "        for layer in [self]:", "03_layers"),
    "layers: eval misses layers held in dicts": (
        "layers.py", "        elif isinstance(item, dict):", "        elif False:", "03_layers"),
    "layers: dropout reuses its first mask": (
        "layers.py", "        mask = _keep_mask(x.shape, keep, self.rng)",
        "        mask = self.__dict__.setdefault('_mask', _keep_mask(x.shape, keep, self.rng))", "03_layers"),
    "layers: shape error without the weight's shape": (
        "layers.py", '                f"{self!r}: cannot multiply {shape} @ {weight}: "',
        '                f"{self!r}: cannot multiply {shape}: "', "03_layers"),
    "tensor: view copies": (
        "tensor.py", "        if self.data.size and not np.may_share_memory(viewed, self.data):",
        "        viewed = viewed.copy()\n        if False:", "01_tensor"),
    "tensor: masked_fill writes into the tensor": (
        "tensor.py", "        return Tensor._wrap(np.where(mask_array, fill, self.data), self.requires_grad)",
        "        np.copyto(self.data, fill, where=mask_array)\n        return self", "01_tensor"),
    "activations: GELU via the tanh approximation": (
        "activations.py",
        "        return Tensor(half * data * (np.float32(1) + _erf(data * np.float32(1 / math.sqrt(2)))))",
        "        return Tensor(half * data * (1 + np.tanh(0.7978845608 * (data + 0.044715 * data ** 3))))",
        "02_activations"),
    "layers: Xavier instead of LeCun": (
        "layers.py", "        scale = np.sqrt(1.0 / self.in_features)",
        "        scale = np.sqrt(2.0 / (self.in_features + self.out_features))", "03_layers"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_caught(name, tmp_path):
    filename, old, new, tests = MUTANTS[name]
    shutil.copytree(REPO / "tinytorch", tmp_path / "tinytorch", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "tinytorch" / "core" / filename
    text = target.read_text()
    assert text.count(old) == 1, f"mutation point not found: {old!r}"
    target.write_text(text.replace(old, new))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                             "--rootdir", str(REPO), str(REPO / "tests" / tests)],
                            cwd=tmp_path, env=env, capture_output=True, text=True)  # cwd: first on sys.path
    assert result.returncode == 1, f"{name} survived:\n{result.stdout[-2000:]}"
