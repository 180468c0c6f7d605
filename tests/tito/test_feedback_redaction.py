"""Feedback shows what each hidden check found, never the check's code."""

from __future__ import annotations

from tito.grading.feedback import hidden_checks, redact_hidden_tests

CELL = '''def test_unit_dropout():
    assert dropout.p == 0.5, f"p should be 0.5, got {dropout.p}"
    ### BEGIN HIDDEN TESTS
    assert layer.forward(x) is x, "hidden check: training=None must follow the layer's mode"
    assert not np.array_equal(layer.forward(x).data, x.data), f"hidden check: training mode must drop, got {x}"
    try:
        Dropout(float("nan"))
    except ValueError:
        pass
    else:
        raise AssertionError("hidden check: Dropout(nan) should raise ValueError")
    ### END HIDDEN TESTS
    print("✅ Dropout")
test_unit_dropout()'''


def _error(message: str) -> dict:
    return {"output_type": "error", "ename": "AssertionError", "evalue": message,
            "traceback": ["Traceback ...", "    assert layer.forward(x) is x, ...", f"❌ test_unit_dropout: {message}"]}


def test_each_hidden_check_is_listed_by_its_message():
    block = CELL.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
    assert hidden_checks(block) == ["hidden check: training=None must follow the layer's mode",
                                    "hidden check: training mode must drop, got …",
                                    "hidden check: Dropout(nan) should raise ValueError"]


def test_a_passing_cell_shows_every_hidden_check_passed_and_no_code():
    source, outputs = redact_hidden_tests(CELL, [{"output_type": "stream", "name": "stdout", "text": "✅ Dropout\n"}])
    assert "layer.forward(x) is x" not in source and "float(\"nan\")" not in source
    assert source.count("✅ hidden check") == 3 and "print(\"✅ Dropout\")" in source
    assert outputs[0]["text"] == "✅ Dropout\n"


def test_a_failed_hidden_check_is_marked_and_the_rest_not_reached():
    message = "hidden check: training mode must drop, got Tensor([1, 2])"
    source, outputs = redact_hidden_tests(CELL, [_error(message)])
    assert "✅ hidden check: training=None must follow the layer's mode" in source
    assert "❌ hidden check: training mode must drop, got …   <- failed" in source
    assert "· hidden check: Dropout(nan) should raise ValueError   (not reached)" in source
    assert outputs[0]["traceback"] == [f"❌ test_unit_dropout: {message}"], "no traceback quoting hidden code"


def test_a_visible_failure_leaves_the_hidden_checks_not_reached():
    source, _ = redact_hidden_tests(CELL, [_error("p should be 0.5, got 0.3")])
    assert source.count("(not reached)") == 3


def test_printed_hidden_code_is_scrubbed_from_outputs():
    leak = {"output_type": "stream", "name": "stdout",
            "text": 'debug\n❌ see:    assert layer.forward(x) is x, "hidden check: training=None\n✅ Dropout\n'}
    drawing = {"output_type": "display_data", "data": {"text/plain": "Dropout(float(\"nan\"))"}}
    _, outputs = redact_hidden_tests(CELL, [leak, drawing])
    assert outputs == [{"output_type": "stream", "name": "stdout",
                        "text": "[removed: it quotes the hidden checks]\n✅ Dropout\n"}]


def test_a_failure_message_is_cut_short():
    _, outputs = redact_hidden_tests(CELL, [_error("hidden check: training mode must drop, got " + "x" * 5000)])
    assert max(len(line) for line in outputs[0]["traceback"]) <= 200
