"""Forty-nine realistic wrong solutions, each the solved notebook with one mistake (one entry has
two, on purpose), graded by nbgrader in one batch per module. Each must lose points in
exactly the graded cell of the part that is wrong, and that cell's failure text must name
the problem. Together they show that one mistake costs once, that the tests can fail,
and that the integration cells fail only for what integration alone can show (or when
more than one part is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from batch_grading import grade_batch, new_repo, reason

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Wrong:
    module: str
    name: str
    mistake: str
    edits: tuple  # (grade_id of the solution cell, old text, new text), applied in order
    phrases: dict = field(default_factory=dict)  # failing grade_id -> a phrase its failure text must contain


def wrong(module, name, mistake, edits, **phrases):
    return Wrong(module, name, mistake, tuple(edits), {k.replace("_", "-"): v for k, v in phrases.items()})


L = "03_layers"
WRONG = [
    # -- Module 03: Layer ------------------------------------------------------------------------
    wrong(L, "call_drops_kwargs", "__call__ passes positional arguments only",
          [("layer-base", "return self.forward(x, *args, **kwargs)", "return self.forward(x, *args)")],
          test_layer_base="should pass every argument on to forward"),
    wrong(L, "forward_error_without_name", "the base forward's error does not name the subclass",
          [("layer-base", 'raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")',
            'raise NotImplementedError("forward is not implemented")')],
          test_layer_base_errors="should name the subclass 'Unfinished'"),
    wrong(L, "shared_parameter_list", "Layer.parameters returns one list shared by every call",
          [("layer-base", "class Layer:", "_NO_PARAMETERS = []\n\n\nclass Layer:"),
           ("layer-base", "        return []\n", "        return _NO_PARAMETERS\n")],
          test_layer_base="should return a new list each call"),
    wrong(L, "flat_train", "the given train() edited back to setting only its own flag",
          [("layer-base", "        for layer in _reachable_layers(self):\n            layer.training = mode\n",
            "        self.training = mode\n")],
          test_layer_base="eval() should reach the layer and 4 nested layers"),
    # -- Module 03: Linear creation --------------------------------------------------------------
    wrong(L, "out_in_layout", "weight stored as (out, in), used transposed in forward",
          [("linear", "        shape = (self.in_features, self.out_features)",
            "        shape = (self.out_features, self.in_features)"),
           ("linear", "        output = x.data @ self.weight.data", "        output = x.data @ self.weight.data.T")],
          test_linear_creation="(in_features, out_features) = (784, 256), got Tensor (256, 784)"),
    wrong(L, "zero_init", "all-zero weights",
          [("linear", "            weight = (np.random.standard_normal(shape) * scale).astype(np.float32)",
            "            weight = np.zeros(shape, dtype=np.float32)"),
           ("linear", "            weight = rng.standard_normal(shape, dtype=np.float32)",
            "            weight = np.zeros(shape, dtype=np.float32)")],
          test_linear_creation="all-equal weights (std 0)"),
    wrong(L, "float64_weights", "weights kept in float64 (dtype passed on to Tensor)",
          [("linear", "            weight = (np.random.standard_normal(shape) * scale).astype(np.float32)",
            "            weight = np.random.standard_normal(shape) * scale"),
           ("linear", "        self.weight = Tensor(weight, requires_grad=True)",
            "        self.weight = Tensor(weight, requires_grad=True, dtype=weight.dtype)")],
          test_linear_creation="weight should be float32, got float64"),
    wrong(L, "xavier_scale", "Xavier's scale instead of LeCun's",
          [("linear", "        scale = np.sqrt(1.0 / self.in_features)",
            "        scale = np.sqrt(2.0 / (self.in_features + self.out_features))")],
          test_linear_creation="LeCun scale std sqrt(1/784)"),
    wrong(L, "rng_path_unscaled", "the Generator path forgets the scale",
          [("linear", "            weight *= np.float32(scale)\n", "")],
          test_linear_creation="weights drawn from a Generator should be float32 with std"),
    wrong(L, "parameters_copies", "Linear.parameters returns copies",
          [("linear",
           "        params = [self.weight]\n        if self.bias is not None:\n            params.append(self.bias)\n",
            "        params = [Tensor(self.weight.data.copy(), requires_grad=True)]\n"
            "        if self.bias is not None:\n"
            "            params.append(Tensor(self.bias.data.copy(), requires_grad=True))\n")],
          test_linear_creation="(the objects themselves)"),
    wrong(L, "parameters_wrong_order", "Linear.parameters returns [bias, weight]",
          [("linear", "        if self.bias is not None:\n            params.append(self.bias)\n",
            "        if self.bias is not None:\n            params.insert(0, self.bias)\n")],
          test_linear_creation="got the same objects, wrong order ([bias, weight])"),
    wrong(L, "none_bias_in_parameters", "parameters() lists the bias even when it is None",
          [("linear", "        if self.bias is not None:\n            params.append(self.bias)\n",
            "        params.append(self.bias)\n")],
          test_linear_creation="without a bias parameters() should be [weight], got 2 items: ['Tensor', 'NoneType']"),
    wrong(L, "rejects_numpy_int", "sizes checked with type(value) is int",
          [("linear", "not isinstance(value, numbers.Integral)", "type(value) is not int")],
          test_linear_creation="should accept a NumPy integer"),
    # -- Module 03: Linear forward ---------------------------------------------------------------
    wrong(L, "numpy_array_returned", "forward returns the NumPy array",
          [("linear", "        return Tensor(output, x.requires_grad or self.weight.requires_grad)",
            "        return output")],
          test_linear_forward="should return a Tensor, got ndarray"),
    wrong(L, "bias_forgotten", "forward never adds the bias",
          [("linear", "        if bias is not None:\n            output += bias.data\n", "")],
          test_linear_forward="the bias was not added"),
    wrong(L, "no_input_check", "forward skips _check_input: NumPy's own shape error",
          [("linear", "        self._check_input(x)\n        output", "        output")],
          test_linear_forward_errors="should name the layer, both shapes and both dimensions"),
    wrong(L, "no_requires_grad", "forward drops requires_grad",
          [("linear", "        return Tensor(output, x.requires_grad or self.weight.requires_grad)",
            "        return Tensor(output)")],
          test_linear_forward="should have requires_grad=True"),
    wrong(L, "bias_added_in_place_to_parameter", "forward adds the product into the bias",
          [("linear", "        if bias is not None:\n            output += bias.data\n",
            "        if bias is not None:\n            bias.data += output.reshape(-1, bias.data.size)[0]\n"
            "            output = output + 0\n")],
          test_linear_forward="should leave weight and bias unchanged, got them modified"),
    wrong(L, "weight_array_cached_in_init", "forward multiplies by the weight's array kept from __init__",
          [("linear", "        self.weight = Tensor(weight, requires_grad=True)\n",
            "        self.weight = Tensor(weight, requires_grad=True)\n        self._weight_data = self.weight.data\n"),
           ("linear", "        output = x.data @ self.weight.data", "        output = x.data @ self._weight_data")],
          test_linear_forward="after layer.weight = Tensor(new values) forward should compute with the layer's "
                              "current weight: expected row 0"),
    wrong(L, "cached_weight_copy", "forward multiplies by a copy of the weight taken in __init__",
          [("linear", "        self.weight = Tensor(weight, requires_grad=True)\n",
            "        self.weight = Tensor(weight, requires_grad=True)\n        self._weight = weight.copy()\n"),
           ("linear", "        output = x.data @ self.weight.data", "        output = x.data @ self._weight")],
          test_linear_forward="(the old weight's result: is an array kept from __init__?)"),
    # -- Module 03: Dropout ----------------------------------------------------------------------
    wrong(L, "training_none_is_true", "training=None treated as True",
          [("dropout", "        if training is None:\n            training = self.training\n",
            "        if training is None:\n            training = True\n")],
          test_dropout="training=None with the layer in inference mode"),
    wrong(L, "explicit_false_ignored", "training = training or self.training",
          [("dropout", "        if training is None:\n            training = self.training\n",
            "        training = training or self.training\n")],
          test_dropout="training=False should return"),
    wrong(L, "mask_reused", "mask drawn on the first call and reused",
          [("dropout", "        mask = _keep_mask(x.shape, keep, self.rng)",
            "        if getattr(self, '_mask', None) is None or self._mask.shape != x.shape:\n"
            "            self._mask = _keep_mask(x.shape, keep, self.rng)\n        mask = self._mask")],
          test_dropout="got the same mask twice"),
    wrong(L, "reseeded_every_call", "a generator seeded with 0 created on every call",
          [("dropout", "        mask = _keep_mask(x.shape, keep, self.rng)",
            "        mask = _keep_mask(x.shape, keep, np.random.default_rng(0))")],
          test_dropout="got the same mask twice"),
    wrong(L, "scale_one_over_p", "survivors scaled by 1/p",
          [("dropout", "        output = x.data * np.float32(1.0 / keep)",
           "        output = x.data * np.float32(1.0 / self.p)")],
          test_dropout="survivors should be x / (1 - p)"),
    wrong(L, "dropout_in_place", "dropout writes into x and returns it",
          [("dropout", "        output = x.data * np.float32(1.0 / keep)\n        output *= mask\n"
                       "        return Tensor(output, requires_grad=x.requires_grad)",
            "        x.data *= np.float32(1.0 / keep)\n        x.data *= mask\n        return x")],
          test_dropout="got the input object itself"),
    wrong(L, "p_one_not_special", "no special case for p = 1: division by zero",
          [("dropout", "        if self.p == 1.0:\n            return Tensor(np.zeros(x.shape, dtype=np.float32), "
                       "requires_grad=x.requires_grad)\n", "")],
          test_dropout="Dropout(1.0) in training should give zeros, got ZeroDivisionError"),
    wrong(L, "dropout_accepts_arrays", "no Tensor check in Dropout.forward",
          [("dropout", '        if not isinstance(x, Tensor):\n            raise TypeError(f"{self!r} takes a Tensor, '
                       'got {type(x).__name__}")\n', "")],
          test_dropout_errors="Dropout(0.5).forward(ndarray) should raise TypeError"),
    wrong(L, "dropout_error_without_type", "Dropout's TypeError does not name the type received",
          [("dropout", 'raise TypeError(f"{self!r} takes a Tensor, got {type(x).__name__}")',
            'raise TypeError("Dropout takes a Tensor")')],
          test_dropout_errors="should name the type received (ndarray)"),
    # -- Module 03: Sequential -------------------------------------------------------------------
    wrong(L, "parameters_duplicated", "shared layers' tensors listed twice",
          [("sequential", "                if id(tensor) not in seen:\n                    seen.add(id(tensor))\n"
                          "                    params.append(tensor)\n", "                params.append(tensor)\n")],
          test_sequential="a layer used twice should count its tensors once"),
    wrong(L, "no_list_argument", "Sequential([a, b]) not accepted",
          [("sequential", "        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):\n"
                          "            layers = layers[0]\n", "")],
          test_sequential="Sequential given a list of layers should hold them"),
    wrong(L, "calls_forward_method", "children called through .forward",
          [("sequential", "            x = layer(x)", "            x = layer.forward(x)")],
          test_sequential="a plain function as a child should run, got AttributeError"),
    wrong(L, "forward_bypasses_call", "children called through getattr(layer, 'forward', layer)",
          [("sequential", "            x = layer(x)", '            x = getattr(layer, "forward", layer)(x)')],
          test_sequential="each child should be called as layer(x), which runs its __call__: expected 1 call"),
    wrong(L, "keeps_callers_list", "Sequential keeps the list it was given",
          [("sequential", "        self.layers = _check_callable_layers(layers)",
            "        _check_callable_layers(layers)\n"
            "        self.layers = layers if isinstance(layers, list) else list(layers)")],
          test_sequential="the caller's list should still hold 2 layers, got 3"),
    wrong(L, "output_not_chained", "each child gets the original input",
          [("sequential", "            x = layer(x)\n        return x", "            layer(x)\n        return x")],
          test_sequential="should give [9.0, 15.0]"),
    wrong(L, "nested_parameters_skipped", "a nested Sequential's parameters are skipped",
          [("sequential", '            if get_parameters is None:\n',
            '            if get_parameters is None or isinstance(layer, Sequential):\n')],
          test_sequential="nested Sequentials should contribute their parameters"),
    # -- Module 03: only integration can show these ----------------------------------------------
    wrong(L, "flat_sequential_train", "Sequential.train overridden to set only its own flag",
          [("sequential", '    def append(self, layer) -> "Sequential":',
            '    def train(self, mode=True):\n        self.training = bool(mode)\n        return self\n\n'
            '    def append(self, layer) -> "Sequential":')],
          test_integration="model.eval() should switch off both Dropouts inside"),
    wrong(L, "two_mistakes", "bias forgotten AND training=None treated as True: two parts wrong",
          [("linear", "        if bias is not None:\n            output += bias.data\n", ""),
           ("dropout", "        if training is None:\n            training = self.training\n",
            "        if training is None:\n            training = True\n")],
          test_linear_forward="the bias was not added", test_dropout="training=None with the layer in inference mode",
          test_integration="expected at most 1 part falling short, got 2"),
    # -- Module 01 ---------------------------------------------------------------------------------
    wrong("01_tensor", "matmul_with_dot", "np.dot instead of matmul",
          [("tensor-class", "            product = np.matmul(self.data, other_array)",
            "            product = np.dot(self.data, other_array)")],
          test_matmul="(5, 2, 3) @ (5, 3, 4) with Tensor @ Tensor should give shape (5, 2, 4), got (5, 2, 5, 4)"),
    wrong("01_tensor", "reshape_copies", "reshape copies the numbers",
          [("tensor-class", "            reshaped = self.data.reshape(shape)",
           "            reshaped = np.array(self.data).reshape(shape)")],
          test_shape="reshape should share the numbers"),
    wrong("01_tensor", "sum_returns_numpy", "sum returns NumPy's result unwrapped",
          [("tensor-class", "        return self._result(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)))",
            "        return self.data.sum(axis=axis, keepdims=keepdims)")],
          test_reductions="sum() should return a Tensor, got float32"),
    wrong("01_tensor", "matmul_vague_error", "the shape error names the shapes but not the inner dimensions",
          [("tensor-class", "            raise ValueError(_matmul_error(self.shape, other_array.shape)) from error",
            '            raise ValueError(f"shapes {self.shape} and {other_array.shape} do not match") from error')],
          test_matmul_errors="after the shapes the error should name the inner dimensions 128 and 256"),
    wrong("01_tensor", "transpose_reverses_all_axes", "transpose ignores dim0/dim1 and reverses every axis",
          [("tensor-class",
           "        return Tensor(np.swapaxes(self.data, dim0, dim1), requires_grad=self.requires_grad)",
            "        return Tensor(self.data.T, requires_grad=self.requires_grad)")],
          test_shape="transpose() of (2, 3, 4) should swap the last two: (2, 4, 3), got (4, 3, 2)"),
    wrong("01_tensor", "bools_rejected", "booleans refused as non-numeric",
          [("tensor-class", '    if array.dtype.kind not in "biuf":', '    if array.dtype.kind not in "iuf":')],
          test_creation="booleans count as numbers"),
    # -- Module 02 ---------------------------------------------------------------------------------
    wrong("02_activations", "naive_sigmoid", "sigmoid as 1 / (1 + exp(-x))",
          [("sigmoid", "        return Tensor(np.where(data >= 0, one / (one + z), z / (one + z)))",
            "        return Tensor(one / (one + np.exp(-data)))")],
          test_sigmoid="Sigmoid of large inputs should not warn"),
    wrong("02_activations", "naive_softmax", "softmax without subtracting the maximum",
          [("softmax", "        exps = np.exp(data - data.max(axis=self.dim, keepdims=True))",
           "        exps = np.exp(data)")],
          test_softmax="should not warn"),
    wrong("02_activations", "relu_in_place", "ReLU writes into its input",
          [("relu", "        return Tensor(np.maximum(_float32(x), 0))",
            "        data = _float32(x)\n        np.maximum(data, 0, out=data)\n        return Tensor(data)")],
          test_relu="should return a new array and leave its input unchanged"),
    wrong("02_activations", "relu_skips_type_check", "ReLU reads x.data without the given helper's check",
          [("relu", "        return Tensor(np.maximum(_float32(x), 0))",
            "        return Tensor(np.maximum(x.data, 0))")],
          test_relu_errors="ReLU of a NumPy array should raise TypeError, got no error"),
    wrong("02_activations", "gelu_tanh_approximation", "GELU with the tanh approximation",
          [("gelu", "        return Tensor(half * data * (np.float32(1) + _erf(data * np.float32(1 / math.sqrt(2)))))",
            "        return Tensor(half * data * (np.float32(1) + np.tanh(np.float32(0.7978846) * "
            "(data + np.float32(0.044715) * data * data * data))))")],
          test_gelu="GELU should be x·Φ(x) within 1e-5"),
]
BY_NAME = {w.name: w for w in WRONG}
MODULES = sorted({w.module for w in WRONG})


def build(root, slug):
    from factory import edit, solved

    def submissions():
        base = solved(root, slug)
        notebooks = {"reference": base}
        for item in (w for w in WRONG if w.module == slug):
            notebook = base
            for grade_id, old, new in item.edits:
                notebook = edit(notebook, grade_id, old, new)
            notebooks[item.name] = notebook
        return notebooks

    return submissions


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{module: {submission id: GradeReport}}, one generate and one autograde per module."""
    root = new_repo(tmp_path_factory.mktemp("wrong"))
    return {slug: grade_batch(root, slug, build(root, slug)) for slug in MODULES}


def test_the_suite_is_large_enough():
    assert len(WRONG) >= 25 and len(BY_NAME) == len(WRONG)
    assert sum(w.module == "03_layers" for w in WRONG) >= 25


@pytest.mark.parametrize("slug", MODULES)
def test_the_reference_in_each_batch_scores_full_marks(graded, slug):
    report = graded[slug]["reference"]
    assert report.graded and report.full_marks, [(c.grade_id, reason(c)) for c in report.cells if not c.passed]


@pytest.mark.parametrize("name", list(BY_NAME))
def test_a_mistake_costs_points_only_in_its_own_cell_and_says_why(graded, name):
    item = BY_NAME[name]
    report = graded[item.module][name]
    assert report.graded, report.flags
    failed = {cell.grade_id: cell for cell in report.cells if not cell.passed}
    assert set(failed) == set(item.phrases), {g: reason(c) for g, c in failed.items()}
    for grade_id, phrase in item.phrases.items():
        assert failed[grade_id].score == 0
        assert phrase in reason(failed[grade_id]), (grade_id, reason(failed[grade_id]))
    lost = sum(cell.max_score for cell in failed.values())
    assert report.score == report.max_score - lost == 100 - lost
