from benchmarks import profile


def test_a_quick_profile_charges_the_step_to_the_model_s_layers():
    row = profile._row("translate", quick=True)
    shares = {name.removeprefix("% "): value for name, value in row.figures.items()}
    assert {"decoder/lstm_0", "encoder/bilstm_0", "decoder/attention"} <= set(shares)
    assert max(shares, key=shares.get) not in ("other", "optimizer")
    assert 50 < sum(shares.values()) <= 100.001  # the parts shown, of all op time
    assert "MatMul" in row.note
