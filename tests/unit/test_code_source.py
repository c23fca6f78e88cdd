"""genlab/code_source.py: source text for cache keys, without ast."""
import ast

from genlab.code_source import code_source


class _Base:
    pass


class _Model(_Base):
    scale = 2

    def __init__(self):
        self.x = 1

    @staticmethod
    def helper(value):
        return value * 3

    def forward(self, y):
        return y + self.x


def _train(model):
    return model.forward(1)


def test_class_source_has_its_functions_in_order_and_no_ast(monkeypatch):
    def no_parse(*args, **kwargs):
        raise AssertionError("ast.parse called")

    monkeypatch.setattr(ast, "parse", no_parse)
    text = code_source(_Model, _train)
    assert text.startswith("class _Model(_Base)")
    assert text.index("def __init__") < text.index("def helper") < text.index("def forward") < text.index("def _train")


def test_a_changed_function_changes_the_source():
    def other(model):
        return model.forward(2)

    assert code_source(_Model, _train) != code_source(_Model, other)


def test_no_source_gives_empty_text():
    assert code_source(len) == ""


def test_trainers_of_cached_models_train_inside_no_grad():
    """The first caller of a cached model may be inside torch.no_grad() (e.g. a scoring function):
    its training still gets gradients."""
    import torch

    from genlab.classifier import train_classifier
    from genlab.editing.conditional_vae import ConditionalVAEConfig, train_conditional_vae

    images = torch.rand(20, 1, 8, 8)
    with torch.no_grad():
        train_classifier(images, torch.arange(20) % 10, epochs=1, batch_size=10)
        train_conditional_vae(images, ConditionalVAEConfig(steps=2, batch_size=4, hidden=8, latent_dim=2))
