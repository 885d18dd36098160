from benchmarks import tree_lstm


def test_quick_rows_compare_all_three_ways_on_both_length_ranges():
    rows = tree_lstm.run(quick=True)
    assert [r.case.split(":")[1].strip() for r in rows] == [
        "Tree-LSTM vs LSTM", "batched vs per-tree"] * 2  # fmt: skip
    versus, per_tree = rows[0].figures, rows[1].figures
    assert versus["tree/LSTM time"] == versus["tree step s"] / versus["LSTM step s"]
    assert per_tree["speed-up"] > 0 and rows[1].met is (per_tree["speed-up"] >= 20)
    assert versus["tree nodes/s"] > versus["tree tokens/s"]  # inner nodes count too
