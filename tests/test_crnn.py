"""musictagger.ml.crnn: our CRNN and the published Choi et al. 2016 architecture."""

from __future__ import annotations

import pytest
import torch

from musictagger.ml.crnn import KerasGRU, build, build_choi2016, hard_sigmoid


def test_crnn_shapes_and_embedding():
    torch.manual_seed(0)
    model = build({"n_labels": 7, "n_mels": 96, "frames": 1366, "conv_widths": [8, 16, 16, 16], "gru_width": 12}).eval()
    x = torch.randn(2, 1, 96, 1366)
    with torch.no_grad():
        logits, embedding = model(x), model.embed(x)
    assert logits.shape == (2, 7) and embedding.shape == (2, 12)
    assert model.steps == 14
    # logits, not probabilities: the output is the linear head of the embedding, nothing squashed after it
    torch.testing.assert_close(logits, embedding @ model.head.weight.T + model.head.bias)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(3.0)
        assert torch.equal(model(x), torch.full((2, 7), 3.0))  # a sigmoid would give 0.95


def test_crnn_trains_a_step():
    torch.manual_seed(0)
    model = build(
        {"n_labels": 3, "n_mels": 32, "frames": 64, "conv_widths": [4, 8], "pools": [[4, 4], [4, 4]], "gru_width": 8}
    )
    x, y = torch.randn(4, 1, 32, 64), torch.randint(0, 2, (4, 3)).float()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_crnn_refuses_pools_that_empty_the_input():
    with pytest.raises(ValueError, match="shrink"):
        build({"n_labels": 2, "n_mels": 16, "frames": 1366})
    with pytest.raises(ValueError, match="pair up"):
        build({"n_labels": 2, "conv_widths": [8, 8]})


def test_choi2016_shapes_and_state_dict_names():
    model = build_choi2016({"n_labels": 50, "output": "logits"}).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 1, 96, 1366))
    assert logits.shape == (1, 50) and model.embed(torch.zeros(1, 1, 96, 1366)).shape == (1, 32)
    state = model.state_dict()
    assert state["time_norm.running_var"].shape == (1440,)
    assert state["convs.3.weight"].shape == (128, 128, 3, 3)
    assert state["gru1.weight_ih"].shape == (96, 128) and state["gru2.weight_hh"].shape == (96, 32)
    assert state["output.weight"].shape == (50, 32)
    with pytest.raises(ValueError):
        build_choi2016({"output": "probabilities"})


def test_keras_gru_applies_reset_before_the_recurrent_matrix():
    """One step by hand: z, r hard-sigmoid; candidate tanh(x·W_h + (r⊙h)·U_h + b_h)."""
    torch.manual_seed(0)
    gru = KerasGRU(3, 2, return_sequences=True)
    x = torch.randn(1, 2, 3)
    out = gru(x)
    W, U, b = gru.weight_ih.detach(), gru.weight_hh.detach(), gru.bias.detach()
    h = torch.zeros(2)
    for step in range(2):
        xs = x[0, step]
        z = hard_sigmoid(W[0:2] @ xs + U[0:2] @ h + b[0:2])
        r = hard_sigmoid(W[2:4] @ xs + U[2:4] @ h + b[2:4])
        candidate = torch.tanh(W[4:6] @ xs + U[4:6] @ (r * h) + b[4:6])
        h = z * h + (1 - z) * candidate
        assert torch.allclose(out[0, step], h, atol=1e-6)
    assert torch.equal(hard_sigmoid(torch.tensor([-3.0, 0.0, 1.0, 3.0])), torch.tensor([0.0, 0.5, 0.7, 1.0]))
