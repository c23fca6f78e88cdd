"""Ready-made Bayesian networks for the lesson page (the slides' examples), with a suggested query."""

from __future__ import annotations

from dataclasses import dataclass, field


from genlab.errors import GenlabError
from genlab.bayesnet.network import BayesianNetwork


# --------------------------------------------------------------------------- #
# Presets
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Preset:
    """A ready-made network with a short explanation and a suggested query P(query | evidence)."""

    name: str
    description: str
    variables: dict[str, list[str]]
    edges: list[tuple[str, str]]
    cpts: dict[str, list[list[float]]]
    query: str
    evidence: dict[str, str] = field(default_factory=dict)

    def network(self) -> BayesianNetwork:
        """The preset as a :class:`BayesianNetwork`."""
        return BayesianNetwork(self.variables, self.edges, self.cpts)


_NY = ["no", "yes"]

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            name="VAE: z → x",
            description=(
                "The VAE's generative model as a two-node network: first draw a latent code "
                "z ~ p(z), then an observation x ~ p(x | z). Here z has 3 states and x has 4, so "
                "everything can be enumerated. In the real VAE z is continuous (z ~ N(0, I)) and x is "
                "an image whose p(x | z) is the decoder network. The data likelihood is the marginal "
                "p(x) = Σ_z p(z) p(x | z) (an integral over z in the VAE): that is the quantity the "
                "ELBO bounds from below, log p(x) ≥ E_q(z|x)[log p(x | z)] − KL(q(z | x) ‖ p(z)). "
                "Asking for P(z | x) below gives the exact posterior that the VAE's encoder q(z | x) "
                "approximates. Note: with only z → x there is no independence assumption, so the "
                "parameter counts with and without the graph are equal."
            ),
            variables={"z": ["z1", "z2", "z3"], "x": ["x1", "x2", "x3", "x4"]},
            edges=[("z", "x")],
            cpts={
                "z": [[0.5, 0.3, 0.2]],
                "x": [
                    [0.7, 0.2, 0.05, 0.05],
                    [0.1, 0.6, 0.2, 0.1],
                    [0.05, 0.15, 0.3, 0.5],
                ],
            },
            query="z",
            evidence={"x": "x2"},
        ),
        Preset(
            name="chain A → B → C",
            description=(
                "A causal chain: A influences C only through B. P(A,B,C) = P(A) P(B | A) P(C | B) — "
                "C's table does not mention A. So A and C are dependent, but independent given B "
                "(observing B blocks the path): compare P(C | B=1) with P(C | A=0, B=1)."
            ),
            variables={"A": ["0", "1"], "B": ["0", "1"], "C": ["0", "1"]},
            edges=[("A", "B"), ("B", "C")],
            cpts={
                "A": [[0.6, 0.4]],
                "B": [[0.8, 0.2], [0.3, 0.7]],
                "C": [[0.9, 0.1], [0.25, 0.75]],
            },
            query="C",
            evidence={"A": "1"},
        ),
        Preset(
            name="common cause (fork)",
            description=(
                "A common cause: a hot day makes both ice-cream sales and sunburn more likely. Ice "
                "cream and sunburn are correlated (observing one changes the probability of the other) "
                "without causing each other; once the common cause is observed they become "
                "independent: P(Sunburn | Ice cream, Hot day) = P(Sunburn | Hot day)."
            ),
            variables={"Hot day": _NY, "Ice cream": _NY, "Sunburn": _NY},
            edges=[("Hot day", "Ice cream"), ("Hot day", "Sunburn")],
            cpts={
                "Hot day": [[0.7, 0.3]],
                "Ice cream": [[0.8, 0.2], [0.2, 0.8]],
                "Sunburn": [[0.9, 0.1], [0.4, 0.6]],
            },
            query="Sunburn",
            evidence={"Ice cream": "yes"},
        ),
        Preset(
            name="v-structure (collider, explaining away)",
            description=(
                "Two independent causes of one effect: a burglary or an earthquake can set off the "
                "alarm. Burglary and Earthquake are independent — until the alarm is observed. Given "
                "Alarm=yes, also learning Earthquake=yes *lowers* the probability of a burglary: the "
                "earthquake explains the alarm away. Compare P(Burglary | Alarm=yes) with "
                "P(Burglary | Alarm=yes, Earthquake=yes)."
            ),
            variables={"Burglary": _NY, "Earthquake": _NY, "Alarm": _NY},
            edges=[("Burglary", "Alarm"), ("Earthquake", "Alarm")],
            cpts={
                "Burglary": [[0.9, 0.1]],
                "Earthquake": [[0.8, 0.2]],
                "Alarm": [[0.95, 0.05], [0.4, 0.6], [0.1, 0.9], [0.05, 0.95]],
            },
            query="Burglary",
            evidence={"Alarm": "yes"},
        ),
        Preset(
            name="sprinkler/rain/wet grass",
            description=(
                "The classic example (Russell & Norvig; K. Murphy): cloudy weather makes rain likely "
                "and the sprinkler unlikely; either one wets the grass. The graph saves parameters: "
                "1 + 2 + 2 + 4 = 9 free numbers instead of 2⁴ − 1 = 15 for a full joint table. "
                "Seeing wet grass makes rain more likely (P(Rain=yes | Wet grass=yes) ≈ 0.708)."
            ),
            variables={"Cloudy": _NY, "Sprinkler": _NY, "Rain": _NY, "Wet grass": _NY},
            edges=[("Cloudy", "Sprinkler"), ("Cloudy", "Rain"), ("Sprinkler", "Wet grass"), ("Rain", "Wet grass")],
            cpts={
                "Cloudy": [[0.5, 0.5]],
                "Sprinkler": [[0.5, 0.5], [0.9, 0.1]],
                "Rain": [[0.8, 0.2], [0.2, 0.8]],
                "Wet grass": [[1.0, 0.0], [0.1, 0.9], [0.1, 0.9], [0.01, 0.99]],
            },
            query="Rain",
            evidence={"Wet grass": "yes"},
        ),
        Preset(
            name="naive Bayes",
            description=(
                "Naive Bayes: a class variable (is this e-mail spam?) is the only parent of every "
                "feature (does the mail contain 'free', 'money', 'meeting'?). The features are assumed "
                "independent given the class, so P(Spam, F1..F3) = P(Spam) Π_i P(F_i | Spam): "
                "1 + 2 + 2 + 2 = 7 parameters instead of 15, and the count grows linearly, not "
                "exponentially, with the number of features. Classify with P(Spam | features)."
            ),
            variables={"Spam": _NY, "Free": _NY, "Money": _NY, "Meeting": _NY},
            edges=[("Spam", "Free"), ("Spam", "Money"), ("Spam", "Meeting")],
            cpts={
                "Spam": [[0.6, 0.4]],
                "Free": [[0.9, 0.1], [0.3, 0.7]],
                "Money": [[0.95, 0.05], [0.4, 0.6]],
                "Meeting": [[0.6, 0.4], [0.95, 0.05]],
            },
            query="Spam",
            evidence={"Free": "yes", "Money": "yes"},
        ),
        Preset(
            name="empty graph (build your own)",
            description=(
                "Three binary variables and no edges: with no edges the factorization says they are "
                "all independent, P(A,B,C) = P(A) P(B) P(C) — 3 parameters instead of 7. Add edges "
                "and variables below to build your own network."
            ),
            variables={"A": ["0", "1"], "B": ["0", "1"], "C": ["0", "1"]},
            edges=[],
            cpts={"A": [[0.5, 0.5]], "B": [[0.7, 0.3]], "C": [[0.2, 0.8]]},
            query="A",
            evidence={},
        ),
    ]
}

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


def preset_network(name: str) -> BayesianNetwork:
    """The network of the preset called ``name`` (one of :data:`PRESET_NAMES`)."""
    if name not in PRESETS:
        raise GenlabError(f"unknown preset {name!r}; choose one of: {'; '.join(PRESET_NAMES)}")
    return PRESETS[name].network()
